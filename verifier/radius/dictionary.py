"""The few RFC 2865/2869/3579 attributes jeton-radius reads or writes, as a pyrad dictionary."""

from __future__ import annotations

import io
from functools import cache

from pyrad.dictionary import Dictionary

USER_NAME, USER_PASSWORD, REPLY_MESSAGE, STATE, CALLING_STATION_ID, MESSAGE_AUTHENTICATOR = 1, 2, 18, 24, 31, 80

_TEXT = """
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string encrypt=1
ATTRIBUTE CHAP-Password 3 octets
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE NAS-Port 5 integer
ATTRIBUTE Service-Type 6 integer
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE State 24 octets
ATTRIBUTE Class 25 octets
ATTRIBUTE Session-Timeout 27 integer
ATTRIBUTE Called-Station-Id 30 string
ATTRIBUTE Calling-Station-Id 31 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Proxy-State 33 octets
ATTRIBUTE NAS-Port-Type 61 integer
ATTRIBUTE EAP-Message 79 octets
ATTRIBUTE Message-Authenticator 80 octets
"""


@cache
def dictionary() -> Dictionary:
    """The dictionary (built once per process)."""
    return Dictionary(io.StringIO(_TEXT))
