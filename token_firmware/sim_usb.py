"""What a board does that the unix port does not, for the simulated token: its boot (reset, the Ctrl-C
window of pyexec), its USB side (the serial relay that plays MicroPython's Ctrl-C), and the control socket
that ``jeton-sim --press`` reaches. ``UsbSide`` is a mixin of ``sim.SimulatedToken`` (it uses the token's
pty descriptors, its process and its lock)."""

from __future__ import annotations

import os
import signal
import socket
import tempfile
import threading
from pathlib import Path


def control_path(port: str) -> Path:
    """Where the simulated token serving ``port`` listens for presses (a Unix socket only this user reaches)."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"jeton-sim-{os.getuid()}"
    return base / (os.path.realpath(port).strip("/").replace("/", "_") + ".sock")


RESET_STATUS = 75  # the interpreter's exit status for machine.reset(): boot main.py again
# The unix port's machine module has no reset(); on a board it reboots into main.py. This extension of the
# built-in module (MicroPython lets a .py file on the path extend it) ends the interpreter, and the
# simulator boots main.py again, as the board would.
_MACHINE_SHIM = f"""\
import sys
from umachine import *


def reset():
    sys.exit({RESET_STATUS})
"""


# A board's firmware compiles main.py with Ctrl-C off and turns it on just before running it
# (MicroPython's shared/runtime/pyexec.c); the unix port turns it on before compiling. This boot stub does
# what the board does, and says on the display descriptor when main.py starts (the relay delivers no
# interrupt before: the stub's own compilation is not a window a board has). pyexec enters main.py's code
# straight from C, so a Ctrl-C that lands between the two is raised in main.py, under its guard; here it can
# surface in the stub's own frame (a traceback without main.py in it): the stub then does what the guard
# does (a reset unless the store says blank), and lets it through to the REPL on a blank token.
_BOOT_STUB = """\
import micropython
import os
import sys

micropython.kbd_intr(-1)
with open(sys.argv[1]) as _f:
    _code = compile(_f.read(), "main.py", "exec")
_fd = os.getenv("JETON_DISPLAY_FD")
_signal = open(int(_fd), "wb") if _fd else None  # kept open while main.py runs
if _signal is not None:
    _signal.write(b"EXEC\\n")
micropython.kbd_intr(3)
try:
    exec(_code, {"__name__": "__main__"})
except KeyboardInterrupt as _exc:
    micropython.kbd_intr(-1)
    import io

    _where = io.StringIO()
    sys.print_exception(_exc, _where)
    if '"main.py"' not in _where.getvalue():
        import boot_token
        import machine

        if not boot_token.blank():
            machine.reset()
    raise
"""


class SimulatorError(Exception):
    """The simulated token cannot start (no interpreter, bad state directory...)."""


class UsbSide:
    def _relay(self) -> None:
        """USB serial, host to board: the bytes the host writes, with 0x03 turned into a keyboard interrupt while
        the interpreter has it on (then the byte is dropped, as MicroPython's USB serial does)."""
        src, dst = self._master, self._in_slave
        while not self._stopping.is_set():
            try:
                chunk = os.read(src, 4096)
            except OSError:
                return
            if not chunk:
                return
            if 3 in chunk:
                with self._lock:
                    running = self._proc is not None and self._proc.poll() is None and self._executing
                    pid = self._proc.pid if running else None
                    pending = self._interrupt_pending
                if pid is not None and _catches_sigint(pid):
                    # MicroPython keeps one pending interrupt: more 0x03 before it is raised add nothing. The
                    # firmware never goes on with Ctrl-C on after one, so one per period of Ctrl-C on is enough
                    # (a new one when the firmware turns it on again, KBD 1, or a new main.py starts).
                    if not pending:
                        with self._lock:
                            self._interrupt_pending = not self._repl
                        try:
                            os.kill(pid, signal.SIGINT)
                        except ProcessLookupError:
                            pass
                    chunk = chunk.replace(b"\x03", b"")
            try:
                if chunk:
                    os.write(dst, chunk)
            except OSError:
                return

    def _drain_input(self) -> None:
        os.set_blocking(self._in_master, False)
        try:
            while os.read(self._in_master, 65536):
                pass
        except OSError:
            pass
        finally:
            os.set_blocking(self._in_master, True)

    def _listen(self) -> None:
        path = control_path(self.port)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        if path.parent.stat().st_uid != os.getuid():
            raise SimulatorError(f"{path.parent} belongs to another user")
        path.unlink(missing_ok=True)  # a stale socket of a simulator that died on this pty number
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.listen(4)
        self._control, self._control_path = sock, path
        threading.Thread(target=self._serve_control, args=(sock,), name="jeton-sim-control", daemon=True).start()

    def _serve_control(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    if conn.makefile("rb").readline() == b"press\n":
                        conn.sendall(b"ok\n" if self.press(wait=5) else b"no\n")
                except OSError:
                    continue

    def _close_control(self) -> None:
        if self._control is not None:
            try:
                self._control.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._control.close()
            self._control = None
        if self._control_path is not None:
            self._control_path.unlink(missing_ok=True)
            self._control_path = None


def _catches_sigint(pid: int) -> bool:
    """True while the interpreter catches SIGINT: its keyboard interrupt is on (micropython.kbd_intr(3))."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        pass
    return False
