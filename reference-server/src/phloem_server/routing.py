"""WebSocket routes. In a Django project's asgi.py:

"websocket": phloem_server.routing.application
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from .consumers import PhloemConsumer
from .security import OriginCheck

websocket_urlpatterns = [path("phloem/ws", PhloemConsumer.as_asgi())]
# The Django session cookie gives the connection its user (scope["user"]): pages declared
# with auth=True need one (PHL-SEC-007), and a resume needs the same one (PHL-SEC-008).
application = OriginCheck(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
