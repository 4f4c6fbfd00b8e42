"""Run the booklet under gunicorn (a production WSGI server), from the ``jeton-web serve`` command."""

from __future__ import annotations

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
