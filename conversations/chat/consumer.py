"""The websocket endpoint: speaks the protocol and leaves the work to `turns` and friends."""

import asyncio
import json
import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from pydantic import ValidationError

from ..errors import TurnRefused
from . import (
    approvals,
    broadcast,
    compare_actions,
    conversation_actions,
    failure_log,
    frames,
    inbound,
    lifecycle,
    outbound,
    pages,
    runtime,
    tag_actions,
    turns,
)
from .frames.process import ChatSnapshot
from .session_watch import SESSION_EVENTS, UNAUTHENTICATED, SessionWatch, session_may_open
from .socket_limits import TOO_MANY, SocketLimits
from .temporary import TemporaryChats

logger = logging.getLogger(__name__)

FRAME_LIMIT = 512 * 1024  # Larger frames go in parts (daphne caps a websocket message at 1 MiB).
SNAPSHOT_TIMEOUT = 1.0  # How long an opening waits for another process's reply so far.
MAX_HELD_FRAMES = 10_000
# Conversations one socket watches at most: a tab that opens conversation after conversation
# (the page switches without reloading) stops hearing of the one it looked at longest ago.
MAX_WATCHED = 64


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """One browser tab's socket."""

    async def connect(self) -> None:
        """Accept signed-in users; close anyone else with 4401."""
        self.user = self.scope.get("user")
        self.watching: dict[int, None] = {}  # Conversations watched, longest ago first.
        # Conversations opened while a reply streams in another process: their frames wait
        # here until that process sends the reply so far, so text and deltas line up.
        self.holding: dict[int, dict] = {}
        self.frames_split = 0
        self.session: SessionWatch | None = None
        if not (self.user and self.user.is_authenticated) or not await session_may_open(self):
            # Accept before closing so the browser sees the code, not a failed handshake.
            await self.accept()
            await self.close(code=UNAUTHENTICATED)
            return
        # This process's turn loops (saves, the sweep) run from now on.
        process = runtime.current()
        self.limits = SocketLimits(self.user.pk, process.sockets)
        # Counted before the handshake ends: a socket the browser sees open holds its slot
        # in every process, so a tab opened next, anywhere, finds it counted.
        refusal = await self.limits.open()
        await self.accept()
        if refusal is not None:  # The user has all the sockets they may have open.
            await self.send_json(refusal)
            await self.close(code=TOO_MANY)
            return
        self.hub = process.hub
        self.temporary = TemporaryChats(self.user.pk)
        # The session is re-checked for as long as the socket is open (session_watch.py).
        self.session = SessionWatch(self)
        await self.hub.join(broadcast.user_group_name(self.user.pk), self)
        self.session.check_now()

    async def dispatch(self, message: dict) -> None:
        """Run the handler for a message, without Channels' stale-connection check.

        Channels closes stale database connections before every handler, a thread hop
        each time, so on every frame forwarded to the socket; forwarding never touches the
        database, and our database calls (database_sync_to_async) do that check themselves.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        """Stop listening; replies in progress carry on without this socket."""
        if self.session:
            self.session.stop()
        hub = getattr(self, "hub", None)
        if hub is None:
            return  # Never signed in, or over a limit: never joined anything.
        await self.limits.close()
        await self.temporary.leave()  # The tab closed: its temporary chat is left.
        await hub.leave(broadcast.user_group_name(self.user.pk), self)
        for conversation_id in list(self.watching):
            await hub.leave(broadcast.group_name(conversation_id), self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Decode a text frame; anything else is answered with an error, not a closed socket."""
        if self.session is None or self.session.revoked:
            return  # Signed out or refused: closed, and nothing it still sends is acted on.
        refusal = self.limits.frame(text_data)
        if refusal is not None:  # Over this socket's frame rate: the frame is dropped.
            if self.limits.flooding:
                await self.close(code=TOO_MANY)
            else:
                await self.send_json(refusal)
            return
        if text_data is None:
            await self.send_json(outbound.error("bad_request", "Frames must be JSON text."))
            return
        try:
            content = inbound.decode(text_data)
        except inbound.FrameError as exc:
            await self.send_json(outbound.error(exc.code, exc.message, client_id=exc.client_id))
            return
        await self.receive_json(content)

    async def receive_json(self, content: object, **kwargs) -> None:
        """Dispatch a frame on its type."""
        client_id = None
        try:
            kind, payload = inbound.parse(content, user_id=self.user.pk)
            client_id = getattr(payload, "client_id", None)
            await self.limits.check(kind)
            await getattr(self, frames.CLIENT[kind].handler)(payload)
        except inbound.FrameError as exc:
            await self.send_json(outbound.error(exc.code, exc.message, client_id=exc.client_id))
        except TurnRefused as exc:
            await self.send_json(
                outbound.error(exc.code, exc.message, client_id=client_id, **exc.extra)
            )
        except Exception as exc:  # noqa: BLE001 - one bad frame must not close the socket
            kind = content.get("type") if isinstance(content, dict) else None
            kind = kind if kind in frames.CLIENT else "(unknown type)"
            error_id = failure_log.log_failure(logger, f"Frame {kind}", exc)
            await self.send_json(
                outbound.error(
                    "server_error",
                    f"Something went wrong on the server (error {error_id}).",
                    client_id=client_id,
                    error_id=error_id,
                )
            )

    async def chat_send(self, request: inbound.SendRequest) -> None:
        """Save the user's message, then start the reply (the turn announces both)."""
        if request.conversation is None:
            await self.temporary.leave()  # A new chat leaves the temporary one shown.
        watch = self._watch_temporary if request.temporary else self._watch_own
        # The turn runs here: this socket need not wait for Redis to hear of its frames.
        already = await turns.send(user=self.user, request=request, watch=watch)
        if already is not None:
            # Sent again (a reconnect, say): answer with what was saved, start nothing.
            conversation = already.conversation
            await self.watch(conversation.pk)
            if conversation.temporary:
                await self.temporary.opened(conversation.pk, temporary=True)
            if already.created:
                await self.send_json(outbound.conversation_created(conversation))
            await self.send_json(outbound.message_created(conversation.pk, already.message))

    async def chat_stop(self, command: inbound.StopCommand) -> None:
        """Stop the reply streaming in a conversation (or one reply of a compare)."""
        await turns.stop(
            user=self.user, conversation_id=command.conversation, message_id=command.message
        )

    async def compare_choose(self, command: inbound.ChooseCommand) -> None:
        """The user's choice among a compare's replies; every socket on it hears of it."""
        await self.watch(command.conversation, check=True)
        await compare_actions.choose(
            user=self.user,
            conversation_id=command.conversation,
            group_id=command.group,
            verdict=command.verdict,
            message_id=command.message,
            reason=command.reason,
        )

    async def tool_approve(self, command: inbound.ApproveCommand) -> None:
        """The user's answer to a tool call waiting for it; only the conversation's owner's
        counts (anyone else's is refused as if the conversation did not exist)."""
        await turns.approve(
            user=self.user,
            conversation_id=command.conversation,
            call_id=command.call_id,
            approved=command.approve,
        )

    async def tool_approval_requested(self, event: dict) -> None:
        """A pending approval another process sent this socket as it opened a conversation."""
        try:
            frame = frames.SERVER_FRAME.validate_python(event).model_dump()
        except ValidationError:
            logger.warning("Dropped a tool approval request of another shape")
            return
        if frame["conversation"] in self.watching:
            await self.deliver(frame)  # Held behind the opening state, if that is on its way.

    async def chat_regenerate(self, command: inbound.MessageCommand) -> None:
        """Write a new version of a reply."""
        await self.watch(command.conversation, check=True)
        await turns.regenerate(
            user=self.user,
            conversation_id=command.conversation,
            message_id=command.message,
            options=command.options,
        )

    async def chat_continue(self, command: inbound.MessageCommand) -> None:
        """Write more of a reply, into the same message."""
        await self.watch(command.conversation, check=True)
        await turns.continue_reply(
            user=self.user, conversation_id=command.conversation, message_id=command.message
        )

    async def conversation_settings(self, command: inbound.SettingsCommand) -> None:
        """Change a conversation's persona, model or parameters."""
        await conversation_actions.update_settings(
            user=self.user, conversation_id=command.conversation, change=command.change
        )

    async def conversation_open(self, command: inbound.ConversationCommand) -> None:
        """Send a conversation's state, then its live events, lined up with it."""
        cid = command.conversation
        # Frames for it wait from the moment this socket joins until its state has gone,
        # so the state always comes first and nothing after it is missed or repeated.
        self.holding[cid] = {"state": None, "frames": []}
        try:
            await self.watch(cid, check=True)
            state = await pages.conversation_state(user=self.user, conversation_id=cid)
            await self.temporary.opened(cid, temporary=state.get("temporary", False))
        except BaseException:
            self.holding.pop(cid, None)
            raise
        streaming = pages.streaming_message(state)
        await self._pending_approvals(cid, state)
        if streaming is None or lifecycle.local(cid) is not None:
            # Nothing streams, or it streams here and the state carries its live text.
            await self._release(cid, state, seq=streaming["seq"] if streaming else None)
            return
        # The reply streams in another process: ask it for the text so far.
        self.holding[cid]["state"] = state
        await lifecycle.request_snapshot(cid, self.channel_name)
        asyncio.get_running_loop().call_later(
            SNAPSHOT_TIMEOUT, lambda: asyncio.ensure_future(self._snapshot_arrived(cid, None))
        )

    async def _pending_approvals(self, conversation_id: int, state: dict) -> None:
        """Have tool calls still waiting for approval follow the opening state: from the
        turn here, or asked of the process running it. Only a branch that ends in tool
        calls can have any, so other openings cost nothing more."""
        if not pages.in_tool_calls(state):
            return
        turn = lifecycle.local(conversation_id)
        if turn is not None:
            self.holding[conversation_id]["frames"].extend(approvals.pending_frames(turn))
        else:
            await lifecycle.request_approvals(conversation_id, self.channel_name)

    async def chat_snapshot(self, event: dict) -> None:
        """Another process's reply so far, for a conversation this socket is opening."""
        try:
            snapshot = ChatSnapshot.model_validate(event)
        except ValidationError:  # The opening's timeout sends the saved text instead.
            logger.warning("Dropped a snapshot of another shape")
            return
        await self._snapshot_arrived(snapshot.conversation, snapshot)

    async def _snapshot_arrived(self, conversation_id: int, snapshot: ChatSnapshot | None) -> None:
        held = self.holding.get(conversation_id)
        if held is None or held["state"] is None:
            return
        state = held["state"]
        if snapshot is not None and snapshot.message != pages.streaming_message(state)["id"]:
            snapshot = None  # Another reply's: no use.
        # Without one the seq is null: the page waits for message.completed.
        pages.apply_snapshot(state, snapshot)
        await self._release(conversation_id, state, seq=pages.streaming_message(state)["seq"])

    async def _release(self, conversation_id: int, state: dict, *, seq: int | None) -> None:
        """Send an opening's state, then the frames that came meanwhile, in order.

        `seq` is the streaming reply's as the state shows it: deltas up to it are in the
        state already, and with None none can be lined up with it.
        """
        held = self.holding.pop(conversation_id, None)
        await self.send_json(state)
        streaming = pages.streaming_message(state)
        for frame in held["frames"] if held else ():
            if (
                streaming is not None
                and frame["type"] == "message.delta"
                and frame["message"] == streaming["id"]
                and (seq is None or frame["seq"] <= seq)
            ):
                continue  # In the state already, or not to be lined up with it.
            await self.send_json(frame)

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

    async def conversation_move(self, command: inbound.MoveCommand) -> None:
        """Move a conversation into a project, or out of one."""
        await conversation_actions.move(
            user=self.user, conversation_id=command.conversation, project_id=command.project
        )

    async def conversation_delete(self, command: inbound.ConversationCommand) -> None:
        """Delete a conversation for good."""
        await conversation_actions.delete(user=self.user, conversation_id=command.conversation)

    async def conversation_tags(self, command: inbound.TagsCommand) -> None:
        """Set a conversation's tags."""
        await tag_actions.set_tags(
            user=self.user, conversation_id=command.conversation, names=command.tags
        )

    async def tag_rename(self, command: inbound.TagCommand) -> None:
        """Rename one of the user's tags."""
        await tag_actions.rename(user=self.user, tag_id=command.tag, name=command.name or "")

    async def tag_delete(self, command: inbound.TagCommand) -> None:
        """Delete one of the user's tags."""
        await tag_actions.delete(user=self.user, tag_id=command.tag)

    async def conversation_close(self, command: inbound.ConversationCommand) -> None:
        """The page left a conversation for a new chat: close it if it is temporary."""
        await turns.check_owner(user=self.user, conversation_id=command.conversation)
        await self.temporary.close(command.conversation)

    async def watch(self, conversation_id: int, *, check: bool = False, wait: bool = True) -> None:
        """Receive a conversation's live events on this socket (`wait`: see Hub.join)."""
        if conversation_id in self.watching:
            self.watching[conversation_id] = self.watching.pop(conversation_id)  # Latest now.
            return
        if check:
            await turns.check_owner(user=self.user, conversation_id=conversation_id)
        self.watching[conversation_id] = None
        await self.hub.join(broadcast.group_name(conversation_id), self, wait=wait)
        while len(self.watching) > MAX_WATCHED:
            oldest = next(iter(self.watching))
            del self.watching[oldest]
            self.holding.pop(oldest, None)
            await self.hub.leave(broadcast.group_name(oldest), self)

    async def _watch_own(self, conversation_id: int) -> None:
        await self.watch(conversation_id, wait=False)

    async def _watch_temporary(self, conversation_id: int) -> None:
        self.temporary.started(conversation_id)
        await self.watch(conversation_id, wait=False)

    async def deliver(self, frame: dict) -> None:
        """Forward a frame published to a conversation this socket watches (or to its user)."""
        if frame.get("type") in SESSION_EVENTS:
            if self.session:  # The account's sign-in changed: see session_watch.py.
                await self.session.on_event(frame)
            return
        held = self.holding.get(frame.get("conversation"))
        if held is not None:
            held["frames"].append(frame)
            if len(held["frames"]) > MAX_HELD_FRAMES:
                if held["state"] is None:
                    held["frames"].pop(0)  # Bounded; a gap makes the page ask again.
                else:
                    await self._snapshot_arrived(frame["conversation"], None)
            return
        await self.send_json(frame)

    @classmethod
    async def encode_json(cls, content: dict) -> str:
        # No spaces after separators: a tenth of a streamed reply's frames was blanks.
        return json.dumps(content, separators=(",", ":"))

    async def send_json(self, content: dict, close: bool = False) -> None:
        """Send a frame; one too large for a websocket message goes as `frame.part`s."""
        if self.session is not None and self.session.revoked:
            return  # Signed out: nothing more goes to this socket.
        text = await self.encode_json(content)
        if len(text) <= FRAME_LIMIT:
            await self.send(text_data=text, close=close)
            return
        self.frames_split += 1
        parts = outbound.split_frame(text, limit=FRAME_LIMIT, frame_id=self.frames_split)
        for index, part in enumerate(parts):
            # Parts after the first continue one frame: the server checks what a client
            # left unread before a frame, never inside one (web/send_buffer.py).
            await self.base_send({"type": "websocket.send", "text": part, "continues": index > 0})
        if close:
            await self.close()
