"""Time is Unix UTC whatever the port's epoch; the calendar maths is the firmware's own."""

from __future__ import annotations

import calendar
import json
import random
from datetime import UTC, datetime

import pytest

from tests.firmware.helpers import DEVICE_PATH

SCRIPT = """
import json, sys
import cal, board_host

class Epoch2000Time:
    # a port whose epoch is 2000-01-01 (as esp32): gmtime(0) says 2000 and time() counts from there
    def __init__(self, unix):
        self.unix = unix
    def gmtime(self, t=0):
        return (2000, 1, 1, 0, 0, 0, 5, 1) if t == 0 else None
    def time(self):
        return self.unix - 946684800

class Epoch1970Time:
    def __init__(self, unix):
        self.unix = unix
    def gmtime(self, t=0):
        return (1970, 1, 1, 0, 0, 0, 3, 1)
    def time(self):
        return self.unix

job = json.loads(sys.stdin.read())
out = {"to": [], "from": [], "e2000": [], "e1970": []}
for t in job["times"]:
    out["from"].append(list(cal.from_unix(t)))
for d in job["dates"]:
    out["to"].append(cal.to_unix(*d))
for t in job["clock"]:
    out["e2000"].append(board_host.HostClock(job["dir"], 0.0, Epoch2000Time(t)).now())
    out["e1970"].append(board_host.HostClock(job["dir"], 0.0, Epoch1970Time(t)).now())
print(json.dumps(out))
"""


@pytest.mark.micropython
def test_calendar_and_both_epochs_give_unix_utc(micropython, tmp_path):
    rng = random.Random(1970)
    times = [0, 946684800, 951782400, 1577836800, 4102444799, 4107542400] + [
        rng.randint(0, 4102444799) for _ in range(300)
    ]
    dates = [list(datetime.fromtimestamp(t, UTC).timetuple()[:6]) for t in times]
    job = {"times": times, "dates": dates, "clock": times[:50], "dir": str(tmp_path)}
    out = micropython.run(SCRIPT, path=DEVICE_PATH, stdin=json.dumps(job).encode(), heapsize="1m").stdout
    got = json.loads(out)
    for t, fields in zip(times, got["from"], strict=True):
        d = datetime.fromtimestamp(t, UTC)
        assert fields == [d.year, d.month, d.day, d.hour, d.minute, d.second, d.isoweekday()]
    assert got["to"] == [calendar.timegm(tuple(d) + (0, 0, 0)) for d in dates]
    assert got["e2000"] == times[:50]
    assert got["e1970"] == times[:50]
