"""The token's firmware under the real MicroPython interpreter, and the simulator around it.

Figures (each beside a baseline measured in the same run):
- time to compute one code under MicroPython (goal < 5 ms on this machine; an RP2040 is slower, see
  docs/firmware.md), against the two bare SHA-1 computations any HMAC-SHA1 needs;
- boot to the first code on the display (the press that powers the board: main.py with Ctrl-C off first, the
  board, the store, the app, the code), against the interpreter's own start-up;
- simulator start to its first HELLO answer (goal < 1 s), against the interpreter's own start-up; and the same
  from the ``jeton-sim`` command (its Python process, the ``PORT`` line, then HELLO), against Python's start-up;
- round trip per protocol command over the pty, against an echo through the same pty and interpreter;
- "Awake time per press" (s), read by the hardware's battery budget: how long the firmware keeps the code
  shown after a press, averaged over presses at 30 instants spread over a 30 s step, plus the measured time
  from power-up (a press on a seeded token) to the first code, under MicroPython. On battery the soft latch
  holds power exactly that long. (The teachers' once-per-token second press, which waits for the code to
  change, is not an everyday press: docs/firmware.md counts it apart.)
- "Wake-ups per press" (count), also read by the battery budget: how many times the loop wakes from its sleep
  (a lightsleep on a battery Pico) while the code is shown, averaged the same way, against a 100 ms poll.
  Both come from the firmware's real loop (App.step_loop) under MicroPython on a board whose sleeps move its
  time, so a press costs milliseconds to measure, not half a minute.
"""

from __future__ import annotations

import ast
import json
import os
import pty
import subprocess
import sys
import tempfile
import time
import tty
import zlib
from pathlib import Path

import serial

from benchmarks.runner import Figure, median, timings
from tests.firmware.helpers import MP_DIR
from tests.golden_frames import STARTS
from token_firmware import DEVICE_DIR
from token_firmware.sim import SimulatedToken, find_micropython

SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # noqa: S105 - the RFC 4226 test key, public
_STEP_START = 1767225600  # a step boundary: the phases below are ms into this step

_CODE_TIMING = """
import time, hashlib, otp
key = b"12345678901234567890"
pad = bytes(64)
def bare():
    h = hashlib.sha1(); h.update(pad); h.update(b"12345678"); d = h.digest()
    h = hashlib.sha1(); h.update(pad); h.update(d); h.digest()
def code():
    otp.totp(key, 1767225612, 30, 6, "sha1")
for name, fn in (("code", code), ("bare", bare)):
    fn()
    out = []
    for _ in range(N):
        t0 = time.ticks_us()
        for _ in range(100):
            fn()
        out.append(time.ticks_diff(time.ticks_us(), t0))
    out.sort()
    print(name, out[len(out) // 2])
"""

_ECHO = """
import sys
i = sys.stdin.buffer
o = sys.stdout.buffer
line = b""
while True:
    b = i.read(1)
    if not b:
        break
    line += b
    if b == b"\\n":
        o.write(line)
        line = b""
"""


def _frame(body: str) -> bytes:
    return f"{body}*{zlib.crc32(body.encode()):08x}\n".encode()


