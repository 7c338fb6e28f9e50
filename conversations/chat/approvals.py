"""Tool calls that wait for their user's approval, in the process that runs the turn.

A call of a tool that asks first (ExternalTool.needs_approval) publishes
`tool.approval_requested` and waits, at most CHAT_TOOL_APPROVAL_TIMEOUT, for the owner's
`tool.approve`: from a socket in this process (lifecycle.approve finds the turn here) or
in another (the answer comes as `turn.approve` on the conversation's control group, as a
stop does). A socket that opens the conversation meanwhile is sent the pending requests
(`pending_frames`, or `turn.approvals` to the process that runs the turn). A stop ends the
wait: the caller's cancellation goes through the wait as through any call.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from django.conf import settings

from ..tools.calls import Answer, Approver
from ..tools.external import ExternalTool
from . import broadcast, outbound

logger = logging.getLogger(__name__)

# Calls one turn may have waiting at once: they are asked one at a time, so one; the bound
# keeps a broken caller from growing the table.
MAX_PENDING = 8


@dataclass(eq=False)
class Approval:
    """One call waiting for its user."""

    frame: dict  # Its `tool.approval_requested`, as first sent.
    deadline: float  # Loop time the wait ends.
    answer: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


async def ask(turn, *, message_id: int, call_id: str, tool: ExternalTool, arguments: str) -> Answer:
    """Ask the user to approve this call, and wait (bounded) for their answer."""
    if len(turn.approvals) >= MAX_PENDING:
        return "denied"
    cid = turn.conversation_id
    timeout = settings.CHAT_TOOL_APPROVAL_TIMEOUT
    loop = asyncio.get_running_loop()
    frame = outbound.approval_requested(
        cid, message_id, call_id, tool, arguments, seconds=round(timeout)
    )
    pending = Approval(frame=frame, deadline=loop.time() + timeout)
    turn.approvals[call_id] = pending
    settled = "stopped"  # Unless the wait ends otherwise: a stop cancels it.
    try:
        await broadcast.publish(cid, frame)
        answer: Answer
        try:
            # A timeout scope, not wait_for (which on Python 3.11 can swallow a stop).
            async with asyncio.timeout(timeout):
                approved = await asyncio.shield(pending.answer)
        except TimeoutError:
            answer = "expired"
        else:
            answer = "approved" if approved else "denied"
        settled = answer
        return answer
    finally:
        turn.approvals.pop(call_id, None)
        # Every tab showing the request takes it down, whatever ended the wait (a stop
        # included: the call was not made).
        await _quietly(broadcast.publish(cid, outbound.approval_settled(cid, call_id, settled)))


def asker(turn, *, message_id: int, call_id: str) -> Approver:
    """What asks the user about one call of this turn (tools.calls.call's `approve`)."""

    async def ask_user(tool: ExternalTool, arguments: str) -> Answer:
        return await ask(
            turn, message_id=message_id, call_id=call_id, tool=tool, arguments=arguments
        )

    return ask_user


def answer(turn, *, call_id: str, approve: bool) -> bool:
    """The user's answer to a pending call of this turn; False if none waits by that id."""
    pending = turn.approvals.get(call_id)
    if pending is None or pending.answer.done():
        return False
    pending.answer.set_result(approve)
    return True


def pending_frames(turn) -> list[dict]:
    """The turn's pending requests as a socket opening the conversation is sent them, with
    the seconds left to answer."""
    now = asyncio.get_running_loop().time()
    return [
        {**pending.frame, "seconds": max(0, round(pending.deadline - now))}
        for pending in turn.approvals.values()
        if not pending.answer.done()
    ]


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:  # A frame that could not go out must not end the turn.
        logger.exception("Could not publish a tool approval's end")
