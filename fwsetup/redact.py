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

_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_AUTHORITY_END = re.compile(r"[/\s]")  # one character class: a search for it never backtracks
_TOKEN_PARAM = re.compile(
    r"(?i)(?P<key>[?&;](?:token|access_token|private_token|api_key|apikey|password|passwd|auth|secret|"
    r"client_secret|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature)=)[^&#\s]+"
)
# a netrc `password VALUE`; not a path's last part (`/etc/passwd for` kept its next word)
_NETRC = re.compile(r"(?i)(?<![/\\.\w-])(?P<key>(?:password|passwd)\s+)\S+")
_HEADER = re.compile(r"(?i)(?P<key>\bauthorization:\s*(?:basic|bearer|token)\s+)\S+")


def redact(text: str) -> str:
    """Replace the secret parts of URLs: `https://user:pw@host` → `https://user:****@host`;
    a bare token as user (`https://TOKEN@host`) is hidden too. Linear in the length of the text:
    it runs on every string fwsetup prints, a 5 MB GPU name from a `--system` report included."""
    text = _hide_userinfo(text)
    for pattern in (_TOKEN_PARAM, _NETRC, _HEADER):
        text = pattern.sub(lambda m: m.group("key") + "****", text)
    return text


def _hide_userinfo(text: str) -> str:
    """Each `scheme:/` or `scheme://`, then its authority (up to a `/`, a space or the end) up to
    its last `@` is the userinfo: `user:****` when it names a user, else `****`. A scanner, not a
    regular expression: a pattern that starts with a scheme retries at every letter of a long
    word, and its time grows with the square of the word's length. Each character is looked at a
    bounded number of times: the scheme runs and authorities of successive `:/` do not overlap."""
    if "@" not in text:
        return text
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces
    colon = text.find(":/")
    while colon != -1:
        authority = colon + (3 if text.startswith("//", colon + 1) else 2)
        end_match = _AUTHORITY_END.search(text, authority)
        end = end_match.start() if end_match else len(text)
        at = text.rfind("@", authority, end)
        if at > authority and _has_scheme(text, done, colon):
            user, sep, _ = text[authority:at].partition(":")
            hidden = f"{user}:****" if sep and user and "@" not in user else "****"
            pieces += [text[done:authority], hidden, "@"]
            done = at + 1
        colon = text.find(":/", max(colon + 1, done))
    return "".join([*pieces, text[done:]])


def _has_scheme(text: str, done: int, colon: int) -> bool:
    """A scheme ends at `colon`: a letter, then letters, digits, `+`, `.` or `-` (RFC 3986)."""
    start = colon
    while start > done and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    return any(c.isalpha() and c.isascii() for c in text[start:colon])


def redact_data(value: Any) -> Any:
    """`redact` on every string of JSON-like data (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value
