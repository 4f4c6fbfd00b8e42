"""Run the booklet under gunicorn (a production WSGI server), from the ``jeton-web serve`` command."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, config: dict, options: dict) -> None:
        self.config_for_app = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from booklet_web import create_app

        return create_app(self.config_for_app)


#: threads per worker process: a slow or idle client holds at most one thread, never a whole process
THREADS = 8


def run_gunicorn(config: dict, *, bind: str, workers: int, threads: int = THREADS) -> None:
    """Serve ``create_app(config)`` with ``workers`` processes of ``threads`` threads (gunicorn's gthread worker:
    idle keep-alive connections wait in a poller, not in a thread) on ``bind``; returns when stopped."""
    _Gunicorn(config, {"bind": bind, "workers": workers, "worker_class": "gthread", "threads": threads,
                       "accesslog": "-", "timeout": 30, "keepalive": 5, "graceful_timeout": 10,
                       "limit_request_line": 4094, "limit_request_fields": 50}).run()


@contextmanager
def metrics_folder() -> Iterator[str]:
    """The folder where every worker process keeps its metrics (prometheus_client's multiprocess mode), so that
    ``/metrics`` answers the sum of all workers, whichever answers it. ``PROMETHEUS_MULTIPROC_DIR`` when the
    operator set it (then it is theirs to empty before a start); otherwise a new private folder (0700), removed at
    the end, so that no count of an earlier run is summed in."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        yield given
        return
    folder = tempfile.mkdtemp(prefix="jeton-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        yield folder
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)
