"""ASGI entry point: HTTP through Django, websockets through Channels.

Nothing here touches the database: replies left streaming by a process that stopped
are swept up by the running processes once their lease expires (chat/runtime.py).
"""

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from conversations.chat.origin import SameOriginValidator  # noqa: E402
from conversations.chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# The event loop and the database thread share the GIL. A thread that wants it waits up to
# the switch interval (5 ms by default) while the other runs Python: a turn's start then
# waited on the loop, and the loop on the start. 1 ms cut the added time to first token
# by about a fifth at 1 and at 50 concurrent streams (make bench).
sys.setswitchinterval(0.001)
