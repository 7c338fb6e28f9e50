"""The sweep: replies whose server process is gone are interrupted, their text kept, and
their watchers told (`message.completed`, status `interrupted`).

Each process sweeps every CHAT_TURN_SWEEP_SECONDS, at start-up too. A lease that expired
is not proof that its process died: it may be alive and waiting on a locked database. So a
process never sweeps a turn it runs itself, and asks the process named in any other
expired lease, over the channel layer (`turn.alive` to the turn's control group, answered
`turn.running` on the asker's control channel), before it interrupts anything.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer

from ..rendering import markdown
from ..turns import running as running_turns
from . import broadcast, outbound
from .frames import process as control
from .group_commit import bounded

if TYPE_CHECKING:
    from .runtime import Runtime

logger = logging.getLogger(__name__)

# How long the sweep waits for the process holding an expired lease to say it is alive.
ALIVE_WAIT = 2.0


async def sweep_now(process: "Runtime") -> None:
    """Interrupt replies whose process is gone, and tell their watchers.

    A lease that expired is not proof: its process may be alive and waiting on the
    database (a lock longer than a lease). This process never sweeps a turn it runs,
    and asks the process named in any other expired lease first; only turns nobody
    answers for are interrupted.
    """
    try:
        expired = await db(running_turns.turns_expired)()
        ours = {
            cid for cid, owner in expired if owner == process.process_id and cid in process.turns
        }
        elsewhere = [cid for cid, owner in expired if owner != process.process_id]
        alive = await alive_elsewhere(process, elsewhere)
        gone = [cid for cid, _ in expired if cid not in ours and cid not in alive]
        interrupted = await bounded(db(running_turns.turns_sweep)(conversation_ids=gone))
    except Exception:
        logger.exception("Sweeping abandoned replies failed")
        return
    for message in interrupted:
        logger.info("Reply %s was abandoned by its server process", message.pk)
        cid = message.conversation_id
        frame = await markdown.rendered(outbound.message_completed, cid, message)
        await broadcast.publish(cid, frame)


async def alive_elsewhere(process: "Runtime", conversation_ids: list[int]) -> set[int]:
    """Which of these conversations' turns another process says it runs (ALIVE_WAIT)."""
    if not conversation_ids:
        return set()
    layer = get_channel_layer()
    channel = await process.control_channel()
    asked = {cid: process.loop.create_future() for cid in conversation_ids}
    process._alive.update(asked)
    try:
        for cid in conversation_ids:
            await layer.group_send(
                broadcast.control_group(cid),
                control.TurnAlive.build(conversation=cid, reply_to=channel),
            )
        await asyncio.wait(asked.values(), timeout=ALIVE_WAIT)
    finally:
        for cid, future in asked.items():
            if process._alive.get(cid) is future:
                del process._alive[cid]
    return {cid for cid, future in asked.items() if future.done()}
