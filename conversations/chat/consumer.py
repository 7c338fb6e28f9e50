"""The websocket endpoint: speaks the protocol and leaves the work to `generation`."""

import json
import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import broadcast, conversation_actions, inbound, outbound, pages, turns
from .turns import TurnRefused

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """One browser tab's socket."""

    async def connect(self) -> None:
        """Accept signed-in users; close anyone else with 4401."""
        self.user = self.scope.get("user")
        self.watching: set[int] = set()
        # Accept before closing so the browser sees the code, not a failed handshake.
        await self.accept()
        if not (self.user and self.user.is_authenticated):
            await self.close(code=UNAUTHENTICATED)
            return
        await self.channel_layer.group_add(
            broadcast.user_group_name(self.user.pk), self.channel_name
        )

    async def disconnect(self, code: int) -> None:
        """Stop listening; replies in progress carry on without this socket."""
        if self.user and self.user.is_authenticated:
            await self.channel_layer.group_discard(
                broadcast.user_group_name(self.user.pk), self.channel_name
            )
        for conversation_id in self.watching:
            await self.channel_layer.group_discard(
                broadcast.group_name(conversation_id), self.channel_name
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Decode a text frame; anything else is answered with an error, not a closed socket."""
        if text_data is None:
            await self.send_json(outbound.error("bad_request", "Frames must be JSON text."))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json(outbound.error("bad_request", "The frame is not valid JSON."))
            return
        await self.receive_json(content)

    async def receive_json(self, content: object, **kwargs) -> None:
        """Dispatch a frame on its type."""
        client_id = None
        try:
            kind, payload = inbound.parse(content)
            client_id = getattr(payload, "client_id", None)
            await self.HANDLERS[kind](self, payload)
        except inbound.FrameError as exc:
            await self.send_json(outbound.error(exc.code, exc.message, client_id=exc.client_id))
        except TurnRefused as exc:
            await self.send_json(outbound.error(exc.code, exc.message, client_id=client_id))
        except Exception:
            logger.exception("Frame failed: %r", content if isinstance(content, dict) else None)
            await self.send_json(
                outbound.error(
                    "server_error", "Something went wrong on the server.", client_id=client_id
                )
            )

    async def chat_send(self, request: inbound.SendRequest) -> None:
        """Save the user's message, then start the reply."""
        turn = await turns.accept_message(user=self.user, request=request)
        conversation = turn.conversation
        await self.watch(conversation.pk)
        if turn.duplicate:
            # Sent again (a reconnect, say): answer with what was saved, start nothing.
            if turn.created:
                await self.send_json(outbound.conversation_created(conversation))
            await self.send_json(outbound.message_created(conversation.pk, turn.user_message))
            return
        if turn.created:
            await broadcast.publish_to_user(
                self.user.pk, outbound.conversation_created(conversation)
            )
        await turns.start_reply(turn, request.options)

    async def chat_stop(self, command: inbound.ConversationCommand) -> None:
        """Stop the reply streaming in a conversation."""
        await turns.stop(user=self.user, conversation_id=command.conversation)

    async def chat_regenerate(self, command: inbound.MessageCommand) -> None:
        """Write a new version of a reply."""
        await self.watch(command.conversation, check=True)
        await turns.regenerate(
            user=self.user,
            conversation_id=command.conversation,
            message_id=command.message,
            options=command.options,
        )

    async def conversation_open(self, command: inbound.ConversationCommand) -> None:
        """Send a conversation's state, then its live events."""
        # Join the group first, so nothing published after the snapshot is missed.
        await self.watch(command.conversation, check=True)
        state = await pages.conversation_state(user=self.user, conversation_id=command.conversation)
        await self.send_json(state)

    async def chat_switch(self, command: inbound.MessageCommand) -> None:
        """Show another version; every socket on the conversation gets the new state."""
        await self.watch(command.conversation, check=True)
        await conversation_actions.switch(
            user=self.user, conversation_id=command.conversation, message_id=command.message
        )

    async def conversation_history(self, command: inbound.HistoryCommand) -> None:
        """Send the page of older messages above `before`."""
        await self.send_json(
            await pages.history(
                user=self.user, conversation_id=command.conversation, before=command.before
            )
        )

    async def conversation_rename(self, command: inbound.RenameCommand) -> None:
        """Rename a conversation."""
        await conversation_actions.rename(
            user=self.user, conversation_id=command.conversation, title=command.title
        )

    async def conversation_flags(self, command: inbound.FlagCommand) -> None:
        """Pin or archive a conversation."""
        await conversation_actions.set_flags(
            user=self.user,
            conversation_id=command.conversation,
            pinned=command.pinned,
            archived=command.archived,
        )

    async def conversation_delete(self, command: inbound.ConversationCommand) -> None:
        """Delete a conversation for good."""
        await conversation_actions.delete(user=self.user, conversation_id=command.conversation)

    async def watch(self, conversation_id: int, *, check: bool = False) -> None:
        """Receive a conversation's live events on this socket."""
        if conversation_id in self.watching:
            return
        if check:
            await turns.check_owner(user=self.user, conversation_id=conversation_id)
        self.watching.add(conversation_id)
        await self.channel_layer.group_add(broadcast.group_name(conversation_id), self.channel_name)

    async def chat_event(self, event: dict) -> None:
        """Forward a frame published to a group this socket is in."""
        await self.send_json(event["frame"])

    HANDLERS = {
        "chat.send": chat_send,
        "chat.edit": chat_send,
        "chat.switch": chat_switch,
        "conversation.history": conversation_history,
        "conversation.rename": conversation_rename,
        "conversation.pin": conversation_flags,
        "conversation.archive": conversation_flags,
        "conversation.delete": conversation_delete,
        "chat.stop": chat_stop,
        "chat.regenerate": chat_regenerate,
        "conversation.open": conversation_open,
    }
