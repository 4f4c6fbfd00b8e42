"""The cost of reading other tools' PSKC safely, and of the shared command-line plumbing.

- PSKC import: ``verifier.interchange.read_token_file`` on a 200-key file (pre-shared key), which parses with
  defusedxml, normalises names and forms, hands that tree to python-pskc's parser, which decrypts (the MAC key
  decrypted once); baseline in the same run:
  python-pskc alone on the same file (parse and decrypt every secret).
- Command start: ``jeton-provision --help`` and ``jeton-admin --help`` in their own process (click's French
  catalogue, the common options, the verifier's lazy package); baseline: ``python -c 'import click'``.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.runner import Figure, median, timings
from tests.support import ROOT

PSK = bytes(range(16))
KEYS = 200


def _pskc_file(directory: Path) -> Path:
    from provisioner.exporting import ExportItem, to_pskc
    from provisioner.records import Record

    items = [ExportItem(Record(f"JT-{i:06d}", "ready", "sha256" if i % 2 else "sha1", 6, 30), bytes([i % 256]) * 32)
             for i in range(KEYS)]
    path = directory / "bench.pskc"
    path.write_bytes(to_pskc(items, psk=PSK))
    return path


def _pskc_alone(path: Path) -> None:
    import pskc

    doc = pskc.PSKC(io.BytesIO(path.read_bytes()))
    doc.encryption.key = PSK
    if not all(key.secret for key in doc.keys):
        raise RuntimeError("python-pskc did not decrypt every key")


def _start(*args: str) -> None:
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT, capture_output=True)


def run(quick: bool) -> list[Figure]:
    from verifier.interchange import read_token_file

    repeat = 2 if quick else 10
    with tempfile.TemporaryDirectory(prefix="jeton-bench-interop-") as name:
        path = _pskc_file(Path(name))
        ours = median(timings(lambda: read_token_file(path, psk=PSK), repeat))
        alone = median(timings(lambda: _pskc_alone(path), repeat))
    floor = median(timings(lambda: _start("-c", "import click"), repeat))
    provision = median(timings(lambda: _start("-m", "provisioner.cli", "--help"), repeat))
    admin = median(timings(lambda: _start("-m", "verifier.cli", "--help"), repeat))
    note = f"median of {repeat}"
    return [
        Figure(f"PSKC import, {KEYS} keys (defusedxml + normalise + pskc)", ours, "s",
               "python-pskc alone, same file", alone, note=note),
        Figure("jeton-provision --help (process)", provision, "s", "python -c 'import click'", floor, note=note),
        Figure("jeton-admin --help (process)", admin, "s", "python -c 'import click'", floor, note=note),
    ]
