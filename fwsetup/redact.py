"""Credentials never reach output or logs: index URLs often carry tokens.

Applied to every string that leaves fwsetup (terminal text, JSON, logs, error messages). A URL
is recognised with one slash or two after its scheme (a URL that went through a file-path
parser has lost one), its userinfo runs to the last `@` of the authority (passwords may hold
`@`), and secrets in query parameters, netrc lines and Authorization headers are hidden too.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*:/{1,2})(?P<user>[^:@/\s]+)(?::(?P<password>[^/\s]*))?@(?=[^@/\s]*(?:[/\s]|$))"
)
_TOKEN_PARAM = re.compile(
    r"(?i)(?P<key>[?&;](?:token|access_token|private_token|api_key|apikey|password|passwd|auth|secret|"
    r"client_secret|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature)=)[^&#\s]+"
)
_NETRC = re.compile(r"(?i)(?P<key>\b(?:password|passwd)\s+)\S+")
_HEADER = re.compile(r"(?i)(?P<key>\bauthorization:\s*(?:basic|bearer|token)\s+)\S+")


def redact(text: str) -> str:
    """Replace the secret parts of URLs: `https://user:pw@host` → `https://user:****@host`;
    a bare token as user (`https://TOKEN@host`) is hidden too."""

    def userinfo(m: re.Match[str]) -> str:
        if m.group("password") is not None:
            return f"{m.group('scheme')}{m.group('user')}:****@"
        return f"{m.group('scheme')}****@"

    text = _USERINFO.sub(userinfo, text)
    for pattern in (_TOKEN_PARAM, _NETRC, _HEADER):
        text = pattern.sub(lambda m: m.group("key") + "****", text)
    return text


def redact_data(value: Any) -> Any:
    """`redact` on every string of JSON-like data (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value
