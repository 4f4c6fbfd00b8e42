"""Runs the firmware's app loop on a fake board, step by step; prints what the token showed after each step.

stdin (JSON): {"dir": flash dir, "start": starting state (as in golden_runner), "steps": [...]}, steps being
["press"], ["tick"], ["advance", seconds] (the clock and the milliseconds move together, one tick per
second) or ["send", line]. stdout: one JSON line per tick: [ms, text, dots, held, ctrl_c, replies].
"board" (optional) sets fake board attributes first (``volts``, ``always_on``, ``hang_at``); with "report",
a last line {"resets": [...], "feeds": n, "watched": bool} tells what the stand-in watchdog saw.
"""

import json
import sys

import app
import fakes
import golden_runner

job = json.loads(sys.stdin.read())
start = job["start"]
golden_runner.prepare(job["dir"], start)
clock = fakes.FakeClock(start["time"], start.get("clock") == "lost")
board = fakes.FakeBoard(job["dir"], clock)
for name, value in job.get("board", {}).items():
    setattr(board, name, value)
token = app.App(board)


def tick():
    token.tick()
    replies = [r.decode() for r in board.outbox]
    board.outbox = []
    print(json.dumps([board.ms, board.display.text, board.display.dots, board.held, board.ctrl_c, replies]))


tick()
for step in job["steps"]:
    if step[0] == "press":
        board.presses += 1
        tick()
    elif step[0] == "tick":
        tick()
    elif step[0] == "advance":
        for _ in range(step[1]):
            clock.t += 1
            board.ms += 1000
            tick()
    elif step[0] == "send":
        board.inbox += step[1].encode() + b"\n"
        while len(board.inbox) > 64:  # the board hands over at most 64 bytes per pass
            token.tick()
        tick()
if job.get("report"):
    print(json.dumps({"resets": board.resets, "feeds": board.feeds, "watched": board.watched}))
