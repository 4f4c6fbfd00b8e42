"""The demo as a user starts it: ``jeton-web demo`` in its own process, read line by line, stopped by signal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import ROOT, find_micropython, require

READY = "Démo prête en"


@dataclass
class DemoProcess:
    """A running ``jeton-web demo`` and what it printed so far."""

    proc: subprocess.Popen
    directory: Path
    lines: list[str] = field(default_factory=list)
    done: threading.Condition = field(default_factory=threading.Condition)
    seen: set[tuple[int, int]] = field(default_factory=set)  # (pid, start time) of every descendant seen
    eof: bool = False
    reader: threading.Thread | None = None

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.done:
                self.lines.append(line.rstrip("\n"))
                self.done.notify_all()
        with self.done:
            self.eof = True
            self.done.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> str:
        """The first line containing ``text``; fails with everything printed when it does not come."""
        with self.done:
            self.done.wait_for(lambda: self.eof or any(text in line for line in self.lines), timeout)
            found = [line for line in self.lines if text in line]
        if found:
            return found[0]
        err = self.proc.stderr.read() if self.eof and self.proc.poll() is not None else "(still running)"
        pytest.fail(f"the demo never printed {text!r}; it printed:\n{self.output}\nstderr: {err}")

    @property
    def output(self) -> str:
        with self.done:
            return "\n".join(self.lines)

    def ports(self) -> list[str]:
        return [line.split(" ", 1)[1] for line in self.output.splitlines() if line.startswith("PORT ")]

    def serials(self) -> dict[str, str]:
        """login -> the serial of its token, from the accounts the demo lists."""
        return dict(re.findall(r"^  ([a-z]+)\s.*clé (JT-\d{6})$", self.output, re.MULTILINE))

    def note_descendants(self) -> None:
        self.seen |= {(pid, start_time(pid)) for pid in descendants(self.proc.pid)}

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields after "pid (comm)"


def start_time(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[19]) if fields else -1


def descendants(root: int) -> set[int]:
    """Every process whose parent chain leads to ``root`` (read from /proc; psutil is not needed)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int, started: int) -> bool:
    fields = _stat(pid)
    return fields is not None and int(fields[19]) == started and fields[0] != "Z"


def processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is inside ``directory`` (each simulated token runs in its own)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd == str(directory) or cwd.startswith(f"{directory}/"):
                out.append(int(entry.name))
    return out


@pytest.fixture
def start_demo(tmp_path):
    """Start ``jeton-web demo --dir <tmp>/demo --port PORT [args]``; every demo started is stopped at the end."""
    require(find_micropython() is not None, "the micropython interpreter (the simulated tokens run on it)")
    started: list[DemoProcess] = []

    def start(port: int, *args: str) -> DemoProcess:
        directory = tmp_path / "demo"
        proc = subprocess.Popen(
            [sys.executable, "-m", "booklet_web.cli", "demo", "--dir", str(directory), "--port", str(port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        demo = DemoProcess(proc, directory.resolve())
        demo.reader = threading.Thread(target=demo._read, daemon=True)
        demo.reader.start()
        started.append(demo)
        return demo

    yield start
    for demo in started:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.proc.wait(10)
        for pid in processes_in(demo.directory):  # left behind by a failed test: ours, in our folder
            os.kill(pid, signal.SIGKILL)
        demo.reader.join(10)
        demo.proc.stdout.close()
        demo.proc.stderr.close()
