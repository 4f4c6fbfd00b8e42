"""Debian's real RADIUS clients, driven the way IT staff use them: radclient/radtest (freeradius-utils),
pam_radius_auth through pamtester, and FreeRADIUS as a proxy. Installed by ``make radius-tools``."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import require

PAM_MODULE = "pam_radius_auth.so"
_RECEIVED = re.compile(r"^Received (Access-\w+) Id \d+", re.M)
_ATTRIBUTE = re.compile(r"^\s+([\w-]+) = (.*)$", re.M)


def require_tools(*names: str) -> None:
    for name in names:
        require(shutil.which(name) is not None, f"{name} (Debian; `make radius-tools` installs it)")


def radclient(address: tuple[str, int], attributes: str, secret: str, *, code: str = "auth",
              retries: int = 1, timeout: float = 5) -> tuple[str | None, dict[str, str], str]:
    """One request with radclient: (reply kind or None, reply attributes, full output)."""
    require_tools("radclient")
    proc = subprocess.run(["radclient", "-x", "-r", str(retries), "-t", str(timeout), f"{address[0]}:{address[1]}",
                           code, secret], input=attributes, capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    found = _RECEIVED.search(out)
    if not found:
        return None, {}, out
    received = out[found.end():]
    return found.group(1), {k: v.strip('"') for k, v in _ATTRIBUTE.findall(received)}, out


def radtest(address: tuple[str, int], login: str, password: str, secret: str) -> tuple[str | None, str]:
    require_tools("radtest")
    proc = subprocess.run(["radtest", login, password, f"{address[0]}:{address[1]}", "0", secret],
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    found = _RECEIVED.search(out)
    return (found.group(1) if found else None), out


def pam_module_present() -> bool:
    dirs = ("/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/security", "/lib/aarch64-linux-gnu/security",
            "/usr/lib/aarch64-linux-gnu/security", "/lib/security", "/usr/lib/security", "/lib64/security")
    return any(Path(d, PAM_MODULE).exists() for d in dirs)


@contextmanager
def pam_service(tmp: Path, address: tuple[str, int], secret: str) -> Iterator[str]:
    """A PAM service using pam_radius_auth against ``address``. pamtester only reads /etc/pam.d/, so the service
    file goes there under a unique name and is removed afterwards; the pam_radius config stays in ``tmp``."""
    require_tools("pamtester")
    require(pam_module_present(), "pam_radius_auth.so (Debian libpam-radius-auth)")
    require(os.access("/etc/pam.d", os.W_OK), "write access to /etc/pam.d (root) for a temporary PAM service")
    conf = tmp / "pam_radius_auth.conf"
    conf.write_text(f"{address[0]}:{address[1]} {secret} 5\n")
    conf.chmod(0o600)
    name = f"jeton-radius-test-{secrets.token_hex(4)}"
    service = Path("/etc/pam.d") / name
    service.write_text(f"auth required {PAM_MODULE} conf={conf}\naccount required pam_permit.so\n")
    try:
        yield name
    finally:
        service.unlink(missing_ok=True)


def pamtester(service: str, login: str, answers: list[str]) -> subprocess.CompletedProcess:
    """``pamtester SERVICE LOGIN authenticate``, typing ``answers`` at its prompts (one a line)."""
    return subprocess.run(["pamtester", "-v", service, login, "authenticate"], input="".join(a + "\n" for a in answers),
                          capture_output=True, text=True, timeout=60)


FREERADIUS_CONF = """\
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {tmp}
sbindir = /usr/sbin
logdir = {tmp}
raddbdir = {tmp}
radacctdir = {tmp}
name = freeradius
confdir = {tmp}
modconfdir = {tmp}
run_dir = {tmp}
db_dir = {tmp}
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = {tmp}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
    destination = stderr
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = yes
    allow_vulnerable_openssl = yes
}}
proxy_requests = yes
thread pool {{
    start_servers = 2
    max_servers = 4
    min_spare_servers = 1
    max_spare_servers = 3
}}
client gateway {{
    ipaddr = 127.0.0.1
    secret = {front_secret}
    require_message_authenticator = yes
}}
home_server jeton {{
    type = auth
    ipaddr = {jeton_host}
    port = {jeton_port}
    secret = {jeton_secret}
    response_window = 10
    status_check = none
}}
home_server_pool jeton_pool {{
    type = fail-over
    home_server = jeton
}}
realm jeton {{
    auth_pool = jeton_pool
    nostrip
}}
server default {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {port}
    }}
    authorize {{
        update control {{
            Proxy-To-Realm := "jeton"
        }}
    }}
    authenticate {{
    }}
    pre-proxy {{
        update proxy-request {{
            Message-Authenticator := 0x00
        }}
    }}
    post-proxy {{
    }}
}}
"""


@contextmanager
def freeradius_proxy(tmp: Path, port: int, jeton: tuple[str, int], jeton_secret: str,
                     front_secret: str) -> Iterator[subprocess.Popen]:
    """FreeRADIUS in the foreground on ``port``, with its own config directory, proxying every Access-Request to
    jeton-radius; stopped (SIGTERM) when the block ends."""
    require_tools("freeradius")
    conf = tmp / "freeradius"
    conf.mkdir()
    (conf / "radiusd.conf").write_text(FREERADIUS_CONF.format(
        tmp=conf, port=port, jeton_host=jeton[0], jeton_port=jeton[1], jeton_secret=jeton_secret,
        front_secret=front_secret))
    (conf / "dictionary").write_text("# the standard dictionaries come from /usr/share/freeradius\n")
    log = open(tmp / "freeradius.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(["freeradius", "-f", "-xx", "-l", "stdout", "-d", str(conf), "-n", "radiusd"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "Ready to process requests" not in (tmp / "freeradius.log").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("FreeRADIUS did not start:\n" + (tmp / "freeradius.log").read_text()[-3000:])
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
