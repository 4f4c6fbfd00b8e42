"""The token's firmware under the real MicroPython interpreter, and the simulator around it.

Figures (each beside a baseline measured in the same run):
- time to compute one code under MicroPython (goal < 5 ms on this machine; an RP2040 is slower, see
  docs/firmware.md), against the two bare SHA-1 computations any HMAC-SHA1 needs;
- simulator start to its first HELLO answer (goal < 1 s), against the interpreter's own start-up;
- round trip per protocol command over the pty, against an echo through the same pty and interpreter;
- "Awake time per press" (s), read by the hardware's battery budget: the firmware's display timeout
  (app.DISPLAY_MS) plus the measured time from power-up (a press on a seeded token) to the first code
  shown, under MicroPython. On battery the soft latch holds power exactly that long.
"""

from __future__ import annotations

import ast
import os
import pty
import subprocess
import tempfile
import time
import tty
import zlib
from pathlib import Path

import serial

from benchmarks.runner import Figure, median, timings
from token_firmware import DEVICE_DIR
from token_firmware.sim import SimulatedToken, find_micropython

SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # noqa: S105 - the RFC 4226 test key, public

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


def _display_ms() -> int:
    tree = ast.parse((DEVICE_DIR / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DISPLAY_MS":
            return ast.literal_eval(node.value)
    raise RuntimeError("app.DISPLAY_MS not found")


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
                   goal="< 1 s")
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

        display_s = _display_ms() / 1000
        boot = median([_boot_to_first_code(root / "seeded") for _ in range(repeat)])
        note = "display timeout + measured power-up to first code (simulator: interpreter start included)"
        if not quick:
            note += f"; one full press measured from HOLD to RELEASE: {_press_to_release(root / 'seeded'):.2f} s"
        figures.append(
            Figure("Awake time per press", display_s + boot, "s", "the firmware's display timeout alone", display_s,
                   note=note)
        )  # fmt: skip
    return figures
