"""ASGI entry point: HTTP through Django, websockets through Channels."""

import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from conversations.chat.generation import recover_interrupted  # noqa: E402
from conversations.chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Replies that were streaming when the last server process stopped can never finish.
try:
    recover_interrupted()
except Exception as exc:  # noqa: BLE001 - a server must start even before `migrate`
    logging.getLogger(__name__).warning("Could not mark interrupted replies: %s", exc)