def _app_setting(name: str) -> int:
    tree = ast.parse((DEVICE_DIR / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return ast.literal_eval(node.value)
    raise RuntimeError(f"app.{name} not found")


def _presses(exe: str, phases: list[int]) -> list[tuple[int, int]]:
    """(ms held, wake-ups while held) of one press at each phase (ms into a 30 s step), from the firmware's loop
    under MicroPython on the tests' fake board whose sleeps move its milliseconds and its clock
    (tests/firmware/mp/sleep_runner.py); a wake-up is a sleep that starts while the power is held."""
    env = dict(os.environ, MICROPYPATH=":".join([str(DEVICE_DIR), str(MP_DIR), ".frozen"]))
    start = dict(STARTS["locked"], time=_STEP_START)
    out = []
    for phase in phases:
        with tempfile.TemporaryDirectory() as flash:
            job = {"dir": flash, "start": start, "presses": [phase], "until_ms": phase + 2 * _app_setting("SHOW_MS")}
            done = subprocess.run([exe, "-X", "heapsize=256k", str(MP_DIR / "sleep_runner.py")],  # noqa: S603
                                  input=json.dumps(job).encode(), capture_output=True, env=env, check=True)
        run = json.loads(done.stdout)
        (_, held), (_, released) = run["holds"]
        at, wakeups = 0, 0
        for ms in run["sleeps"]:
            wakeups += held <= at < released
            at += ms
        out.append((released - held, wakeups))
    return out


def _code_time(exe: str, n: int) -> tuple[float, float]:
    env = dict(os.environ, MICROPYPATH=f"{DEVICE_DIR}:.frozen")
    out = subprocess.run(
        [exe, "-X", "heapsize=48k", "-c", f"N = {n}\n" + _CODE_TIMING], capture_output=True, env=env, check=True
    ).stdout.decode()
    us = dict(line.split() for line in out.splitlines())
    return int(us["code"]) / 1e5, int(us["bare"]) / 1e5  # batches of 100, in ms per call


def _ask(ser: serial.Serial, body: str) -> bytes:
    ser.write(_frame(body))
    line = ser.readline()
    if not line.startswith(body.split()[0].encode() + b" OK"):
        raise RuntimeError(f"unexpected reply to {body!r}: {line!r}")
    return line


def _sim_start_to_hello(root: Path) -> float:
    start = time.perf_counter()
    with SimulatedToken(root) as token:
        ser = serial.Serial(token.port, timeout=5)
        _ask(ser, "1 HELLO")
        elapsed = time.perf_counter() - start
        ser.close()
    return elapsed


def _command_start_to_hello(root: Path) -> float:
    """``jeton-sim --headless`` as a user runs it: from the command to its first HELLO answer."""
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "token_firmware.sim_cli", "--state", str(root), "--headless"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # noqa: S603
    try:
        first = proc.stdout.readline().split()
        if first[:1] != ["PORT"]:
            raise RuntimeError(f"jeton-sim printed {first!r} instead of its PORT line")
        with serial.Serial(first[1], timeout=5) as ser:
            _ask(ser, "1 HELLO")
        elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return elapsed


def _interpreter_start(exe: str) -> float:
    start = time.perf_counter()
    subprocess.run([exe, "-X", "heapsize=48k", "-c", "pass"], check=True)
    return time.perf_counter() - start


def _echo_round_trip(exe: str, repeat: int) -> float:
    master, slave = pty.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen([exe, "-X", "heapsize=48k", "-c", _ECHO], stdin=master, stdout=master)
    try:
        ser = serial.Serial(os.ttyname(slave), timeout=5)
        line = _frame("1 HELLO")

        def once() -> None:
            ser.write(line)
            if ser.readline() != line:
                raise RuntimeError("echo lost the line")

        result = median(timings(once, repeat, warmup=3))
        ser.close()
        return result
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
        os.close(slave)


def _boot_to_first_code(root: Path) -> float:
    """From power-up with the button pressed (the press powers the board) to the first code on the display."""
    token = SimulatedToken(root)
    start = time.perf_counter()
    token.start()
    token.press()
    try:
        token.wait_display(lambda d: d is not None and d.isdigit(), timeout=10)
        return time.perf_counter() - start
    finally:
        token.stop()


def _press_to_release(root: Path) -> float:
    with SimulatedToken(root) as token:
        token.press()
        token.wait_display(lambda d: d is not None, timeout=10)
        t0 = time.monotonic()
        deadline = t0 + 120
        while token.powered() and time.monotonic() < deadline:
            time.sleep(0.05)
        held = [t for t, line in token.events if line == "HOLD"]
        released = [t for t, line in token.events if line == "RELEASE"]
        if not held or not released:
            raise RuntimeError("the token never released its power hold")
        return released[-1] - held[0]


def run(quick: bool) -> list[Figure]:
    exe = find_micropython()
    repeat = 5 if quick else 30
    figures = []

    code_ms, bare_ms = _code_time(exe, 5 if quick else 50)
    figures.append(
        Figure(
            "Time to compute one code under MicroPython (TOTP SHA-1, 6 digits)", code_ms, "ms",
            "two bare SHA-1 (the HMAC's hashing)", bare_ms, goal="< 5 ms",
            note="unix port on this machine; median of batches of 100, timed with the interpreter's ticks_us",
        )
    )  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with SimulatedToken(root / "seeded") as token:
            ser = serial.Serial(token.port, timeout=5)
            _ask(ser, "1 TIME 1767225612")
            _ask(ser, f"2 SEED JT-000001 {SECRET_B32} sha1 6 30")
            ser.close()

        hello = median([_sim_start_to_hello(root / f"hello-{n}") for n in range(repeat)])
        startup = median([_interpreter_start(exe) for _ in range(repeat)])
        figures.append(
            Figure("Simulator start to HELLO answer", hello, "s", "MicroPython start-up (run `pass`)", startup,
                   goal="< 1 s", note="token_firmware.sim.SimulatedToken in this process")
        )  # fmt: skip
        command = median([_command_start_to_hello(root / f"cmd-{n}") for n in range(repeat)])
        python = median(timings(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat))  # noqa: S603
        figures.append(
            Figure("`jeton-sim` command start to HELLO answer", command, "s", "Python start-up (`python -c pass`)",
                   python, goal="< 1 s", note="a new process: Python, the launcher, MicroPython, then HELLO")
        )  # fmt: skip

        echo = _echo_round_trip(exe, repeat * 4)
        with SimulatedToken(root / "seeded") as token:
            ser = serial.Serial(token.port, timeout=5)
            for body in ("HELLO", "CODE", "PROVE 00112233445566778899aabbccddeeff"):
                verb = body.split()[0]
                rt = median(timings(lambda b=body: _ask(ser, f"9 {b}"), repeat * 4, warmup=3))
                name = f"Round trip over the pty: {verb}"
                figures.append(Figure(name, rt * 1e3, "ms", "echo of a line, same pty and interpreter", echo * 1e3))
            ser.close()

        phases = [n * 1000 + 500 for n in range(30)]  # one press in each second of a 30 s step
        presses = _presses(exe, phases)
        shown_s = sum(ms for ms, _ in presses) / len(presses) / 1000
        wakeups = sum(w for _, w in presses) / len(presses)
        shortest, longest = min(ms for ms, _ in presses) / 1000, max(ms for ms, _ in presses) / 1000
        boot = median([_boot_to_first_code(root / "seeded") for _ in range(repeat)])
        figures.append(
            Figure("Boot to first code (power-up press, simulator)", boot, "s", "MicroPython start-up (run `pass`)",
                   startup, note="interpreter start, main.py (kbd_intr(-1) first), board, store, app, first code "
                   "on the display; an RP2040 at 125 MHz is slower (docs/firmware.md)")
        )  # fmt: skip
        note = (f"mean display over {len(presses)} presses spread over a 30 s step ({shortest:.2f} to {longest:.2f} s)"
                f" + measured power-up to first code (simulator: interpreter start included, {boot:.3f} s)")
        if not quick:
            real = _press_to_release(root / "seeded")
            note += f"; one real-time press in the simulator, HOLD to RELEASE: {real:.2f} s"
        show = _app_setting("SHOW_MS") / 1000
        figures.append(
            Figure("Awake time per press", shown_s + boot, "s", "the firmware's display time (app.SHOW_MS)", show,
                   note=note)
        )  # fmt: skip
        figures.append(
            Figure("Wake-ups per press", wakeups, "count", "a 100 ms poll over the same awake time",
                   shown_s / 0.1, note="passes of the loop after a sleep (a lightsleep on a battery Pico) while "
                   "the code is shown; the clock and the code are read only around a change of the display")
        )  # fmt: skip
    return figures
