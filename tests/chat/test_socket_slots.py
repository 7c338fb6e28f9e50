"""How many sockets each user has open: exact in one process, and with Redis across
processes, where a socket counted twice keeps its one slot and a slot given back is free
everywhere."""

import pytest
from django.conf import settings as django_settings

from conversations.chat import runtime
from conversations.chat.socket_slots import SocketSlots

pytestmark = [
    pytest.mark.django_db(transaction=True),  # The runtime's loops use the database.
    pytest.mark.usefixtures("no_leftover_replies"),
]


async def test_slots_are_counted_per_user_up_to_the_limit(settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    slots = SocketSlots(runtime.current())
    try:
        assert await slots.take(1, "a") and await slots.take(1, "b")
        assert not await slots.take(1, "c")
        assert await slots.take(2, "a")
        await slots.give_back(1, "a")
        await slots.give_back(1, "never-taken")
        assert await slots.take(1, "c")
        assert slots.mine == {1: {"b", "c"}, 2: {"a"}}
        settings.CHAT_MAX_SOCKETS_PER_USER = 0  # Off: anyone may open any number.
        assert all([await slots.take(3, str(n)) for n in range(50)])
    finally:
        await slots.close()


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="counts across processes need Redis")
async def test_with_redis_two_processes_share_each_users_slots(settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    process = runtime.current()
    here, there = SocketSlots(process), SocketSlots(process)  # As two processes would.
    try:
        assert await here.take(9, "a") and await there.take(9, "b")
        assert not await here.take(9, "c")
        assert await there.take(9, "b")  # Counted again (a retried command): still one.
        await there.give_back(9, "b")
        assert await here.take(9, "c")
        await here.refresh()  # Renewing the notes changes no count.
        assert not await there.take(9, "d")
    finally:
        for slots in (here, there):
            for socket_id in list(slots.mine.get(9, ())):
                await slots.give_back(9, socket_id)
            await slots.close()
