"""Several processes on one host (SO_REUSEPORT) and several hosts on one database: a code is accepted once, and a
gateway's retransmission still gets its cached reply."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.radius.client import decode, encode, exchange, request
from tests.radius.conftest import audit_count, start_server
from tests.verifier.helpers import assigned_token
from verifier import Verifier


def _active(store, serial, login, planted):
    codes = assigned_token(store, serial, login, planted=planted)
    verifier = Verifier(store)
    step = codes.step_of(time.time())
    verifier.set_pin(verifier.authenticate(login, planted.value(codes.code(step))).ticket, "4821", "4821")
    return codes, step


@pytest.mark.slow
def test_one_code_sent_to_every_process_of_two_hosts_is_accepted_once(store, db_url, keys_file, planted):
    hosts = [start_server(db_url, keys_file, workers=2), start_server(db_url, keys_file, workers=2)]
    try:
        for n in range(3):
            codes, step = _active(store, f"SC-000{n}", f"prof{n}", planted)
            passcode = "4821" + planted.value(codes.code(step + 1))
            kinds: list[str] = []
            barrier = threading.Barrier(16)

            def attempt(address, passcode=passcode, login=f"prof{n}", barrier=barrier, kinds=kinds):
                pkt = request(login, passcode)
                data = encode(pkt)
                barrier.wait()
                reply = exchange(address, pkt, raw=data, timeout=20)
                kinds.append(reply.kind if reply else "lost")

            threads = [threading.Thread(target=attempt, args=(hosts[i % 2].address,)) for i in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(kinds) == ["Access-Accept"] + ["Access-Reject"] * 15
    finally:
        stats = [h.stop() for h in hosts]
    assert all(s.count("STATS pid=") == 2 for s in stats)  # two workers per host, each answered its share


def test_a_retransmission_reaches_the_worker_that_cached_the_reply(store, db_url, keys_file, planted):
    srv = start_server(db_url, keys_file, workers=2)
    try:
        codes, step = _active(store, "SC-0100", "mdupont", planted)
        pkt = request("mdupont", "4821" + planted.value(codes.code(step + 1)))
        data = encode(pkt)
        before = audit_count(store)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # one source port, like a gateway
            sock.settimeout(10)
            sock.sendto(data, srv.address)
            first, _ = sock.recvfrom(4096)
            sock.sendto(data, srv.address)  # "the reply was lost": the same packet again
            second, _ = sock.recvfrom(4096)
        assert decode(pkt, first).kind == "Access-Accept"
        assert second == first
        assert audit_count(store) == before + 1
    finally:
        stats = srv.stop()
    assert "duplicate=1" in stats
