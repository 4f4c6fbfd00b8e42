"""The demo as a user starts it: ``jeton-web demo`` in its own process, read line by line, stopped by signal."""

from __future__ import annotations

import os
import pty
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
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Which segments each digit lights (a top, b upper right, c lower right, d bottom, e lower left, f upper left,
# g middle): the usual 7-segment font, written here independently of the renderer.
DIGITS = {"abcdef": "0", "bc": "1", "abdeg": "2", "abcdg": "3", "bcfg": "4", "acdfg": "5", "acdefg": "6",
          "abc": "7", "abcdefg": "8", "abcdfg": "9", "g": "-"}


def _digit(rows: list[str], k: int) -> str:
    """The character drawn in the k-th 4-column cell of three text rows ("?" when it is no digit)."""
    top, mid, low = (row[4 * k:4 * k + 4] for row in rows)
    lit = {"a": top[1] == "_", "f": mid[0] == "|", "g": mid[1] == "_", "b": mid[2] == "|",
           "e": low[0] == "|", "d": low[1] == "_", "c": low[2] == "|"}
    return DIGITS.get("".join(sorted(name for name, on in lit.items() if on)), "?")


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
    terminal: int | None = None  # the master side of the demo's terminal, when it runs in one

    def _read(self) -> None:
        pending = ""
        while chunk := self._chunk():
            pending += chunk
            *complete, pending = pending.split("\n")
            with self.done:
                self.lines += [line.rstrip("\r") for line in complete]
                self.done.notify_all()
        with self.done:
            self.lines += [pending] if pending else []
            self.eof = True
            self.done.notify_all()

    def _chunk(self) -> str:
        if self.terminal is None:
            return self.proc.stdout.readline()
        try:
            return os.read(self.terminal, 65536).decode(errors="replace")
        except OSError:  # EIO: the demo closed its terminal
            return ""

    def panel(self, login: str) -> str | None:
        """The digits the terminal shows now on ``login``'s token (the last drawing), read off the segments."""
        with self.done:
            lines = [ANSI.sub("", line) for line in self.lines]
        heads = [i for i, line in enumerate(lines) if re.match(rf"  {login} +JT-\d{{6}}  ", line)]
        if not heads or heads[-1] + 2 >= len(lines):
            return None
        first = heads[-1]
        serial = re.match(r"  \S+ +(JT-\d{6})", lines[first]).group(1)
        start = len(f"  {login:<8} {serial:<10}  ")  # the drawing's first column, as the demo lays it out
        rows = [line[start:].ljust(start + 24) for line in lines[first:first + 3]]
        return "".join(_digit(rows, k) for k in range(6))

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

    def start(port: int, *args: str, terminal: bool = False) -> DemoProcess:
        """With ``terminal``, the demo's stdout is a pseudo-terminal, as when a person runs it."""
        directory = tmp_path / "demo"
        master, slave = pty.openpty() if terminal else (None, None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "booklet_web.cli", "demo", "--dir", str(directory), "--port", str(port), *args],
            stdin=subprocess.DEVNULL, stdout=slave if terminal else subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=ROOT, start_new_session=True,
        )
        if terminal:
            os.close(slave)
        demo = DemoProcess(proc, directory.resolve(), terminal=master)
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
        for stream in (demo.proc.stdout, demo.proc.stderr):
            if stream is not None:
                stream.close()
        if demo.terminal is not None:
            os.close(demo.terminal)
