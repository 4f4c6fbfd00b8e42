"""Regenerate the sample files of this folder with the tools that write them (see README.md).

Run from the repository root: ``.venv/bin/python -m tests.interop.samples.generate`` (needs .venv-privacyidea,
``make privacyidea``). The secrets are public test values; the files are committed, so the tests do not need the
tools to read them.
"""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
from pathlib import Path

import pskc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
SHA1_KEY = bytes(range(1, 21))
SHA256_KEY = bytes(range(1, 33))


def privacyidea() -> dict:
    """privacyIDEA 3.14's export_pskc (what pi-tokenjanitor export --format pskc writes), one file per token."""
    made = {}
    specs = {
        "privacyidea-3.14-sha1-6-30.pskc": {"serial": "PISHA1", "otpkey": SHA1_KEY.hex(), "hashlib": "sha1",
                                            "otplen": 6, "timeStep": 30, "timeShift": 0},
        "privacyidea-3.14-sha256-8-60.pskc": {"serial": "PISHA256", "otpkey": SHA256_KEY.hex(), "hashlib": "sha256",
                                              "otplen": 8, "timeStep": 60, "timeShift": -8.0},
    }
    with tempfile.TemporaryDirectory() as work:
        for name, spec in specs.items():
            job = {"op": "export", "workdir": work, "file": str(HERE / name), "tokens": [spec]}
            driver = [str(ROOT / ".venv-privacyidea/bin/python"), str(HERE.parent / "privacyidea_driver.py")]
            done = subprocess.run(driver, input=json.dumps(job), capture_output=True, text=True, check=True)
            answer = json.loads(done.stdout.strip().splitlines()[-1])
            made[name] = {"psk_hex": answer["psk"]}
    return made


def python_pskc() -> dict:
    """python-pskc 1.4 writing a PBKDF2-protected file and a plain one."""
    made = {}
    for name, protect in (("python-pskc-1.4-pbkdf2.pskc", True), ("python-pskc-1.4-plain.pskc", False)):
        doc = pskc.PSKC()
        doc.add_key(id="PYSHA256", serial="PYSHA256", algorithm=TOTP, algorithm_suite="HMAC-SHA256",
                    response_encoding="DECIMAL", response_length=8, time_interval=60, time_drift=2, secret=SHA256_KEY)
        doc.add_key(id="PYSHA1", serial="PYSHA1", algorithm=TOTP, response_encoding="DECIMAL", response_length=6,
                    time_interval=30, secret=SHA1_KEY)
        if protect:
            doc.encryption.setup_pbkdf2("mot de passe d'exemple", algorithm="aes128-cbc", iterations=1000)
            doc.mac.setup(algorithm="hmac-sha1")
        out = io.BytesIO()
        doc.write(out)
        (HERE / name).write_bytes(out.getvalue())
        made[name] = {"password": "mot de passe d'exemple"} if protect else {}
    return made


if __name__ == "__main__":
    print(json.dumps({**privacyidea(), **python_pskc()}, indent=2))
