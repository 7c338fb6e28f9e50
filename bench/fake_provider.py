"""A fast OpenAI-compatible streaming server for benchmarks: asyncio, raw HTTP/1.1.

Every completion streams the same reply: TOKENS pieces of Markdown (paragraphs, a
list and a code block; or, with SHAPE `code`, one long code block), SPACING_MS apart,
then a usage chunk and [DONE]. But a request that offers tools and ends with the user's
message is answered with one call of the first tool offered (each required argument
filled: strings "2+2", numbers 1, booleans false), as a model that uses tools would. It runs in its own process so it never shares an event
loop with what it feeds.

    python bench/fake_provider.py PORT TOKENS SPACING_MS [SHAPE]
"""

import asyncio
import json
import sys

MODELS = {"object": "list", "data": [{"id": "bench-model", "object": "model"}]}

# One cycle of the reply: a paragraph, a list and a code block, cut into tokens.
PARAGRAPH = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]
LIST = ["- first", " item", "\n", "- second", " item", "\n\n"]
CODE = ["```python", "\n", "def add", "(a, b):", "\n", "    return", " a + b", "\n", "```", "\n\n"]
CYCLE = [*PARAGRAPH, "\n\n", *LIST, *CODE]


# One line of a long listing, cut into tokens.
CODE_LINE = ["    total", " +=", " item", ".price", " *", " item", ".count", "  #", " running",
             " sum", "\n"]  # fmt: skip


def reply_tokens(count: int, shape: str = "mixed") -> list[str]:
    """The reply's pieces, ending with whole Markdown blocks: a cycle of blocks, or
    (`code`) one code block of `count` tokens in all."""
    if shape == "code":
        body = [CODE_LINE[i % len(CODE_LINE)] for i in range(max(0, count - 2))]
        return ["```python\n", *body, "\n```\n"]
    return [CYCLE[i % len(CYCLE)] for i in range(count)]


def event(payload: dict | str) -> bytes:
    """One server-sent event as one HTTP chunk."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    data = f"data: {text}\n\n".encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    payload = {
        "id": "bench",
        "object": "chat.completion.chunk",
        "model": "bench-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if delta else [],
    }
    if usage:
        payload["usage"] = usage
    return event(payload)


FILLERS = {"string": "2+2", "integer": 1, "number": 1, "boolean": False}


def tool_call(function: dict) -> bytes:
    """One chunk calling this function, each required argument filled."""
    schema = function.get("parameters") or {}
    properties = schema.get("properties") or {}
    arguments = {
        name: FILLERS.get(properties.get(name, {}).get("type"), "2+2")
        for name in schema.get("required") or []
    }
    call = {
        "index": 0,
        "id": "call_bench",
        "type": "function",
        "function": {"name": function["name"], "arguments": json.dumps(arguments)},
    }
    return chunk({"tool_calls": [call]})


class Provider:
    def __init__(self, tokens: int, spacing: float, shape: str = "mixed") -> None:
        self.tokens = reply_tokens(tokens, shape)
        self.spacing = spacing

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", 0))
                body = await reader.readexactly(length) if length else b""
                if method == "GET" and path.endswith("/models"):
                    data = json.dumps(MODELS).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(data)}\r\n\r\n".encode()
                        + data
                    )
                    await writer.drain()
                    continue
                await self.stream(writer, json.loads(body or b"{}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stream(self, writer: asyncio.StreamWriter, request: dict) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        writer.write(chunk({"role": "assistant", "content": ""}))
        await writer.drain()
        messages = request.get("messages") or [{}]
        if request.get("tools") and messages[-1].get("role") == "user":
            writer.write(tool_call(request["tools"][0]["function"]))
            writer.write(chunk({}, usage={"prompt_tokens": 10, "completion_tokens": 5}))
            writer.write(chunk({"content": ""}, finish="tool_calls"))
            writer.write(event("[DONE]"))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, token in enumerate(self.tokens):
            # A fixed schedule, not a fixed pause: lateness does not accumulate.
            delay = start + index * self.spacing - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(chunk({"content": token}))
            await writer.drain()
        writer.write(chunk({}, usage={"prompt_tokens": 10, "completion_tokens": len(self.tokens)}))
        writer.write(chunk({"content": ""}, finish="stop"))
        writer.write(event("[DONE]"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def main() -> None:
    port, tokens, spacing_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    shape = sys.argv[4] if len(sys.argv) > 4 else "mixed"
    provider = Provider(tokens, spacing_ms / 1000, shape)
    server = await asyncio.start_server(provider.handle, "127.0.0.1", port, backlog=2048)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
