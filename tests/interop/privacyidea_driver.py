"""Drives privacyIDEA 3.14's own library in its own virtual environment (run with .venv-privacyidea/bin/python).

Reads one JSON job on stdin, writes one JSON answer on stdout. ``workdir`` holds privacyIDEA's config, its
encryption key and its SQLite database (created on first use). Jobs:

- ``{"op": "import", "file": PATH, "psk": HEX, "codes": {SERIAL: CODE}}``: privacyIDEA's PSKC import
  (``parsePSKCdata``, as its web UI and ``pi-tokenjanitor import`` use), then ``check_serial_pass`` of each code;
  answers ``{SERIAL: {"hashlib", "otplen", "timeStep", "accepted"}}``.
- ``{"op": "export", "file": PATH, "tokens": [{"serial", "otpkey" (hex), "hashlib", "otplen", "timeStep",
  "timeShift"}]}``: creates those TOTP tokens and writes privacyIDEA's PSKC export (``export_pskc``, as
  ``pi-tokenjanitor export --format pskc`` does); answers ``{"psk": HEX, "codes": {SERIAL: CODE}, "at": UNIX}``.
"""

import json
import logging
import os
import sys
import time


def _app(workdir):
    from privacyidea.app import create_app
    from privacyidea.models import db

    config = os.path.join(workdir, "pi.cfg")
    if not os.path.exists(config):
        with open(os.path.join(workdir, "enckey"), "wb") as key:
            key.write(os.urandom(96))
        with open(config, "w") as out:
            out.write(
                f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{workdir}/pi.db'\n"
                f"PI_ENCFILE = '{workdir}/enckey'\nPI_AUDIT_NO_SIGN = True\n"
                f"PI_AUDIT_SQL_URI = 'sqlite:///{workdir}/pi.db'\nPI_PEPPER = 'interop-test'\n"
                f"SECRET_KEY = 'interop-test'\nPI_LOGLEVEL = 40\nPI_LOGFILE = '{workdir}/pi.log'\n"
            )
    app = create_app("production", config_file=config, silent=True)
    return app, db


def run(job):
    logging.disable(logging.CRITICAL)
    app, db = _app(job["workdir"])
    with app.app_context():
        db.create_all()
        from privacyidea.lib.importotp import export_pskc, parsePSKCdata
        from privacyidea.lib.token import check_serial_pass, get_one_token, import_token, init_token, remove_token

        if job["op"] == "import":
            with open(job["file"]) as f:
                tokens, refused = parsePSKCdata(f.read(), preshared_key_hex=job.get("psk"),
                                                password=job.get("password"))
            answer = {"refused": list(refused)}
            for serial, data in tokens.items():
                remove_token(serial=serial) if get_one_token(serial=serial, silent_fail=True) else None
                import_token(serial, data)
                token = get_one_token(serial=serial)
                accepted, _ = check_serial_pass(serial, job["codes"][serial])
                answer[serial] = {"hashlib": token.get_tokeninfo("hashlib") or "sha1",
                                  "otplen": int(token.token.otplen),
                                  "timeStep": int(token.get_tokeninfo("timeStep") or 30),
                                  "accepted": bool(accepted)}
            return answer
        if job["op"] == "export":
            made = []
            for spec in job["tokens"]:
                if get_one_token(serial=spec["serial"], silent_fail=True):
                    remove_token(serial=spec["serial"])
                made.append(init_token({"type": "totp", **spec}))
            psk, count, soup = export_pskc(made)
            with open(job["file"], "w") as out:
                out.write(str(soup))
            at = time.time()
            codes = {t.token.serial: t.get_otp()[2] for t in made}
            return {"psk": psk, "count": count, "codes": codes, "at": at}
        raise ValueError(job["op"])


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
