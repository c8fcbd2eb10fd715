"""`phloem run APP.py`: load the app, set Django up, serve it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import servers
from .jobs import cli as jobs_cli

if TYPE_CHECKING:
    from .registry import Served

# Measured (bench/bench_click.py, bench/bench_rtt.py), uvicorn vs Daphne: click -> DOM p50
# 1.60 vs 1.80 ms in Chromium, event -> patch p50 0.30 vs 0.49 ms, server CPU per event 0.28
# vs 0.40 ms.
# Daphne stays one flag away (--server daphne).
DEFAULT_SERVER = "uvicorn"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phloem", description="Serve a Phloem app.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app script")
    run.add_argument("app", type=Path, help="the app script, e.g. app.py")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    run.add_argument("--server", choices=servers.SERVERS, default=DEFAULT_SERVER)
    run.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another origin whose pages may connect (e.g. a dev server)",
    )
    run.add_argument(
        "--websocket-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Daphne only: close each WebSocket after SECONDS (Daphne's default: 86400); "
        "clients resume their sessions",
    )
    run.add_argument(
        "--redis",
        default=None,
        metavar="URL",
        help="use the Redis channel layer at URL (redis://HOST:PORT/DB, rediss://, unix://) "
        "instead of the in-memory one; options as JSON in PHLOEM_REDIS_OPTIONS",
    )
    run.add_argument(
        "--renderer",
        type=Path,
        default=None,
        metavar="DIR",
        help="serve this built renderer (a directory with index.html and assets/), e.g. a "
        "bundle with your own components; default: the one Phloem ships",
    )
    run.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="development mode (default): reload the app when it or a local module it imports "
        "is saved, and show a failing page's traceback in the browser; --no-reload in production",
    )
    run.add_argument(
        "--jobs",
        choices=("embedded", "celery"),
        default=None,
        help="where jobs run: worker processes of this server (default), or Celery workers "
        "(`phloem worker app.py`) through the --redis URL",
    )
    jobs_cli.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "worker":
        return jobs_cli.worker(args)
    if args.jobs == "celery" and args.redis is None:
        parser.error("--jobs celery needs --redis URL (the broker)")
    if args.jobs is not None:
        os.environ["PHLOEM_JOBS"] = args.jobs
    if args.websocket_timeout is not None and args.server != "daphne":
        parser.error("--websocket-timeout needs --server daphne")
    if args.renderer is not None and not (args.renderer / "index.html").is_file():
        parser.error(f"--renderer {args.renderer}: no index.html there (build the bundle first)")
    if args.redis is not None:
        if not args.redis.startswith(("redis://", "rediss://", "unix://")):
            parser.error("--redis needs a redis://, rediss:// or unix:// URL")
        if "DJANGO_SETTINGS_MODULE" in os.environ:
            parser.error(
                "--redis sets up the embedded settings; with DJANGO_SETTINGS_MODULE "
                "set, configure CHANNEL_LAYERS there"
            )
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    script = args.app.resolve()
    if not script.is_file():
        print(f"phloem: no such app script: {args.app}", file=sys.stderr)
        return 2
    os.environ["PHLOEM_HOST"] = args.host
    os.environ["PHLOEM_APP"] = str(script)
    if args.allow_origin:
        os.environ["PHLOEM_ALLOWED_ORIGINS"] = ",".join(args.allow_origin)
    if args.redis is not None:
        os.environ["PHLOEM_REDIS_URL"] = args.redis
    if args.renderer is not None:
        os.environ["PHLOEM_RENDERER_DIST"] = str(args.renderer.resolve())
    embedded = "DJANGO_SETTINGS_MODULE" not in os.environ
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phloem_server.settings")
    servers.import_early(args.server)

    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:  # e.g. a bad PHLOEM_LIMITS
        print(f"phloem: {exc}", file=sys.stderr)
        return 2
    if embedded:
        _migrate()
    problem = _check_channel_layer()
    if problem is not None:
        print(f"phloem: {problem}", file=sys.stderr)
        return 2

    # As `python app.py` would: the script's own modules import beside it.
    sys.path.insert(0, str(script.parent))
    served = _serve_dev(script) if args.reload else _serve(script)
    if served is None:
        print(
            f"phloem: could not load {args.app} (the traceback above is from the app)",
            file=sys.stderr,
        )
        return 1
    if served.app.jobs:  # start the job workers now, so the first job starts warm
        from .jobs import bridge

        bridge.get().start_backend()
    from .asgi import application

    title = getattr(served.app, "name", None) or script.stem
    host = f"[{args.host}]" if ":" in args.host else args.host

    def ready(port: int) -> None:
        print(f"Phloem: serving {title} at http://{host}:{port}", flush=True)

    servers.run(args.server, application, args.host, args.port, ready, args.websocket_timeout)
    return 0


def _serve(script: Path) -> Served | None:
    from . import registry

    try:
        return registry.load(script)
    except Exception:
        import traceback

        traceback.print_exc()
        return None


def _serve_dev(script: Path) -> Served:
    """Serve the script with reload on save (reload.py); a script that fails to load is
    served as its traceback until a good save."""
    from . import registry, reload

    dev = reload.DevApp(script)
    if not dev.load():
        print(dev.failure, file=sys.stderr, end="")
        print("phloem: serving the error until the script is saved again", file=sys.stderr)
    served = registry.install(dev.served_app(), str(script))
    reload.start(dev, served)
    return served


def _check_channel_layer() -> str | None:
    """Build the channel layer now, so a bad option stops the start with its reason; warn (and
    serve) when Redis does not answer: wakes are best-effort (updates.py) and resume once it
    does."""
    from channels.layers import get_channel_layer

    try:
        get_channel_layer()
    except Exception as exc:  # e.g. an unknown keyword in PHLOEM_REDIS_OPTIONS
        return f"bad CHANNEL_LAYERS: {exc}"
    url = os.environ.get("PHLOEM_REDIS_URL")
    if url:
        import redis

        try:
            with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
                client.ping()
        except Exception as exc:
            print(
                f"phloem: warning: Redis does not answer ({exc}); serving anyway: "
                "server-initiated updates reach a browser with its next message until it does",
                file=sys.stderr,
            )
    return None


def _migrate() -> None:
    """Bring the embedded SQLite database up to date; silent unless it fails."""
    from django.conf import settings
    from django.core.management import call_command

    Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


if __name__ == "__main__":
    sys.exit(main())
