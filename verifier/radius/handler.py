"""One RADIUS packet in, one reply out (or nothing): the protocol rules of jeton-radius, without sockets.

``RadiusHandler.handle(data, address)`` returns the reply's bytes, or None when the packet is dropped. A packet is
dropped, counted and never reaches the store when it comes from an undeclared address, is malformed, is neither
Access-Request nor Status-Server, lacks the Message-Authenticator (unless its client was declared ``--legacy``;
Status-Server always needs one) or carries a wrong one. Every reply carries a Message-Authenticator (BlastRADIUS,
CVE-2024-3596). Access-Requests become verifier calls; the verifier writes the audit rows and applies throttling.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections import Counter
from collections.abc import Callable

from pyrad import packet as rp

from verifier.errors import PinPolicyError, TicketError
from verifier.pins import check_new_pin
from verifier.radius import messages
from verifier.radius.clients import ClientTable, RadiusClient
from verifier.radius.dictionary import (
    CALLING_STATION_ID,
    MESSAGE_AUTHENTICATOR,
    REPLY_MESSAGE,
    STATE,
    USER_NAME,
    USER_PASSWORD,
    dictionary,
)
from verifier.radius.dupcache import DuplicateCache
from verifier.radius.state import NEXT_CODE, PASSCODE, PIN_CONFIRM, PIN_FIRST, Challenge, StateSealer
from verifier.verification import Outcome, Result, Verifier

log = logging.getLogger("verifier.radius")
_MAX_PACKET = 4096  # RFC 2865 §3
#: drop reasons, as counted (and printed by ``jeton-radius`` when it stops)
DROPS = ("unknown_client", "malformed", "unsupported_code", "no_message_authenticator", "bad_message_authenticator")


def _text(values: list | None, size: int) -> str:
    """An attribute's first value as printable text, clipped (it is the gateway's, never trusted)."""
    raw = values[0] if values else b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:size]


class RadiusHandler:
    """The protocol of one server process. Not thread-safe (one per process; the duplicate cache is its own)."""

    def __init__(self, verifier: Verifier, clients: ClientTable, *, clock: Callable[[], float] = time.time,
                 duplicates: DuplicateCache | None = None) -> None:
        self.verifier = verifier
        self.clients = clients
        self.clock = clock
        self.duplicates = duplicates or DuplicateCache()
        self.sealer = StateSealer(verifier.store.ring)
        self.settings = verifier.settings
        self.counts: Counter[str] = Counter()
        self._dict = dictionary()

    # -- entry point ---------------------------------------------------------------------------------------------

    def handle(self, data: bytes, address: tuple) -> bytes | None:
        """The reply to ``data`` received from ``address`` (host, port, ...), or None: drop it."""
        client = self.clients.find(address[0])
        if client is None:
            return self._drop("unknown_client")
        if not 20 <= len(data) <= _MAX_PACKET:
            return self._drop("malformed")
        if data[0] not in (rp.AccessRequest, rp.StatusServer):
            return self._drop("unsupported_code")
        try:
            request = rp.AuthPacket(packet=data, secret=client.secret, dict=self._dict)
        except Exception:  # noqa: BLE001 - any decoding failure of untrusted bytes is one thing: malformed
            return self._drop("malformed")
        if not request.message_authenticator:
            if request.code == rp.StatusServer or not client.legacy:
                return self._drop("no_message_authenticator")
        else:
            values = request[MESSAGE_AUTHENTICATOR]
            if len(values) != 1 or len(values[0]) != 16 or not request.verify_message_authenticator():
                return self._drop("bad_message_authenticator")
        now = self.clock()
        key = self.duplicates.key(address, data)
        cached = self.duplicates.get(key, data, now)
        if cached is not None:
            self.counts["duplicate"] += 1
            return cached
        reply = self._status(request) if request.code == rp.StatusServer else self._access(request, client, address)
        raw = reply.ReplyPacket()
        self.duplicates.put(key, data, raw, now)
        self.counts["status" if request.code == rp.StatusServer else
                    {rp.AccessAccept: "accept", rp.AccessReject: "reject"}.get(reply.code, "challenge")] += 1
        return raw

    def _drop(self, reason: str) -> None:
        self.counts[f"dropped_{reason}"] += 1
        return None

    # -- replies ---------------------------------------------------------------------------------------------------

    def _reply(self, request: rp.AuthPacket, code: int, message: str | None = None,
               state: bytes | None = None) -> rp.AuthPacket:
        reply = request.CreateReply()  # signed: a Message-Authenticator first (pyrad does it for these codes)
        reply.code = code
        if message:
            reply[REPLY_MESSAGE] = [message.encode()]
        if state is not None:
            reply[STATE] = [state]
        return reply

    def _status(self, request: rp.AuthPacket) -> rp.AuthPacket:
        return self._reply(request, rp.AccessAccept, messages.STATUS)  # RFC 5997 §3: Access-Accept on this port

    def _challenge(self, request, client: RadiusClient, kind: str, login: str, message: str,
                   ticket: str | None = None, pin: str | None = None, first: str | None = None) -> rp.AuthPacket:
        challenge = Challenge(kind, login, self.clock() + self.settings.ticket_ttl, ticket, pin, first)
        return self._reply(request, rp.AccessChallenge, message, self.sealer.seal(challenge, client.name))

    def _reject(self, request) -> rp.AuthPacket:
        return self._reply(request, rp.AccessReject, messages.REJECTED)

    # -- Access-Request ----------------------------------------------------------------------------------------

    def _access(self, request: rp.AuthPacket, client: RadiusClient, address: tuple) -> rp.AuthPacket:
        login = _text(request.get(USER_NAME), 253)
        try:
            password = request.PwDecrypt(request[USER_PASSWORD][0]) if USER_PASSWORD in request else ""
        except rp.PacketError:
            password = ""
        # The throttle's and the audit's source: the gateway and, when it says it, the person's own address.
        caller = _text(request.get(CALLING_STATION_ID), 60)
        source = f"radius:{client.name}@{address[0]}" + (f" {caller}" if caller else "")
        source = source[:100]
        state = request.get(STATE)
        if state:
            challenge = self.sealer.open(state[0], client.name, self.clock())
            if challenge is None or challenge.login != login:
                log.info("Access-Request with an unknown or expired State from %s", client.name)
                self.counts["bad_state"] += 1
                return self._reject(request)
            return self._continue(request, client, challenge, password, source)
        return self._outcome(request, client, login,
                             self.verifier.authenticate(login, password, self.clock(), source=source), source,
                             typed=password)

    def _outcome(self, request, client: RadiusClient, login: str, result: Result, source: str, *,
                 typed: str | None = None) -> rp.AuthPacket:
        """Translate the verifier's outcome: the guide's next step as a challenge, or the final answer. ``typed``:
        the password of a request without a State, whose code a first use keeps a mark of."""
        if result.outcome is Outcome.ACCEPT:
            return self._reply(request, rp.AccessAccept)
        if result.outcome is Outcome.NEW_PIN_REQUIRED:
            first = None if typed is None else self.sealer.mark(typed[-6:])  # a first use: the 6 digits alone
            return self._challenge(request, client, PIN_FIRST, login, messages.choose_pin(self.settings),
                                   result.ticket, first=first)
        if result.outcome is Outcome.NEXT_CODE_REQUIRED:
            return self._challenge(request, client, NEXT_CODE, login, messages.NEXT_CODE, result.ticket)
        # REJECT, LOCKED and THROTTLED (the verifier's shared throttle: the attempt was not even verified), and any
        # outcome added later: the same Access-Reject, never told apart
        return self._reject(request)

    def _continue(self, request, client: RadiusClient, challenge: Challenge, answer: str,
                  source: str) -> rp.AuthPacket:
        """The answer to a challenge, by the step the State names."""
        login = challenge.login
        if challenge.kind == PIN_FIRST:  # the new PIN, first typing: refuse a bad one at once, then ask again
            try:
                check_new_pin(answer, answer, self.settings)
            except PinPolicyError as exc:
                return self._challenge(request, client, PIN_FIRST, login,
                                       messages.pin_refused(exc.reason, self.settings), challenge.ticket,
                                       first=challenge.first)
            return self._challenge(request, client, PIN_CONFIRM, login, messages.CONFIRM_PIN, challenge.ticket,
                                   answer, challenge.first)
        if challenge.kind == PIN_CONFIRM:
            try:
                self.verifier.set_pin(challenge.ticket, challenge.pin, answer, self.clock(), source=source)
            except PinPolicyError as exc:
                return self._challenge(request, client, PIN_FIRST, login,
                                       messages.pin_refused(exc.reason, self.settings), challenge.ticket,
                                       first=challenge.first)
            except TicketError:
                return self._reject(request)
            return self._challenge(request, client, PASSCODE, login, messages.PASSCODE, first=challenge.first)
        if challenge.kind == NEXT_CODE:
            return self._outcome(request, client, login,
                                 self.verifier.next_code(challenge.ticket, answer, self.clock(), source=source), source)
        # PASSCODE: PIN + a later code, as a fresh login
        result = self.verifier.authenticate(login, answer, self.clock(), source=source)
        if result.outcome is Outcome.REJECT and challenge.first and len(answer) > 6 \
                and hmac.compare_digest(self.sealer.mark(answer[-6:]), challenge.first):
            # the PIN with the very code that chose it (a replay, refused and counted): within this challenge only,
            # say to wait for the next code, as the web does, rather than the bare refusal
            return self._challenge(request, client, PASSCODE, login, messages.PASSCODE, first=challenge.first)
        return self._outcome(request, client, login, result, source)
