"""One socket's share of the limits: a slot among its user's sockets, given back when it
closes; its own frame rate, with the refused send's text handed back and a flood noticed;
and its frames counted against its user's reads and writes."""

import pytest

from conversations.chat import runtime
from conversations.chat.socket_limits import SocketLimits
from conversations.errors import TurnRefused

pytestmark = [
    pytest.mark.django_db(transaction=True),  # The runtime's loops use the database.
    pytest.mark.usefixtures("no_leftover_replies"),
]


async def test_a_user_has_so_many_sockets_and_a_closed_one_frees_its_slot(settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 1
    slots = runtime.current().sockets
    first, second = SocketLimits(41, slots), SocketLimits(41, slots)
    assert await first.open() is None
    refused = await second.open()
    assert (refused["type"], refused["code"], refused["limit"]) == (
        "error",
        "rate_limited",
        "sockets",
    )
    assert refused["retry_after"] >= 1
    assert await SocketLimits(42, slots).open() is None  # Another user's slots are theirs.
    await first.close()
    await first.close()  # Closing twice gives back nothing more.
    assert await second.open() is None
    await second.close()


async def test_frames_over_the_rate_are_refused_with_the_sends_client_id(settings):
    settings.CHAT_SOCKET_FRAMES_PER_MINUTE = 2
    limits = SocketLimits(41, runtime.current().sockets)
    assert limits.frame("{}") is None and limits.frame("{}") is None
    refused = limits.frame('{"type": "chat.send", "client_id": "draft-7", "content": "hi"}')
    assert (refused["code"], refused["limit"], refused["client_id"]) == (
        "rate_limited",
        "frames",
        "draft-7",
    )
    assert "client_id" not in limits.frame("not json at all")
    assert not limits.flooding
    for _ in range(2):
        limits.frame("{}")
    assert limits.flooding  # More refused in a row than the rate allows.
    await limits.close()
    assert limits.frame("{}") is None  # Its count went with it.


async def test_reads_and_writes_count_against_the_user(settings):
    settings.CHAT_WRITES_PER_MINUTE = 1
    one, two = (SocketLimits(41, runtime.current().sockets) for _ in range(2))
    await one.check("conversation.rename")
    with pytest.raises(TurnRefused) as refused:
        await two.check("conversation.pin")  # Another socket, the same user.
    assert refused.value.code == "rate_limited" and refused.value.extra["limit"] == "writes"
    for _ in range(5):
        await two.check("chat.send")  # Turns are limited where they start, not here.
