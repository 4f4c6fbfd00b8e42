"""Byte lines over a serial port: ``serial.serial_for_url`` so a device, a pty or ``loop://`` all work.

The transport knows nothing of frames. It writes bytes and reads lines, with a per-read timeout (how long one
``read`` may block) and an overall deadline given by the caller for a whole exchange.
"""

from __future__ import annotations

import termios
import time

import serial

from provisioner.errors import TransportError

#: Longest line we keep; the protocol caps frames at 200 bytes, anything longer is noise to discard.
MAX_LINE = 512


class Transport:
    """An open serial link. Use as a context manager; ``close()`` is idempotent.

    >>> with Transport("loop://") as link:
    ...     link.write(b"hello\\n")
    ...     link.read_line(deadline=time.monotonic() + 1)
    b'hello'
    """

    def __init__(self, url: str, *, baudrate: int = 115200, read_timeout: float = 0.05, exclusive: bool = True):
        self.url = url
        self._buffer = bytearray()
        self._discarding = False
        try:
            kwargs = {"exclusive": True} if exclusive and not url.startswith(("loop://", "socket://")) else {}
            self._serial = serial.serial_for_url(url, baudrate=baudrate, timeout=read_timeout, **kwargs)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(url, _reason(exc)) from None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the port (safe to call twice)."""
        try:
            self._serial.close()
        except (serial.SerialException, OSError):
            pass

    def write(self, data: bytes) -> None:
        """Write all of ``data`` or raise :class:`TransportError`."""
        try:
            self._serial.write(data)
            self._serial.flush()
        except (serial.SerialException, OSError, termios.error) as exc:  # tcdrain on a pty whose device went away
            raise TransportError(self.url, _reason(exc)) from None

    def discard_input(self) -> None:
        """Forget whatever the device sent before now (stale replies, boot messages)."""
        self._buffer.clear()
        self._discarding = False
        try:
            self._serial.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise TransportError(self.url, _reason(exc)) from None

    def read_line(self, deadline: float) -> bytes | None:
        """The next line without its ``\\n`` (and without a trailing ``\\r``), or None at ``deadline``.

        A line longer than :data:`MAX_LINE` is dropped up to its newline. Raises :class:`TransportError`
        when the port goes away.
        """
        while True:
            line = self._take_line()
            if line is not None:
                return line
            if time.monotonic() >= deadline:
                return None
            try:
                waiting = self._serial.in_waiting
                chunk = self._serial.read(max(1, min(waiting, 4096)))
            except (serial.SerialException, OSError, TypeError) as exc:
                # pyserial raises TypeError from a closed pty on some paths; it is still "the port went away".
                raise TransportError(self.url, _reason(exc)) from None
            if chunk:
                self._buffer += chunk
            elif not self._serial.is_open:
                raise TransportError(self.url, "port fermé")

    def _take_line(self) -> bytes | None:
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    self._buffer.clear()
                    self._discarding = True
                return None
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if self._discarding or len(line) > MAX_LINE:
                self._discarding = False
                continue
            return line[:-1] if line.endswith(b"\r") else line


def _reason(exc: BaseException) -> str:
    """A short French reason for an OS/pyserial error, without a Python traceback."""
    errno = getattr(exc, "errno", None)
    if isinstance(exc, termios.error) and exc.args:
        errno = exc.args[0]  # termios.error is not an OSError: (errno, message)
    text = str(exc)
    if errno == 2 or "No such file" in text or "could not open port" in text and "No such" in text:
        return "introuvable (clé débranchée ?)"
    if errno == 13 or "Permission denied" in text:
        return "accès refusé (groupe dialout ?)"
    if errno == 16 or "busy" in text.lower() or "lock" in text.lower():
        return "déjà utilisé par un autre programme"
    if "device reports readiness" in text or "disconnected" in text or errno == 5:
        return "la clé a été débranchée"
    return text.splitlines()[0] if text else exc.__class__.__name__
