"""Credentials never reach output or logs: index URLs often carry tokens."""

from __future__ import annotations

import re

_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]+)(?::(?P<password>[^@/\s]*))?@"
)
_TOKEN_PARAM = re.compile(r"(?i)(?P<key>[?&](?:token|access_token|api_key|apikey|password|auth)=)[^&\s]+")


def redact(text: str) -> str:
    """Replace the secret parts of URLs: `https://user:pw@host` → `https://user:****@host`;
    a bare token as user (`https://TOKEN@host`) is hidden too."""

    def userinfo(m: re.Match[str]) -> str:
        if m.group("password") is not None:
            return f"{m.group('scheme')}{m.group('user')}:****@"
        return f"{m.group('scheme')}****@"

    return _TOKEN_PARAM.sub(lambda m: m.group("key") + "****", _USERINFO.sub(userinfo, text))
