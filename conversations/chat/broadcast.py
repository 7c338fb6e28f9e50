"""Frames to sockets: each conversation and each user has a channel-layer group."""

from channels.layers import get_channel_layer


def group_name(conversation_id: int) -> str:
    """The channel-layer group of one conversation's sockets."""
    return f"conversation.{conversation_id}"


def user_group_name(user_id: int) -> str:
    """The channel-layer group of all of one user's sockets."""
    return f"user.{user_id}"


async def publish(conversation_id: int, frame: dict) -> None:
    """Send a frame to every socket watching a conversation."""
    await get_channel_layer().group_send(
        group_name(conversation_id), {"type": "chat.event", "frame": frame}
    )


async def publish_to_user(user_id: int, frame: dict) -> None:
    """Send a frame to every socket of one user."""
    await get_channel_layer().group_send(
        user_group_name(user_id), {"type": "chat.event", "frame": frame}
    )
