"""The project's own ASGI application: Django for HTTP, Channels for the Phloem WebSockets.

Serve it with any ASGI server, e.g. `uvicorn mysite.asgi:application` or
`daphne mysite.asgi:application`."""

import os
from pathlib import Path

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
http = get_asgi_application()  # sets Django up before anything imports models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402
from phloem_server import registry  # noqa: E402
from phloem_server.consumers import PhloemConsumer  # noqa: E402
from phloem_server.security import OriginCheck  # noqa: E402

APPS = Path(__file__).resolve().parent.parent / "phloem_apps"

# Each Phloem app is served under a key; its WebSocket lives under its URL prefix, where the
# renderer looks for it (the page names the prefix).
registry.load(APPS / "counter.py", "counter")
registry.load(APPS / "greeter.py", "greeter")

application = ProtocolTypeRouter(
    {
        "http": http,
        # The Django session cookie gives each socket its user (the project's own login).
        "websocket": OriginCheck(
            AuthMiddlewareStack(
                URLRouter(
                    [
                        path("tools/counter/phloem/ws", PhloemConsumer.as_asgi(app_key="counter")),
                        path("tools/greeter/phloem/ws", PhloemConsumer.as_asgi(app_key="greeter")),
                    ]
                )
            )
        ),
    }
)
