"""The websocket route: /ws/chat/ reaches the chat consumer; any other path is no socket."""

import pytest
from channels.testing import WebsocketCommunicator

from conversations.chat.consumer import ChatConsumer
from conversations.chat.routing import websocket_urlpatterns

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


def test_one_route_to_the_consumer():
    [route] = websocket_urlpatterns
    assert str(route.pattern) == "ws/chat/"
    assert route.callback.consumer_class is ChatConsumer


async def test_the_chat_path_opens_and_others_do_not(connect, user):
    from chatsite.asgi import application

    ws = await connect(user)
    connected, _ = await ws.connect()
    assert connected
    stray = WebsocketCommunicator(
        application,
        "/ws/other/",
        headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")],
    )
    with pytest.raises(ValueError, match="No route found for path 'ws/other/'"):
        await stray.connect()
