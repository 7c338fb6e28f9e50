"""The app's server: daphne, with request bodies capped before they are read, and a
graceful stop.

A drop-in for daphne, with the same arguments:

    python -m conversations.web.server -b 127.0.0.1 -p 8000 chatsite.asgi:application

See body_limits.py for what is refused and why it has to happen here, and send_buffer.py
for websockets whose client stops reading (dropped past CHAT_SOCKET_SEND_BUFFER
unsent bytes instead of buffered without end). On SIGTERM the
process drains: it takes no new turns (health answers 503, sends get `unavailable`), lets
the running ones finish for up to CHAT_DRAIN_SECONDS, then stops; a second SIGTERM (or
SIGINT) stops it at once. SIGUSR2 asks for the same drain and only that, however often:
it is how `manage.py serve` passes its own SIGTERM on, so that a SIGTERM sent to the whole
process group (a service manager's stop) and serve's copy of it make one drain, not a drain
and then "stop now". daphne, which installs Twisted's reactor when imported, is imported
only when the server runs.
"""

import asyncio
import logging
import signal
import sys
import threading

logger = logging.getLogger(__name__)


def _drain_on_sigterm() -> None:
    """Replace Twisted's SIGTERM handler (an immediate stop) with a drain, then a stop."""
    from django.conf import settings
    from twisted.internet import reactor

    from ..chat import runtime
    from ..deletion import runner
    from ..provider import upstream

    loop = asyncio.get_event_loop()
    draining: list[asyncio.Task] = []

    async def drain_then_stop() -> None:
        process = runtime.existing()
        if process is not None:
            logger.info("Draining: no new turns; %d running", len(process.turns))
            await process.drain(settings.CHAT_DRAIN_SECONDS)
        # A deletion batch under way ends (its transaction is never cut short); no other starts.
        await asyncio.to_thread(runner.stop_in_process)
        # No turn runs any more: close the provider's connections now, while the loop
        # runs (left to the interpreter's exit, aiohttp complains of an unclosed session).
        await upstream.close_client()
        reactor.stop()

    def drain() -> None:
        if not draining:
            draining.append(loop.create_task(drain_then_stop()))

    terms = []

    def on_sigterm() -> None:
        terms.append(True)
        if len(terms) > 1:
            logger.warning("Asked to stop twice: stopping now")
            reactor.stop()
            return
        drain()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    loop.add_signal_handler(signal.SIGUSR2, drain)
    if _early_drain:  # Asked while the server was starting.
        drain()


_early_drain: list[bool] = []


def main(argv: list[str] | None = None) -> None:
    """Run daphne's command line with the capped HTTP and bounded websocket factories."""
    # A drain asked for before the loop runs is kept for it (SIGUSR2's default would kill).
    signal.signal(signal.SIGUSR2, lambda *_: _early_drain.append(True))
    from daphne import server
    from daphne.cli import CommandLineInterface

    from .body_limits import CappedHTTPFactory
    from .send_buffer import BoundedWebSocketFactory

    # daphne's Server builds its factories by these names, once, when it runs.
    server.HTTPFactory = CappedHTTPFactory
    server.WebSocketFactory = BoundedWebSocketFactory
    from twisted.internet import reactor

    # After Twisted has installed its own signal handlers, so ours replaces its SIGTERM.
    reactor.callWhenRunning(_drain_on_sigterm)
    reactor.callWhenRunning(_start_tool_workers)
    reactor.callWhenRunning(_start_purge_runner)
    CommandLineInterface().run(sys.argv[1:] if argv is None else argv)


def _start_tool_workers() -> None:
    """Start the tool worker pool in the background: started by the first tool call
    instead, it makes that reply wait for a fresh interpreter and its imports, seconds on
    a busy machine."""
    from ..tools import registry

    threading.Thread(target=registry.start_workers, name="tool-workers", daemon=True).start()


def _start_purge_runner() -> None:
    """This process's runner of scheduled deletions (retention): one process of all runs
    them at a time, elected by a lease (deletion/runner.py)."""
    from ..deletion import runner

    runner.start_in_process()


if __name__ == "__main__":
    main()
