"""A teacher who types login + PIN + code into the login field leaves no digit of them in the audit or the logs
(issue 12, item 5): the audit keeps the login part, and says it was cut down. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.verifier.conftest import T0
from tests.verifier.helpers import assigned_token, first_use
from verifier.typed_login import TRIMMED_NOTE, login_part
from verifier.verification import Outcome, Verifier

PIN = "4821"


@pytest.mark.parametrize(("typed", "kept"), [
    ("jdupont1234123456", ("jdupont", True)),
    ("jdupont 1234 123456", ("jdupont", True)),
    ("jdupont\t1234123456", ("jdupont", True)),
    ("jdupont123456", ("jdupont", True)),           # the code alone, on first use
    ("jdupont4821", ("jdupont", True)),             # the PIN alone
    ("1234123456", (None, True)),                   # digits only: nothing is a login
    ("prof.3a", ("prof.3a", False)),                # fewer than 4 digits: they stay
    ("prof2024", ("prof", True)),                 # an unknown login ending in 4 digits: they look like a PIN
    ("<script>", (None, False)),
    (None, (None, False)),
])
def test_the_login_part_of_what_was_typed(typed, kept):
    assert tuple(login_part(typed)) == kept


def test_login_pin_and_code_typed_in_the_login_field_leave_no_digit_in_the_audit(store, planted):
    codes = assigned_token(store, "JT-0001", "jdupont", planted=planted)
    verifier = Verifier(store)
    now = first_use(verifier, "jdupont", codes, planted.value(PIN), T0)
    step = codes.step_of(now) + 1
    code = planted.value(codes.code(step))
    for typed, passcode in ((f"jdupont{PIN}{code}", ""), (f"jdupont {PIN} {code}", "x"),
                            (f"jdupont{PIN}", code), (f"{PIN}{code}", PIN + code)):
        planted.value(typed.split(maxsplit=1)[-1].replace(" ", ""))
        result = verifier.authenticate(typed, passcode, step * 30 + 1, source="192.0.2.7")
        assert result.outcome is Outcome.REJECT
    rows = [e for e in store.audit(limit=10) if e.action == "auth"][:4]
    assert [e.login for e in rows] == [None, "jdupont", "jdupont", "jdupont"]
    assert all(TRIMMED_NOTE in e.detail for e in rows)
    # ... and the teacher, typing it right this time, logs in: the failures above did not lock anything
    assert verifier.authenticate("jdupont", PIN + code, step * 30 + 2).outcome is Outcome.ACCEPT
    # the store fixture then scans every audit row (and the verifier's log lines) for the PIN and the code
