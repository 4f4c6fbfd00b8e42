"""The UDP side of jeton-radius: one socket per process, several processes on one port.

With ``workers > 1`` the parent forks the workers before any of them opens the store (no database connection
crosses a fork); each binds its own socket to the same address with SO_REUSEPORT, and the kernel spreads the
gateways over them by source address and port (so a gateway's retransmissions reach the process that holds their
reply in its duplicate cache). The parent prints ``LISTEN HOST:PORT`` once every worker is bound, then waits;
SIGTERM or SIGINT stops them all. Each process logs its counters when it stops.
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

from verifier.errors import ConfigurationError
from verifier.radius.handler import RadiusHandler

log = logging.getLogger("verifier.radius")
HandlerFactory = Callable[[], RadiusHandler]


def bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A UDP socket bound to host:port (port 0: the system picks one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind((host, port))
    return sock


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum, _frame) -> None:
        self.requested = True


def serve_socket(sock: socket.socket, handler: RadiusHandler, stop: _Stop) -> None:
    """Answer packets until ``stop`` is requested. Nothing a packet holds can end this loop."""
    sock.settimeout(0.5)  # how soon a stop request is seen when no packet comes
    while not stop.requested:
        try:
            data, address = sock.recvfrom(65535)
        except (TimeoutError, InterruptedError):
            continue
        except OSError as exc:
            if exc.errno == errno.EINTR:
                continue
            raise
        try:
            reply = handler.handle(data, address)
        except Exception:  # a bug or a database outage: log it, drop this packet, keep serving the others
            log.exception("jeton-radius: request from %s failed", address[0])
            handler.counts["errors"] += 1
            continue
        if reply is not None:
            try:
                sock.sendto(reply, address)
            except OSError as exc:
                log.warning("jeton-radius: reply to %s not sent (%s)", address[0], exc.strerror)


def _counts_line(handler: RadiusHandler) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(handler.counts.items())) or "no request"


def _serve(sock: socket.socket, factory: HandlerFactory, stop: _Stop, on_ready: Callable[[], None]) -> None:
    """Build the handler (its own store), say it is ready, serve; at the end, print the counters and close."""
    handler = factory()
    gc.freeze()  # what start-up built (store, engine, caches) lives as long as the process: out of the GC's scans
    on_ready()
    try:
        serve_socket(sock, handler, stop)
    finally:
        print(f"STATS pid={os.getpid()} {_counts_line(handler)}", file=sys.stderr, flush=True)
        handler.verifier.store.close()


def run(host: str, port: int, workers: int, factory: HandlerFactory, *, announce: Callable[[str], None]) -> None:
    """Serve until SIGTERM/SIGINT. ``factory`` builds a worker's handler (opening its own store) after the fork."""
    stop = _Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    first = bind(host, port, reuse_port=workers > 1)
    port = first.getsockname()[1]
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if workers == 1:
        _serve(first, factory, stop, lambda: announce(shown))  # LISTEN once the handler exists: it answers
        return
    sockets = [first] + [bind(host, port, reuse_port=True) for _ in range(workers - 1)]
    read_fd, write_fd = os.pipe()
    children = []
    for sock in sockets:
        pid = os.fork()
        if pid == 0:  # the worker: its own socket, its own store, its own signal handling
            os.close(read_fd)
            for other in sockets:
                if other is not sock:
                    other.close()
            code = 0
            try:
                _serve(sock, factory, stop, lambda: (os.write(write_fd, b"1"), os.close(write_fd)))
            except BaseException:
                log.exception("jeton-radius: worker failed")
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    os.close(write_fd)
    for sock in sockets:
        sock.close()
    started = 0
    while started < workers:
        chunk = os.read(read_fd, workers)
        if not chunk:
            break
        started += len(chunk)
    os.close(read_fd)
    if started == workers:
        announce(shown)
    else:
        stop.requested = True
    while not stop.requested and children:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            children.remove(pid)
            log.error("jeton-radius: a worker stopped; stopping the others")
            break
        time.sleep(0.2)
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if started != workers:
        raise ConfigurationError("a jeton-radius worker could not start (see the log above)",
                                 french="un processus de jeton-radius n'a pas pu démarrer (voir le journal ci-dessus)")
