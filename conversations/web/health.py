"""The health check, for the reverse proxy and for monitoring: the database, the channel
layer, and whether this process is draining (stopping) or ready for new turns."""

import asyncio
import logging

from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from ..chat import runtime
from ..chat.frames.process import HealthPing

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, HealthPing.build())
    await layer.receive(channel)


async def _check(name: str, awaitable) -> str:
    try:
        await asyncio.wait_for(awaitable, CHECK_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure is an unhealthy answer, not a 500
        logger.warning("Health check %s failed: %s", name, type(exc).__name__)
        return "failing"
    return "ok"


async def healthz(request: HttpRequest) -> JsonResponse:
    """200 when this process can take turns; 503 when a dependency fails or it is draining.

    Says nothing but statuses: it answers anyone, signed in or not.
    """
    process = runtime.current()
    checks = {
        "database": await _check("database", db(_database)()),
        "channel_layer": await _check("channel_layer", _channel_layer()),
    }
    healthy = all(value == "ok" for value in checks.values()) and not process.draining
    body = {"status": "ok" if healthy else "unavailable", **checks, "draining": process.draining}
    return JsonResponse(body, status=200 if healthy else 503)
