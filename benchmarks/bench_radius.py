"""jeton-radius throughput: Access-Request -> Access-Accept per second, against Verifier.authenticate in process.

Figures (SQLite, then PostgreSQL when JETON_TEST_POSTGRES_URL is set):
- accepts/s: ``jeton-radius --workers 2`` and a load client (16 UDP sockets, 4 requests in flight on each, packets built
  before the clock starts) all on this machine's two cores (goal >= 2,000/s); lost replies and accepted replays
  (every accepted passcode sent again in a new request) are counted in the note: both must be 0;
- p99 latency at a paced 500 requests/s (goal < 20 ms), p50 as its baseline;
- CPU seconds per Access-Accept in the jeton-radius processes (read from /proc), against the CPU of one
  ``Verifier.authenticate`` in process: the figure a shared, busy machine does not distort.
Baseline ("floor"): ``Verifier.authenticate`` accepts/s in one process, same database, no RADIUS at all.
Users are written straight into the tables (active tokens, one PIN hash) because each can be accepted only once
per code; each user is used for one accept (the code of now) or two (now, then the next step's code).
"""

from __future__ import annotations

import os
import secrets
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from pyrad import packet as rp

from benchmarks.runner import Figure
from tests.support import throwaway_postgres_database
from verifier import init_store
from verifier.otp import TokenCodes
from verifier.pins import hash_pin
from verifier.radius.clients import add_client
from verifier.radius.dictionary import dictionary
from verifier.schema import tokens, users
from verifier.verification import Outcome, Verifier

PIN = "4829"
SECRET = b"bench-radius-shared-secret-0001"
JETON_RADIUS = str(Path(sys.executable).with_name("jeton-radius"))
SOCKETS, WINDOW = 16, 4  # the load client: 16 gateways (source ports, spread by SO_REUSEPORT), 4 in flight each


def _populate(url: str, keys: Path, count: int) -> list[tuple[str, TokenCodes]]:
    store = init_store(url, keys)[0]
    add_client(store, "bench", "127.0.0.1", SECRET)
    pin_hash = hash_pin(store.ring, PIN, store.settings)
    now = time.time()
    people, user_rows, token_rows = [], [], []
    for n in range(count):
        secret = secrets.token_bytes(20)
        serial = f"RB-{n}"
        key_id, blob = store.ring.seal(serial, secret)
        user_rows.append({"id": n + 1, "login": f"radius{n}", "created_at": now})
        token_rows.append({"serial": serial, "algo": "sha1", "digits": 6, "period": 30, "key_id": key_id,
                           "secret_ct": blob, "state": "active", "user_id": n + 1, "created_at": now,
                           "pin_hash": pin_hash, "drift": 0, "fail_count": 0, "version": 0})
        people.append((f"radius{n}", TokenCodes(secret)))
    with store.transaction() as conn:
        conn.execute(users.insert(), user_rows)
        conn.execute(tokens.insert(), token_rows)
    with store.transaction() as conn:  # planner statistics, as a database in service has them
        conn.execute(sa.text("ANALYZE"))
    store.close()
    return people


def _packet(login: str, passcode: str, ident: int = 0) -> bytes:
    pkt = rp.AuthPacket(code=rp.AccessRequest, secret=SECRET, dict=dictionary(), id=ident)
    pkt["User-Name"] = login
    pkt["User-Password"] = pkt.PwCrypt(passcode)
    pkt.add_message_authenticator()
    return pkt.RequestPacket()


