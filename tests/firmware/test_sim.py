"""The simulator: the real firmware under MicroPython on a pty that pyserial opens like /dev/ttyACM0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pyotp
import pytest
import serial

from tests.golden_frames import frame
from token_firmware import DEVICE_DIR
from token_firmware.sim import SimulatedToken, SimulatorError
from token_firmware.sim_cli import render

SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.micropython


class Host:
    """The host side of the protocol over pyserial (what the provisioner does, minimally)."""

    def __init__(self, port: str):
        self.ser = serial.Serial(port, timeout=5)
        self.next_id = 1

    def ask(self, body: str) -> str:
        rid = self.next_id
        self.next_id += 1
        self.ser.write(frame(f"{rid} {body}").encode() + b"\n")
        return self.reply(rid)

    def reply(self, rid: int) -> str:
        while True:
            line = self.ser.readline()
            assert line.endswith(b"\n"), f"no reply: {line!r}"
            body, _, check = line.decode(errors="replace").rstrip("\n").rpartition("*")
            if check != f"{zlib.crc32(body.encode()):08x}":
                continue  # not a frame (e.g. what the REPL printed before the firmware booted): dropped
            got_id, rest = body.split(" ", 1)
            if int(got_id) == rid:
                return rest

    def close(self) -> None:
        self.ser.close()


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is ``directory`` (the simulator runs each token there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(directory):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_seed_then_press_shows_the_code_the_host_computes(tmp_path):
    with SimulatedToken(tmp_path / "tok") as token:
        host = Host(token.port)
        assert host.ask("HELLO").startswith("OK proto=1 fw=1.0.0 model=host serial=- state=blank clock=ok")
        assert token.display() is None
        token.press()
        assert token.wait_display(lambda d: d is not None) == "------"
        assert host.ask(f"SEED JT-000042 {SECRET_B32} sha1 6 30") == "OK state=seeded"
        assert (tmp_path / "tok" / "jeton.dat").exists() and (tmp_path / "tok").stat().st_mode & 0o077 == 0
        assert host.ask("LOCK") == "OK state=locked"
        shown = token.wait_display(lambda d: d is not None and d.isdigit())
        fields = dict(w.split("=") for w in host.ask("CODE").split()[1:])
        now = int(host.ask("HELLO").rsplit("time=", 1)[1])
        totp = pyotp.TOTP(SECRET_B32)
        assert shown in (totp.at(now), totp.at(now - 1)) and fields["code"] in (shown, totp.at(now))
        assert token.powered()
        lit = bin(token.dots()).count("1")
        assert 1 <= lit <= 6
        host.close()
        pid = token.pid
    assert not _alive(pid)


def test_bytes_one_at_a_time_and_a_frame_split_across_writes(tmp_path):
    with SimulatedToken(tmp_path) as token:
        ser = serial.Serial(token.port, timeout=5)
        for b in frame("7 HELLO").encode() + b"\n":
            ser.write(bytes([b]))
            ser.flush()
            time.sleep(0.002)
        assert ser.readline().startswith(b"7 OK proto=1")
        data = frame("8 HELLO").encode() + b"\r\n"
        ser.write(data[:5])
        time.sleep(0.3)
        assert ser.in_waiting == 0
        ser.write(data[5:])
        assert ser.readline().startswith(b"8 OK proto=1")
        ser.close()


def test_state_persists_across_runs_and_the_clock_offset_shows(tmp_path):
    with SimulatedToken(tmp_path) as token:
        host = Host(token.port)
        assert host.ask(f"SEED JT-000007 {SECRET_B32} sha1 6 30") == "OK state=seeded"
        host.close()
    with SimulatedToken(tmp_path, clock_offset=3600) as token:
        host = Host(token.port)
        hello = host.ask("HELLO")
        assert "serial=JT-000007 state=seeded" in hello
        assert abs(int(hello.rsplit("time=", 1)[1]) - (time.time() + 3600)) < 5
        # TIME sets the clock; the simulated DS3231 keeps it across runs
        assert host.ask("TIME 1767225612") == "OK time=1767225612"
        host.close()
    with SimulatedToken(tmp_path) as token:
        host = Host(token.port)
        assert abs(int(host.ask("HELLO").rsplit("time=", 1)[1]) - (1767225612 - 3600)) < 5
        host.close()


def test_a_corrupt_store_shows_its_glyph_and_says_so(tmp_path):
    (tmp_path / "jeton.dat").write_bytes(b"JETON1;locked;JT-1;00*00000000\n")
    with SimulatedToken(tmp_path) as token:
        host = Host(token.port)
        assert "state=corrupt" in host.ask("HELLO")
        assert host.ask("CODE") == "ERR storage"
        token.press()
        assert token.wait_display(lambda d: d is not None) == "Err St"
        host.close()


def test_jeton_sim_prints_its_ports_first_and_leaves_nothing_behind(tmp_path):
    proc = subprocess.Popen(
        [str(BIN / "jeton-sim"), "--headless", "--count", "2", "--state", str(tmp_path), "--clock-offset", "-90"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert all(line.startswith("PORT /dev/pts/") for line in lines)
        for n, line in enumerate(lines, 1):
            host = Host(line.split(" ", 1)[1])
            hello = host.ask("HELLO")
            assert abs(int(hello.rsplit("time=", 1)[1]) - (time.time() - 90)) < 5
            host.close()
            assert _processes_in(tmp_path / f"token-{n}")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert err == ""
    assert _processes_in(tmp_path / "token-1") == [] and _processes_in(tmp_path / "token-2") == []


def test_blank_board_is_flashed_with_mpremote_and_boots_the_firmware_on_reset(tmp_path):
    mpremote = str(BIN / "mpremote")
    with SimulatedToken(tmp_path, blank=True) as board:

        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [mpremote, "connect", board.port, "resume", *args], capture_output=True, text=True, timeout=60
            )

        out = run("exec", "import sys; print(sys.platform)")
        assert out.returncode == 0 and out.stdout.strip() == "linux", out.stderr
        files = [str(p) for p in sorted(DEVICE_DIR.glob("*.py"))]
        assert run("fs", "cp", *files, ":./").returncode == 0
        assert sorted(p.name for p in tmp_path.glob("*.py")) == sorted(Path(f).name for f in files)
        assert run("reset").returncode == 0
        host = Host(board.port)
        host.ser.write(b"\n")  # a lone newline flushes whatever the tool left on the line
        assert "model=host serial=- state=blank" in host.ask("HELLO")
        host.close()
        # a blank token keeps Ctrl-C: mpremote gets the REPL back
        out = run("exec", "print('repl')")
        assert out.returncode == 0 and out.stdout.strip() == "repl", out.stderr


def test_a_locked_token_never_drops_to_the_repl(tmp_path):
    with SimulatedToken(tmp_path) as token:
        host = Host(token.port)
        assert host.ask(f"SEED JT-000042 {SECRET_B32} sha1 6 30") == "OK state=seeded"
        assert host.ask("LOCK") == "OK state=locked"
        host.ser.write(b"\r\x03\x03\r\x01\n")  # what mpremote sends to reach the raw REPL
        assert host.reply(0) == "ERR syntax"  # a plain line of bytes to a locked token
        assert "state=locked" in host.ask("HELLO")
        assert token.boots == 1 and token.running
        host.close()


def test_render_draws_seven_segment_digits_with_points():
    rows = [r.rstrip() for r in render("12", 0b110000)]
    assert rows == ["     _", "  |  _|", "  |.|_ ."]
    assert render(None, 0)[1].strip() == "(éteint)"


def test_an_interpreter_that_cannot_start_is_one_clear_error(tmp_path):
    with pytest.raises(SimulatorError, match="did not start"):
        SimulatedToken(tmp_path, micropython=str(tmp_path / "no-such-micropython")).start()


def test_jeton_sim_errors_are_one_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    proc = subprocess.run(
        [str(BIN / "jeton-sim"), "--headless", "--state", str(tmp_path / "a-file")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jeton-sim: ") and "Traceback" not in proc.stderr


def test_in_a_terminal_it_draws_the_display_and_a_key_presses_the_button(tmp_path):
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "jeton-sim"), "--state", str(tmp_path)], stdin=slave, stdout=slave, stderr=slave, close_fds=True
    )
    os.close(slave)
    seen = b""

    def read_until(marker: bytes, timeout: float = 10) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while marker not in seen:
            assert time.monotonic() < end, f"never drew {marker!r}: {seen[-400:]!r}"
            if select.select([master], [], [], 0.1)[0]:
                seen += os.read(master, 65536)

    try:
        read_until(b"PORT /dev/pts/")
        read_until("(éteint)".encode())
        seen = b""
        os.write(master, b" ")
        read_until(b" _   _   _   _   _   _")  # six dashes, drawn in seven segments
        os.write(master, b"q")
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert _processes_in(tmp_path) == []


def test_a_flat_clock_cell_shows_err_cl_until_time_is_set(tmp_path):
    (tmp_path / "rtc.txt").write_text("0 1\n")  # the simulated DS3231's oscillator-stop flag
    with SimulatedToken(tmp_path) as token:
        host = Host(token.port)
        assert host.ask(f"SEED JT-000042 {SECRET_B32} sha1 6 30") == "OK state=seeded"
        assert "clock=lost" in host.ask("HELLO")
        assert host.ask("CODE") == "ERR clock"
        token.press()
        assert token.wait_display(lambda d: d is not None) == "Err CL"
        assert host.ask(f"TIME {int(time.time())}").startswith("OK time=")
        assert "clock=ok" in host.ask("HELLO")
        assert token.wait_display(lambda d: d is not None and d.isdigit()).isdigit()
        host.close()
    assert (tmp_path / "rtc.txt").read_text().split()[1] == "0"
