"""Runs the firmware's real loop (App.step_loop: one pass, then board.sleep) on a fake board whose sleeps move
its milliseconds and its clock, as a token's would; presses the button at the given times.

stdin (JSON): {"dir", "start" (as in golden_runner), "phase_ms" (where in its second the clock starts),
"presses": [ms, ...], "until_ms", "frozen" (the clock stands still)}. stdout: one JSON line: the sleeps, the
display log with the ms of each change,
the hold/release events, the clock reads and the passes of the loop.
"""

import json
import sys

import app
import fakes
import golden_runner

job = json.loads(sys.stdin.read())
start = job["start"]
golden_runner.prepare(job["dir"], start)


class CountingClock(fakes.FakeClock):
    reads = 0

    def now(self):
        CountingClock.reads += 1
        return self.t


clock = CountingClock(start["time"], start.get("clock") == "lost")
board = fakes.FakeBoard(job["dir"], clock)
board.follow = True
board.phase_ms = job.get("phase_ms", 0)
board.frozen = job.get("frozen", False)
clock.t = board.t0 + board.phase_ms // 1000
token = app.App(board)
presses = list(job["presses"])
shows = []
passes = 0
while board.ms < job["until_ms"]:
    if presses and board.ms >= presses[0]:
        presses.pop(0)
        board.presses += 1
    before, at = len(board.display.log), board.ms
    token.step_loop()
    passes += 1
    for entry in board.display.log[before:]:
        shows.append([at, entry[0] if entry else None])
out = {"sleeps": board.sleeps, "shows": shows, "holds": board.holds, "clock_reads": CountingClock.reads,
       "passes": passes}
print(json.dumps(out))
