"""`phloem worker APP.py`: a Celery worker for the app's jobs (scaled out, PHLOEM_JOBS=celery)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    worker = commands.add_parser("worker", help="run an app's jobs (Celery worker over Redis)")
    worker.add_argument("app", type=Path, help="the app script, e.g. app.py")
    worker.add_argument(
        "--redis",
        default=os.environ.get("PHLOEM_REDIS_URL"),
        metavar="URL",
        help="the Redis that is broker and channel layer (default $PHLOEM_REDIS_URL)",
    )
    worker.add_argument(
        "--concurrency", type=int, default=None, help="jobs at once (default: CPU count)"
    )


def worker(args: argparse.Namespace) -> int:
    script = args.app.resolve()
    if not script.is_file():
        print(f"phloem: no such app script: {args.app}", file=sys.stderr)
        return 2
    if not args.redis or not args.redis.startswith(("redis://", "rediss://", "unix://")):
        print("phloem: `phloem worker` needs --redis redis://HOST:PORT/DB", file=sys.stderr)
        return 2
    os.environ["PHLOEM_APP"] = str(script)
    os.environ["PHLOEM_REDIS_URL"] = args.redis
    os.environ["PHLOEM_JOBS"] = "celery"
    embedded = "DJANGO_SETTINGS_MODULE" not in os.environ
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phloem_server.settings")
    import django

    django.setup()
    if embedded:
        from ..cli import _migrate

        _migrate()
    from .distributed import QUEUE, _load, celery_app

    _load(str(script))  # loaded once, before the pool forks: each job forks from a warm app
    argv = ["worker", "--pool=prefork", "-Q", QUEUE, "--without-gossip", "--without-mingle"]
    argv += ["--loglevel=INFO", "-n", f"phloem@{os.uname().nodename}-{os.getpid()}"]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    print(f"Phloem: worker for {script.name} on {args.redis}", flush=True)
    celery_app().worker_main(argv)
    return 0
