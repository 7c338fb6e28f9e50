"""The in-memory channel layer of a single process: a message is shared by its receivers,
never copied for each; a full channel refuses more; groups reach each member."""

import pytest
from channels.exceptions import ChannelFull

from conversations.chat.memory_layer import InMemoryChannelLayer


async def test_receivers_share_one_message():
    layer = InMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    for channel in (first, second):
        await layer.group_add("watchers", channel)
    frame = {"type": "hub.frame", "frame": {"text": "x" * 1000}}
    await layer.group_send("watchers", frame)
    got = [await layer.receive(first), await layer.receive(second)]
    assert got[0] is frame and got[1] is frame


async def test_a_full_channel_refuses_more():
    layer = InMemoryChannelLayer(capacity=2)
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "a"})
    await layer.send(channel, {"type": "b"})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "c"})
    assert (await layer.receive(channel))["type"] == "a"


async def test_a_message_must_be_a_dict_for_a_valid_channel():
    layer = InMemoryChannelLayer()
    with pytest.raises(AssertionError):
        await layer.send(await layer.new_channel(), "not a dict")
    with pytest.raises(TypeError):
        await layer.send("not a valid channel name!", {"type": "x"})


def test_it_is_the_layer_of_a_process_without_redis(settings):
    if settings.REDIS_URL:
        pytest.skip("with Redis, channels-redis is the layer")
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == (
        "conversations.chat.memory_layer.InMemoryChannelLayer"
    )