def _requests(people, step: int, sockets: int) -> list[list[bytes]]:
    """Per client socket, its packets in sending order, each with its own Identifier (a gateway's way): for each
    person PIN + the code of ``step``."""
    passcodes = [(login, PIN + codes.code(step)) for login, codes in people]
    out: list[list[bytes]] = [[] for _ in range(sockets)]
    for k, (login, passcode) in enumerate(passcodes):
        out[k % sockets].append(_packet(login, passcode, (k // sockets) % 256))
    return out


def _load(address, per_socket: list[list[bytes]], *, window: int, rate: float | None,
          timeout: float = 5.0) -> tuple[float, dict[int, int], list[float], int]:
    """Send every packet: closed loop with ``window`` requests in flight per socket, or paced at ``rate`` per
    second over all sockets. Returns (seconds, reply codes counted, latencies, lost replies)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in per_socket]
    sel = selectors.DefaultSelector()
    for i, sock in enumerate(socks):
        sock.setblocking(False)
        sock.connect(address)
        sel.register(sock, selectors.EVENT_READ, i)
    queues = [list(reversed(q)) for q in per_socket]
    flight: list[dict[int, float]] = [{} for _ in socks]
    counts: dict[int, int] = {}
    latencies: list[float] = []
    total = sum(len(q) for q in queues)
    done = lost = sent = 0
    start = time.perf_counter()

    def send(i: int) -> None:
        nonlocal sent
        data = queues[i].pop()
        flight[i][data[1]] = time.perf_counter()
        socks[i].send(data)
        sent += 1

    while done + lost < total:
        now = time.perf_counter()
        if rate is None:
            for i in range(len(socks)):
                while queues[i] and len(flight[i]) < window:
                    send(i)
        else:
            while sent < total and sent < (now - start) * rate and queues[sent % len(socks)]:
                send(sent % len(socks))
        for key, _ in sel.select(0.0005 if rate is not None else 0.05):
            i = key.data
            while True:
                try:
                    data = socks[i].recv(4096)
                except BlockingIOError:
                    break
                began = flight[i].pop(data[1], None)
                if began is not None:
                    latencies.append(time.perf_counter() - began)
                    counts[data[0]] = counts.get(data[0], 0) + 1
                    done += 1
        now = time.perf_counter()
        for waiting in flight:
            for ident in [k for k, t in waiting.items() if now - t > timeout]:
                del waiting[ident]
                lost += 1
    elapsed = time.perf_counter() - start
    sel.close()
    for sock in socks:
        sock.close()
    return elapsed, counts, latencies, lost


def _floor(url: str, keys: Path, people, step: int) -> tuple[float, float]:
    """``Verifier.authenticate`` in this process: (accepts per second, CPU seconds per accept)."""
    from verifier import open_store

    store = open_store(url, keys)
    verifier = Verifier(store)
    now = time.time()
    start, cpu = time.perf_counter(), time.process_time()
    for login, codes in people:
        if verifier.authenticate(login, PIN + codes.code(step), now).outcome is not Outcome.ACCEPT:
            raise RuntimeError("the floor's passcode was not accepted")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    return len(people) / elapsed, cpu / len(people)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children (the jeton-radius workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / tick


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _figures(label: str, url: str, keys: Path, quick: bool) -> list[Figure]:
    count = 300 if quick else 4000
    floor_count = 200 if quick else 1500
    paced = 300 if quick else 1500
    people = _populate(url, keys, count + floor_count + paced)
    load, floor_people, paced_people = people[:count], people[count:count + floor_count], people[count + floor_count:]
    step = TokenCodes(b"x" * 20).step_of(time.time())
    floor, floor_cpu = _floor(url, keys, floor_people, step)
    server = subprocess.Popen([JETON_RADIUS, "--db", url, "--keys", str(keys), "--listen", "127.0.0.1:0",
                               "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("LISTEN "):
            raise RuntimeError(f"jeton-radius did not start: {line!r}")
        host, _, port = line.split()[1].rpartition(":")
        address = (host, int(port))
        step = TokenCodes(b"x" * 20).step_of(time.time())
        # each person twice: the code of now, then (a second round, once the first is answered) the next one
        rounds = [_requests(load, step, SOCKETS), _requests(load, step + 1, SOCKETS)]
        elapsed = accepts = lost = 0
        server_cpu, client_cpu = _cpu_seconds(server.pid), time.process_time()
        for packets in rounds:
            seconds, counts, _lat, missing = _load(address, packets, window=WINDOW, rate=None)
            elapsed, accepts, lost = elapsed + seconds, accepts + counts.get(rp.AccessAccept, 0), lost + missing
        server_cpu, client_cpu = _cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
        replays = _requests(load[: min(500, len(load))], step + 1, SOCKETS)  # accepted passcodes, new requests
        _e, replay_counts, _l, replay_lost = _load(address, replays, window=WINDOW, rate=None)
        step = TokenCodes(b"x" * 20).step_of(time.time())
        paced_packets = _requests(paced_people, step, SOCKETS)
        _e, paced_counts, latencies, paced_lost = _load(address, paced_packets, window=256, rate=500.0)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    busy = os.getloadavg()[0]  # the machine is shared: say how busy it was
    note = (f"{2 * len(load)} requests, {accepts} accepted, {lost} without a reply; replays accepted: "
            f"{replay_counts.get(rp.AccessAccept, 0)} of {sum(map(len, replays))} ({replay_lost} without a reply); "
            f"load average {busy:.1f} on {os.cpu_count()} cores")
    per_accept, per_request = server_cpu / max(accepts, 1), client_cpu / max(accepts, 1)
    return [
        Figure(f"CPU per Access-Accept, {label}, jeton-radius workers", per_accept * 1000, "ms",
               "floor: CPU per Verifier.authenticate in process", floor_cpu * 1000,
               note=f"a busy machine distorts it less than rates; load client {per_request * 1000:.2f} ms per request; "
                    f"2 idle cores would give ~{2 / (per_accept + per_request):.0f} accepts/s"),
        Figure(f"Access-Accept/s, {label}, jeton-radius 2 workers + load client", accepts / elapsed, "accepts/s",
               "floor: Verifier.authenticate in process, 1 process", floor, goal=">= 2000/s", note=note),
        Figure(f"p99 latency at 500 requests/s, {label}", _percentile(latencies, 0.99) * 1000, "ms",
               "p50 at 500 requests/s", _percentile(latencies, 0.50) * 1000, goal="< 20 ms",
               note=f"{sum(map(len, paced_packets))} requests, {paced_counts.get(rp.AccessAccept, 0)} accepted, "
                    f"{paced_lost} without a reply within 5 s (the server falls behind when the machine is busy)"),
    ]


def run(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        figures = _figures("SQLite", f"sqlite:///{tmp}/bench.db", Path(tmp) / "keys.json", quick)
    base = os.environ.get("JETON_TEST_POSTGRES_URL")
    if not base:
        raise RuntimeError("JETON_TEST_POSTGRES_URL is not set: no PostgreSQL figure")
    with throwaway_postgres_database(base) as url, tempfile.TemporaryDirectory() as tmp:
        figures += _figures("PostgreSQL", url.render_as_string(hide_password=False), Path(tmp) / "keys.json", quick)
    return figures
