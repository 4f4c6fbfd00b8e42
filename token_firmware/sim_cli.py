"""``jeton-sim``: run simulated tokens from a shell, draw their displays, press their buttons.

``jeton-sim --press PORT``, run as a second process, presses the button of the simulated token serving PORT
(through the control socket each token opens, ``control_path(PORT)``) and exits 0 once the token has seen
the press.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import tty
from pathlib import Path

from token_firmware.sim_usb import control_path

# Seven-segment drawing, three text rows per digit: segments a (top), f/b (upper sides), g (middle),
# e/c (lower sides), d (bottom).
_SEGS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abdeg",
    "3": "abcdg",
    "4": "bcfg",
    "5": "acdfg",
    "6": "acdefg",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
    "-": "g",
    "E": "adefg",
    "r": "eg",
    "C": "adef",
    "L": "def",
    "S": "acdfg",
    "t": "defg",
    "b": "cdefg",
    "A": "abcefg",
    " ": "",
}


def render(text: str | None, dots: int) -> list[str]:
    """Three lines drawing the display: ``text`` in seven-segment digits, ``dots`` as decimal points."""
    if text is None:
        return ["", "  (éteint)", ""]
    rows = ["", "", ""]
    for i, ch in enumerate(text.ljust(6)[:6]):
        s = _SEGS.get(ch, "")
        dot = "." if dots & (1 << (5 - i)) else " "
        rows[0] += " " + ("_" if "a" in s else " ") + "  "
        rows[1] += ("|" if "f" in s else " ") + ("_" if "g" in s else " ") + ("|" if "b" in s else " ") + " "
        rows[2] += ("|" if "e" in s else " ") + ("_" if "d" in s else " ") + ("|" if "c" in s else " ") + dot
    return rows


def _interactive(tokens: list, stop: threading.Event) -> None:
    import select
    import termios

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        while not stop.is_set():
            out = ["\x1b[H\x1b[J"]
            for n, tok in enumerate(tokens, 1):
                out.append(f"Jeton {n}  {tok.port}\n")
                out.extend(line + "\n" for line in render(tok.display(), tok.dots()))
                out.append("\n")
            keys = "Espace : appuyer sur le bouton" if len(tokens) == 1 else "1-9 : appuyer sur le bouton du jeton N"
            out.append(keys + "   q : quitter\n")
            sys.stderr.write("".join(out))
            sys.stderr.flush()
            if select.select([fd], [], [], 0.2)[0]:
                key = os.read(fd, 1)
                if key in (b"q", b"Q", b"\x04"):
                    return
                if key.isdigit() and 1 <= int(key) <= len(tokens):
                    tokens[int(key) - 1].press()
                elif key in (b" ", b"\n") and tokens:
                    tokens[0].press()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def main(argv: list[str] | None = None) -> int:
    """``jeton-sim``: run simulated tokens; print ``PORT <path>`` per token first, then run until stopped."""
    import argparse
    import signal

    from token_firmware.sim import DEFAULT_HEAPSIZE, SimulatedToken, SimulatorError

    parser = argparse.ArgumentParser(prog="jeton-sim", description="Run simulated Jeton tokens (the real firmware).")
    parser.add_argument("--state", metavar="DIR", help="the token's flash, kept across runs (default: temporary)")
    parser.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS", help="clock drift to simulate")
    parser.add_argument("--headless", action="store_true", help="draw nothing; stop with SIGTERM or Ctrl-C")
    parser.add_argument("--count", type=int, default=1, metavar="N", help="start N tokens (DIR/token-1 ...)")
    parser.add_argument("--blank", action="store_true", help="a board with stock MicroPython and nothing flashed")
    parser.add_argument("--always-on", action="store_true",
                        help="keep the display on as if the button were held (a locked token then answers CODE)")
    parser.add_argument("--clock-ppm", type=float, default=0.0, metavar="N",
                        help="the clock runs N parts per million fast (negative: slow), as a clone DS3231 does")
    parser.add_argument("--battery", type=float, metavar="VOLTS",
                        help="report this battery voltage (VSYS) in HELLO; below 2.2 a press shows bAtt")
    parser.add_argument("--press", metavar="PORT", help="press the button of the simulated token serving PORT")
    parser.add_argument("--heapsize", default=DEFAULT_HEAPSIZE, help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    if args.press is not None:
        return _press(args.press, args.verbose)
    if not 1 <= args.count <= 64:
        parser.error("--count must be between 1 and 64")

    tmp = None
    if args.state is None:
        tmp = tempfile.TemporaryDirectory(prefix="jeton-sim-")
        root = Path(tmp.name)
    else:
        root = Path(args.state)
    dirs = [root] if args.count == 1 else [root / f"token-{n}" for n in range(1, args.count + 1)]
    tokens = [SimulatedToken(d, clock_offset=args.clock_offset, blank=args.blank, heapsize=args.heapsize,
                             always_on=args.always_on, clock_ppm=args.clock_ppm, battery=args.battery)
              for d in dirs]

    stop = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001 - signal handler signature
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        for tok in tokens:
            tok.start()
            print(f"PORT {tok.port}", flush=True)
        if not args.headless and sys.stdin.isatty() and sys.stderr.isatty():
            _interactive(tokens, stop)
        else:
            while not stop.is_set():
                stop.wait(0.5)
    except (OSError, SimulatorError) as exc:
        if args.verbose:
            raise
        print(f"jeton-sim: {exc}", file=sys.stderr)
        return 1
    finally:
        for tok in tokens:
            tok.stop()
        if tmp is not None:
            tmp.cleanup()
    return 0


def _press(port: str, verbose: bool) -> int:
    path = control_path(port)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(path))
            sock.sendall(b"press\n")
            answer = sock.makefile("rb").readline()
    except OSError as exc:
        if verbose:
            raise
        print(f"jeton-sim : aucune clé simulée ne sert {port} ({exc.strerror or exc})", file=sys.stderr)
        return 1
    if answer != b"ok\n":
        print(f"jeton-sim : la clé simulée de {port} n'a pas vu l'appui", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
