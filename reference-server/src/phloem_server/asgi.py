"""The embedded server's ASGI application (`phloem run`)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phloem_server.settings")

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

http = get_asgi_application()  # sets Django up before the routes import models

from . import routing  # noqa: E402

application = ProtocolTypeRouter({"http": http, "websocket": routing.application})
