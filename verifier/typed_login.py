"""What the audit keeps of a login as typed when it names no account: never the digits people type after it.

People type their PIN and code into the login field ("jdupont1234123456", "jdupont 4821 123456"). A login that
matches an account is recorded as it is (it is that account's name); one that does not is cut down to its login
part before it reaches an audit row, a log line or an administration page: whatever follows the first space, and
a run of :data:`DIGITS_DROPPED` or more digits at its end (a PIN has 4 to 6 digits), are dropped. What is left is
kept only when it is a well-formed login; otherwise nothing is kept. Every front end (the booklet's login, the
RADIUS server) goes through :func:`login_part`, inside the verifier.

>>> login_part("jdupont1234123456")
TypedLogin(login='jdupont', trimmed=True)
>>> login_part("jdupont 4821 123456"), login_part("prof.3a")
(TypedLogin(login='jdupont', trimmed=True), TypedLogin(login='prof.3a', trimmed=False))
>>> login_part("4821123456")
TypedLogin(login=None, trimmed=True)
"""

from __future__ import annotations

import re
from typing import NamedTuple

from verifier.accounts import LOGIN_RE

#: a run of this many digits or more at the end of an unknown login is taken for a PIN (and a code) and dropped
DIGITS_DROPPED = 4
_TRAILING_DIGITS = re.compile(r"[0-9]{%d,}$" % DIGITS_DROPPED)  # noqa: UP031 - a regex's own braces
#: what is looked at of a typed value (the login field takes 64 characters; the rest is never kept anyway)
_LONGEST = 256
#: the note an audit row gets when the login typed was cut down
TRIMMED_NOTE = "login as typed not kept whole (digits or words after it dropped)"


class TypedLogin(NamedTuple):
    """The login part of what was typed (None when nothing in it is a login) and whether anything was dropped."""

    login: str | None
    trimmed: bool


def login_part(typed: object) -> TypedLogin:
    """The login part of ``typed`` for the audit of an attempt on no known account (see the module docstring)."""
    if not isinstance(typed, str):
        return TypedLogin(None, False)
    text = typed[:_LONGEST].strip()
    words = text.split()
    part = words[0] if words else ""
    trimmed = len(words) > 1
    digits = _TRAILING_DIGITS.search(part)
    if digits:
        part, trimmed = part[:digits.start()], True
    if part and LOGIN_RE.match(part):
        return TypedLogin(part, trimmed)
    return TypedLogin(None, trimmed)
