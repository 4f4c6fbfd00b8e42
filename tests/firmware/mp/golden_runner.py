"""Runs request lines against the firmware's protocol from a given starting state; prints each reply.

Input (stdin, JSON): {"dir": flash dir, "start": {starting state}, "requests": [line, ...], "fresh": bool}
where each line is a string (sent with a newline). With "fresh", every request meets a token freshly put
in the starting state (a golden frame stands alone); without, they run in sequence on one token.
Output: one JSON list of reply lines per request, then "STATE <state>" with the final state.
"""

import json
import sys

import fakes
import otp
import proto
import store


def prepare(d, start):
    s = store.Store(d)
    st = start["state"]
    if st in ("seeded", "locked"):
        s.save(st, start["serial"], otp.b32decode(start["secret_b32"]), start["algo"], start["digits"], start["period"])
    elif st == "corrupt":
        with open(s.path, "wb") as f:
            f.write(b"JETON1;seeded;garbage*00000000\n")
    s.load()
    return s


def protocol(s, clock, start):
    """The protocol of a token in ``start``: ``"pressed"`` means its display shows the code after a press."""
    pressed = start.get("pressed", False)
    return proto.Protocol(s, clock, "host", present=lambda: pressed)


def main():
    job = json.loads(sys.stdin.read())
    start = job["start"]
    fresh = job.get("fresh", False)
    s = prepare(job["dir"], start)
    clock = fakes.FakeClock(start["time"], start.get("clock") == "lost")
    p = protocol(s, clock, start)
    out = sys.stdout
    for line in job["requests"]:
        if fresh:
            s.wipe()
            s = prepare(job["dir"], start)
            clock = fakes.FakeClock(start["time"], start.get("clock") == "lost")
            p = protocol(s, clock, start)
        replies = p.feed(line.encode() + b"\n")
        out.write(json.dumps([r.decode() for r in replies]) + "\n")
    out.write("STATE " + s.state + "\n")


if __name__ == "__main__":
    main()
