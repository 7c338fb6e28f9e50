"""A real MCP server on loopback, built with the SDK's own server side over streamable HTTP,
for every test that needs one: the `mcp_server` fixture (tests/conftest.py) starts one
per test; `McpTestServer` starts one anywhere else.

Its tools: `echo` (read-only), `slow` (sleeps), `fail` (raises), `huge` (a result of any
size), `hang` (never answers), `vanish` (removed by `remove("vanish")` after a listing),
`delete_all` (destructive), `no_hints` (no annotations), `picture` (an image), and
`change_tools` (adds a tool and announces `tools/list_changed`). It runs uvicorn in a
thread of its own with its own event loop; `headers_seen` holds the headers of every
request, so a test can check what the client sent.

Under CI=true a server that cannot start fails the run; elsewhere too (nothing here needs
more than the SDK the app already depends on), so it is never skipped.
"""

import asyncio
import socket
import threading
import time

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ImageContent, ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True)


def build(server: "McpTestServer") -> MCPServer:
    app = MCPServer("test tools")

    @app.tool(annotations=READ_ONLY, description="Say the text back.")
    def echo(text: str) -> str:
        return f"echo: {text}"

    @app.tool(annotations=READ_ONLY, description="Answer after some seconds.")
    async def slow(seconds: float) -> str:
        await anyio.sleep(seconds)
        return "slept"

    @app.tool(annotations=READ_ONLY, description="Always fails.")
    def fail() -> str:
        raise RuntimeError("the tool broke")

    @app.tool(annotations=READ_ONLY, description="A result of `size` characters.")
    def huge(size: int) -> str:
        return "x" * size

    @app.tool(annotations=READ_ONLY, description="Never answers.")
    async def hang() -> str:
        server.hangs += 1
        try:
            await anyio.sleep_forever()
        finally:
            server.hangs_ended += 1
        return ""

    @app.tool(annotations=READ_ONLY, description="Removed between a listing and a call.")
    def vanish() -> str:
        return "still here"

    @app.tool(annotations=DESTRUCTIVE, description="Deletes everything.")
    def delete_all() -> str:
        return "deleted"

    @app.tool(description="Declares nothing.")
    def no_hints() -> str:
        return "done"

    @app.tool(annotations=READ_ONLY, description="A picture and a caption.")
    def picture() -> list:
        return ["a caption", ImageContent(type="image", data="iVBORw0KGgo=", mime_type="image/png")]

    @app.tool(annotations=READ_ONLY, description="Adds a tool and says the list changed.")
    async def change_tools(ctx: Context) -> str:
        server.add_extra()
        await server.announce(ctx)
        return "changed"

    return app


class McpTestServer:
    """The server, started in a thread on a free loopback port."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.hangs = 0
        self.hangs_ended = 0
        self.headers_seen: list[dict[str, str]] = []
        self.app = build(self)
        self.port = port or _free_port(host)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/mcp"

    def start(self, timeout: float = 10.0) -> "McpTestServer":
        asgi = self.app.streamable_http_app(host=self.host)
        seen = self.headers_seen

        async def recording(scope, receive, send):
            if scope["type"] == "http":
                seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
            await asgi(scope, receive, send)

        config = uvicorn.Config(
            recording,
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="mcp-test")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The test MCP server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def remove(self, name: str) -> None:
        self.app.remove_tool(name)

    def add_extra(self) -> None:
        names = {tool.name for tool in self.app._tool_manager.list_tools()}
        if "extra" not in names:
            self.app.add_tool(lambda: "extra", name="extra", annotations=READ_ONLY)

    async def announce(self, ctx: Context) -> None:
        """Tell clients the tools changed, on both the old and the new protocol's path."""
        try:
            await ctx.notify_tools_changed()  # subscriptions/listen (2026-07-28)
        except Exception:
            pass
        try:
            await ctx.session.send_tool_list_changed()  # the session's stream (earlier)
        except Exception:
            pass


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def run_forever() -> None:  # pragma: no cover - for trying the server by hand
    server = McpTestServer().start()
    print(server.url)
    asyncio.run(asyncio.Event().wait())
