"""WebSocket routes. In a Django project's asgi.py:

"websocket": phloem_server.routing.application
"""

from channels.routing import URLRouter
from django.urls import path

from .consumers import PhloemConsumer
from .security import OriginCheck

websocket_urlpatterns = [path("phloem/ws", PhloemConsumer.as_asgi())]
application = OriginCheck(URLRouter(websocket_urlpatterns))
