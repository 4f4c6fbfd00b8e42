"""A real board's defences, shown on the simulator (the real firmware under MicroPython on a pty): no REPL for
a host that streams Ctrl-C at boot, codes over USB only after a press, ``--press`` and ``--always-on``."""

from __future__ import annotations

import subprocess
import threading
import time

import pyotp
import pytest
import serial

from tests.firmware.test_sim import BIN, SECRET_B32, Host
from token_firmware.sim import SimulatedToken

pytestmark = pytest.mark.micropython


def locked(token: SimulatedToken) -> Host:
    host = Host(token.port)
    assert host.ask(f"SEED JT-000042 {SECRET_B32} sha1 6 30") == "OK state=seeded"
    assert host.ask("LOCK") == "OK state=locked"
    return host


def kbd_off_count(token: SimulatedToken) -> int:
    return sum(1 for _, line in list(token.events) if line == "KBD 0")


class Listener:
    """Everything the token writes on its serial line, gathered by a thread."""

    def __init__(self, port: str):
        self.ser = serial.Serial(port, timeout=0.05)
        self.data = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.data += self.ser.read(4096)

    def close(self) -> bytes:
        self.stop.set()
        self.thread.join(5)
        self.ser.close()
        return bytes(self.data)


def stream_ctrl_c(port: str, stop: threading.Event) -> threading.Thread:
    def run() -> None:
        with serial.Serial(port, write_timeout=0.5) as out:
            while not stop.is_set():
                try:
                    out.write(b"\x03")
                except serial.SerialTimeoutException:
                    continue  # the board is slow to take bytes: keep pressing, as a hostile host would
                time.sleep(0.0005)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_locked_token_rebooted_200_times_under_a_ctrl_c_stream_never_shows_a_repl(tmp_path):
    with SimulatedToken(tmp_path) as token:
        locked(token).close()
        listener = Listener(token.port)
        stop = threading.Event()
        streamer = stream_ctrl_c(token.port, stop)
        try:
            for n in range(200):
                before = kbd_off_count(token)
                token.reset()  # power cycle: the 0x03 bytes are there from the board's first instant
                end = time.monotonic() + 60  # a boot takes ~0.1 s; a starved shared machine once took >20 s
                while kbd_off_count(token) == before:  # until the firmware has loaded its store again
                    assert b">>>" not in listener.data, f"boot {n} dropped to the REPL: {bytes(listener.data[:700])!r}"
                    assert time.monotonic() < end, f"boot {n} never finished: {token.log()[-500:]}"
                    time.sleep(0.005)
        finally:
            stop.set()
            streamer.join(5)
        time.sleep(0.2)
        out = listener.close()
        assert b">>>" not in out and b"raw REPL" not in out and b"Traceback" not in out
        assert token.boots >= 201
        host = Host(token.port)
        host.ser.write(b"\n")  # end the line of 0x03 bytes (a plain byte to a locked token)
        assert "state=locked" in host.ask("HELLO")
        host.close()


def test_the_same_stream_reaches_the_repl_of_a_blank_token_so_tools_still_get_in(tmp_path):
    with SimulatedToken(tmp_path) as token:
        host = Host(token.port)
        assert "state=blank" in host.ask("HELLO")
        host.ser.write(b"\x03")
        host.ser.timeout = 10
        seen = host.ser.read_until(b">>> ")
        assert seen.endswith(b">>> "), seen  # MicroPython's REPL: what mpremote needs (test_sim.py flashes with it)
        host.close()


def test_a_locked_token_gives_codes_over_usb_only_after_a_press_on_its_button(tmp_path):
    with SimulatedToken(tmp_path) as token:
        host = locked(token)
        token.wait_display(lambda d: d is None, timeout=15)  # the display of the SEED/LOCK session went dark
        assert host.ask("CODE") == "ERR presence"  # malware on the PC reads nothing
        assert host.ask("PROVE 00112233445566778899aabbccddeeff").startswith("OK mac=")  # unchanged
        press = subprocess.run([str(BIN / "jeton-sim"), "--press", token.port], capture_output=True, text=True,
                               timeout=30)
        assert press.returncode == 0, press.stderr
        shown = token.wait_display(lambda d: d is not None and d.isdigit())
        fields = dict(w.split("=") for w in host.ask("CODE").split()[1:])
        assert fields["code"] == token.display() or fields["code"] == shown
        now = int(host.ask("HELLO").rsplit("time=", 1)[1])
        assert fields["code"] in (pyotp.TOTP(SECRET_B32).at(now), pyotp.TOTP(SECRET_B32).at(now - 1))
        host.close()


def test_press_names_a_port_no_simulated_token_serves_in_one_french_line(tmp_path):
    proc = subprocess.run([str(BIN / "jeton-sim"), "--press", str(tmp_path / "nothing")], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jeton-sim : aucune clé simulée ne sert ")


def test_always_on_keeps_the_code_shown_so_a_locked_token_answers_code(tmp_path):
    with SimulatedToken(tmp_path / "tok") as token:
        locked(token).close()
    with SimulatedToken(tmp_path / "tok", always_on=True) as token:
        host = Host(token.port)
        assert token.wait_display(lambda d: d is not None and d.isdigit())
        assert host.ask("CODE").startswith("OK code=")
        assert token.powered()
        host.close()
