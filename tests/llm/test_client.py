"""The LLM client against a real HTTP server that speaks the wire format, quirks included."""

import asyncio
import json
import threading

import pytest

from conversations.llm import (
    ChatMessage,
    ChatRequest,
    Finish,
    LLMClient,
    LLMError,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from conversations.llm.sse import SSEDecoder, ThinkSplitter, ToolCallAccumulator
from tests.fake_upstream import FakeUpstream, Reply, chunk, error_reply, sse, text_stream

KEY = "sk-unit-secret-987"


@pytest.fixture
def server():
    upstream = FakeUpstream().start()
    yield upstream
    upstream.stop()


def make_client(server, **options) -> LLMClient:
    options.setdefault("backoff_base", 0.01)
    return LLMClient(base_url=server.url, api_key=KEY, **options)


def request(**extra) -> ChatRequest:
    return ChatRequest(model="test-model", messages=[ChatMessage("user", "Hi")], **extra)


async def collect(client: LLMClient, req: ChatRequest | None = None) -> list:
    try:
        return [event async for event in client.stream(req or request())]
    finally:
        await client.aclose()


async def collect_error(client: LLMClient) -> tuple[list, LLMError]:
    events = []
    with pytest.raises(LLMError) as info:
        async for event in client.stream(request()):
            events.append(event)
    await client.aclose()
    return events, info.value


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_streams_text_usage_and_finish(server):
    server.script(text_stream("Hel", "lo", usage=(12, 2)))
    events = await collect(make_client(server), request(temperature=0.2, max_tokens=50))
    assert text_of(events) == "Hello"
    assert Usage(prompt_tokens=12, completion_tokens=2) in events
    assert events[-1] == Finish("stop")
    sent = server.completions()[0]
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["temperature"] == 0.2 and sent.body["max_tokens"] == 50
    assert "top_p" not in sent.body  # Unset parameters stay the provider's.


async def test_comments_empty_events_and_missing_done(server):
    server.script(
        sse(
            ": keep-alive\n\n",
            ":\n\n",
            "data: \n\n",
            chunk({"content": "a"}),
            ": ping\n\n",
            chunk({"content": "b"}, finish="stop"),
            done=False,
        )
    )
    events = await collect(make_client(server))
    assert text_of(events) == "ab"
    assert events[-1] == Finish("stop")


async def test_events_without_blank_lines_and_crlf(server):
    body = (
        f"data: {json.dumps(chunk({'content': 'x'}))}\r\n"
        f"data: {json.dumps(chunk({'content': 'y'}, finish='length'))}\r\n"
        "data: [DONE]\r\n"
    )
    server.script(Reply(steps=[("send", body.encode())]))
    events = await collect(make_client(server))
    assert text_of(events) == "xy"
    assert events[-1] == Finish("length")


async def test_usage_on_any_chunk_and_empty_choices(server):
    server.script(
        sse(
            chunk(None),  # empty choices, no usage
            chunk({"content": "ok"}, usage={"prompt_tokens": 3, "completion_tokens": 1}),
            chunk(finish="stop"),
        )
    )
    events = await collect(make_client(server))
    assert Usage(3, 1) in events
    assert text_of(events) == "ok"


async def test_missing_usage_is_estimated(server):
    # Some servers (llama-cpp-python's) ignore stream_options and report no usage.
    server.script(text_stream("one", " two", " three", usage=None))
    events = await collect(make_client(server))
    usage = [e for e in events if isinstance(e, Usage)]
    assert len(usage) == 1 and usage[0].estimated
    assert usage[0].completion_tokens == 3  # One token per chunk that carried output.
    assert usage[0].prompt_tokens > 0
    assert events[-1] == Finish("stop")


async def test_reported_usage_is_not_estimated(server):
    server.script(text_stream("x", usage=(7, 1)))
    usage = [e for e in await collect(make_client(server)) if isinstance(e, Usage)]
    assert usage == [Usage(7, 1, estimated=False)]


async def test_tool_call_fragments_that_repeat_id_and_name(server):
    # Some servers (llama-cpp-python's, with a named tool_choice) repeat id, type and name
    # in every fragment, beside a legacy function_call field.
    def piece(arguments):
        call = {
            "index": 0,
            "id": "call__0_add",
            "type": "function",
            "function": {"name": "add", "arguments": arguments},
        }
        return chunk(
            {
                "role": None,
                "content": None,
                "function_call": {"name": "add", "arguments": arguments},
                "tool_calls": [call],
            }
        )

    server.script(sse(piece('{"a": '), piece("1"), piece("}"), chunk(finish="tool_calls")))
    calls = accumulate(await collect(make_client(server)))
    assert [(c.id, c.name, c.arguments) for c in calls] == [("call__0_add", "add", '{"a": 1}')]


async def test_llama_cpp_server_stream(server):
    # As llama.cpp's own server (the offline model's) streams: the role with null content,
    # one token a chunk, the finish in an empty delta, then usage with timings beside it.
    def llama(choices: list, **extra) -> dict:
        return {
            "choices": choices,
            "created": 1795670255,
            "id": "chatcmpl-FINuXsq2kfiYpUNlVijIQC2rI13sQLgR",
            "model": "SmolLM2-135M-Instruct",
            "system_fingerprint": "b0-unknown",
            "object": "chat.completion.chunk",
            **extra,
        }

    def delta(delta: dict, finish: str | None = None) -> dict:
        return llama([{"finish_reason": finish, "index": 0, "delta": delta}])

    usage = {"completion_tokens": 3, "prompt_tokens": 34, "total_tokens": 37}
    timings = {"prompt_n": 34, "predicted_n": 3, "predicted_per_second": 120.5}
    server.script(
        sse(
            delta({"role": "assistant", "content": None}),
            delta({"content": "The"}),
            delta({"content": " sky"}),
            delta({"content": " blue"}),
            delta({}, finish="length"),
            llama([], usage=usage, timings=timings),
        )
    )
    events = await collect(make_client(server))
    assert text_of(events) == "The sky blue"
    assert [e for e in events if isinstance(e, Usage)] == [Usage(34, 3, estimated=False)]
    assert events[-1] == Finish("length")


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields(server, field):
    server.script(sse(chunk({field: "Let me think."}), chunk({"content": "42"}, finish="stop")))
    events = await collect(make_client(server))
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["Let me think."]
    assert text_of(events) == "42"


async def test_think_tags_split_across_chunks(server):
    pieces = ["<thi", "nk>\nStep one", ". Step two.</th", "ink>\n\nThe answer", " is 4."]
    server.script(text_stream(*pieces))
    events = await collect(make_client(server))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert reasoning == "Step one. Step two."
    assert text_of(events) == "The answer is 4."


@pytest.mark.parametrize(
    "payload",
    [
        {"error": {"message": "context length exceeded", "type": "invalid_request_error"}},
        {
            "object": "error",
            "message": "context length exceeded",
            "type": "BadRequestError",
            "code": 400,
        },
    ],
)
async def test_error_object_mid_stream_keeps_earlier_text(server, payload):
    server.script(sse(chunk({"content": "partial "}), payload))
    events, error = await collect_error(make_client(server))
    assert text_of(events) == "partial "
    assert "context length exceeded" in error.user_message
    assert len(server.completions()) == 1  # Text had reached the user: no retry.


async def test_tool_call_fragments_assemble(server):
    server.script(
        sse(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "add", "arguments": ""},
                        }
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '1, "b": 2}'}}]}),
            chunk(finish="tool_calls"),
        )
    )
    events = await collect(
        make_client(server),
        request(tools=[ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {}})]),
    )
    calls = accumulate(events)
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_1", "add", {"a": 1, "b": 2})
    ]
    assert events[-1] == Finish("tool_calls")
    assert server.completions()[0].body["tool_choice"] == "auto"  # Always explicit.


async def test_parallel_tool_calls_missing_index_and_id(server):
    server.script(
        sse(
            # Two calls, both with index 0 (a known quirk): the new id opens a new slot.
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": "a", "function": {"name": "one", "arguments": "{}"}}
                    ]
                }
            ),
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": "b", "function": {"name": "two", "arguments": '{"x":'}}
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
            # No index and no id: a third call, whole arguments in one chunk.
            chunk({"tool_calls": [{"function": {"name": "three", "arguments": {"y": 2}}}]}),
            chunk({"tool_calls": [{"function": {"name": "four", "arguments": None}}]}),
            chunk(finish="tool_calls"),
        )
    )
    events = await collect(make_client(server))
    calls = accumulate(events)
    assert [c.name for c in calls] == ["one", "two", "three", "four"]
    assert [c.id for c in calls][:2] == ["a", "b"]
    assert all(c.id for c in calls) and len({c.id for c in calls}) == 4
    assert [json.loads(c.arguments) for c in calls] == [{}, {"x": 1}, {"y": 2}, {}]


def accumulate(events):
    acc = ToolCallAccumulator()
    for event in events:
        if isinstance(event, ToolCallDelta):
            acc.add(event)
    return acc.calls()


async def test_rate_limit_with_retry_after_is_retried(server):
    server.script(
        error_reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}),
        text_stream("fine"),
    )
    events = await collect(make_client(server))
    assert text_of(events) == "fine"
    assert len(server.completions()) == 2


async def test_rate_limit_with_long_retry_after_is_not_waited_for(server):
    server.script(error_reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "120"}))
    _, error = await collect_error(make_client(server))
    assert error.user_message == (
        "The model provider is busy and asked to wait 120 s, longer than this server waits "
        "(30 s). Try again later."
    )
    assert "Retry-After 120 s" in error.detail
    assert len(server.completions()) == 1


async def test_server_errors_retry_at_most_twice(server):
    server.script(*[error_reply(503, {"detail": "overloaded"})] * 3, text_stream("never"))
    _, error = await collect_error(make_client(server))
    assert error.user_message == "The model provider had an error (HTTP 503)."
    assert "overloaded" in error.detail
    assert len(server.completions()) == 3


async def test_server_error_then_success(server):
    server.script(error_reply(500, "boom"), text_stream("ok"))
    events = await collect(make_client(server))
    assert text_of(events) == "ok"
    assert len(server.completions()) == 2


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "The model provider rejected the request."),
        (401, "The model provider rejected the API key."),
        (402, "The model provider account has run out of credit."),
        (403, "The model provider refused access to this model."),
        (404, "The model provider does not know this model."),
        (422, "The model provider rejected the request."),
    ],
)
async def test_client_errors_are_never_retried(server, status, message):
    server.script(error_reply(status, {"detail": [{"msg": "field required"}]}), text_stream("no"))
    _, error = await collect_error(make_client(server))
    assert error.user_message == message
    assert "field required" in error.detail
    assert error.status == status
    assert len(server.completions()) == 1


async def test_api_key_never_appears_in_errors(server):
    server.script(error_reply(401, {"error": {"message": f"Invalid key {KEY}"}}))
    _, error = await collect_error(make_client(server))
    assert KEY not in error.user_message and KEY not in error.detail
    assert "Invalid key [redacted]" in error.detail


async def test_garbage_stream_is_an_error(server):
    server.script(sse("data: <html>oops</html>\n\n", "nonsense line\n\n"))
    _, error = await collect_error(make_client(server))
    assert error.user_message == "The model provider sent a reply that could not be read."


async def test_garbage_between_good_chunks_is_skipped(server):
    server.script(
        sse(chunk({"content": "a"}), "data: {not json\n\n", chunk({"content": "b"}, finish="stop"))
    )
    assert text_of(await collect(make_client(server))) == "ab"


async def test_drop_mid_stream_after_text_is_not_retried(server):
    reply = sse(chunk({"content": "half"}), done=False)
    reply.steps.append(("drop",))
    server.script(reply, text_stream("again"))
    events, error = await collect_error(make_client(server))
    assert text_of(events) == "half"
    assert error.user_message == "The connection to the model provider was lost."
    assert len(server.completions()) == 1


async def test_drop_before_any_text_is_retried(server):
    reply = sse(chunk({"role": "assistant"}), done=False)
    reply.steps.append(("drop",))
    server.script(reply, text_stream("second try"))
    events = await collect(make_client(server))
    assert text_of(events) == "second try"
    assert len(server.completions()) == 2


async def test_no_response_at_all(server):
    server.script(*[Reply(no_response=True)] * 3)
    _, error = await collect_error(make_client(server))
    assert error.user_message == "The connection to the model provider was lost."
    assert len(server.completions()) == 3


async def test_silence_times_out(server):
    server.script(sse(chunk({"content": "a"}), chunk({"content": "b"}), delay=1.0))
    events, error = await collect_error(make_client(server, read_timeout=0.3))
    assert text_of(events) == "a"
    assert (
        error.user_message == "The model provider sent nothing for 0.3 s, so the reply was stopped."
    )


async def test_slow_drip_hits_the_overall_deadline(server):
    server.script(sse(*[chunk({"content": "."})] * 50, delay=0.1))
    events, error = await collect_error(make_client(server, deadline=0.6))
    assert 0 < len(text_of(events)) < 50
    assert error.user_message == "The reply took longer than 0.6 s and was cut off."


async def test_redirects_are_not_followed(server):
    server.script(Reply(status=302, headers={"Location": "http://127.0.0.1:9/"}, steps=[]))
    _, error = await collect_error(make_client(server))
    assert error.status == 302
    assert len(server.requests) == 1


async def test_whole_json_completion_when_server_ignores_stream(server):
    body = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "whole"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 1},
    }
    server.script(error_reply(200, body))
    events = await collect(make_client(server))
    assert text_of(events) == "whole"
    assert Usage(4, 1) in events and events[-1] == Finish("stop")


async def test_list_models(server):
    server.models = {"object": "list", "data": [{"id": "a/b"}, {"id": "c"}, {"no": "id"}]}
    client = make_client(server)
    try:
        models = await client.list_models()
    finally:
        await client.aclose()
    assert [m["id"] for m in models] == ["a/b", "c"]


def test_sse_decoder_joins_multiline_data():
    decoder = SSEDecoder()
    out = []
    for line in ["event: message", "data: {", 'data: "a": 1}', "", "id: 3", "retry: 10"]:
        out += list(decoder.feed(line))
    assert out == ['{\n"a": 1}']
    assert list(decoder.flush()) == []


def test_think_splitter_leaves_plain_text_and_unclosed_think():
    plain = ThinkSplitter()
    events = [*plain.feed("<b>not think</b>"), *plain.flush()]
    assert events == [TextDelta("<b>not think</b>")]
    unclosed = ThinkSplitter()
    events = [*unclosed.feed("<think>still going"), *unclosed.flush()]
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "still going"


async def test_more_than_a_hundred_replies_stream_at_once(server):
    """Each streaming reply holds a connection: the 101st must not wait for another to end."""
    release = threading.Event()
    count = 120
    for _ in range(count):
        first = text_stream("Hi", usage=None, done=False).steps
        server.script(Reply(steps=[*first[:2], ("wait", release), *first[2:]]))
    client = make_client(server)
    started = [asyncio.Event() for _ in range(count)]

    async def one(index: int) -> str:
        text = ""
        async for event in client.stream(request()):
            if isinstance(event, TextDelta):
                text += event.text
                started[index].set()
        return text

    streams = [asyncio.create_task(one(i)) for i in range(count)]
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started)), 20)
    finally:
        release.set()
    assert await asyncio.gather(*streams) == ["Hi"] * count
    await client.aclose()


async def test_on_sent_is_called_once_the_request_has_left_before_any_event(server):
    server.script(text_stream("Hello"))
    client = make_client(server)
    calls: list[int] = []
    events: list = []
    async for event in client.stream(request(), on_sent=lambda: calls.append(len(events))):
        events.append(event)
    await client.aclose()
    assert calls == [0]  # Once, before the first event.
    assert len(server.completions()) == 1


async def test_a_finished_reply_leaves_its_connection_for_the_next(server):
    """The body is read past [DONE] to its end: the next request needs no new connection
    (with a real provider, no new TLS handshake)."""
    for text in ("One", "Two", "Three"):
        reply = text_stream(text)
        reply.keep_alive = True
        server.script(reply)
    client = make_client(server)
    texts = []
    for _ in range(3):
        texts.append(text_of([event async for event in client.stream(request())]))
    await client.aclose()
    assert texts == ["One", "Two", "Three"]
    assert len({recorded.peer for recorded in server.completions()}) == 1


async def test_a_body_that_goes_on_after_done_does_not_hold_the_reply(server):
    reply = text_stream("Done")
    reply.steps.append(("hang",))
    server.script(reply)
    started = asyncio.get_running_loop().time()
    events = await collect(make_client(server))
    assert text_of(events) == "Done"
    assert isinstance(events[-1], Finish)
    assert asyncio.get_running_loop().time() - started < 5  # Not the read timeout.


async def test_what_is_read_after_done_is_bounded_in_bytes_too(server, monkeypatch):
    """A body that goes on and on after [DONE] is read for at most AFTER_DONE_BYTES, not
    until the time bound (here far away): the reply ends at once."""
    from conversations.llm import client as client_module

    monkeypatch.setattr(client_module, "AFTER_DONE_SECONDS", 30)
    reply = text_stream("Done")
    reply.steps += [
        ("send", b": " + b"x" * (4 * client_module.AFTER_DONE_BYTES) + b"\n"),
        ("hang",),
    ]
    server.script(reply)
    started = asyncio.get_running_loop().time()
    events = await collect(make_client(server))
    assert text_of(events) == "Done"
    assert asyncio.get_running_loop().time() - started < 10


async def test_a_line_without_end_is_refused_not_buffered(server):
    """A stream's line is held whole until its end: past MAX_LINE the read fails."""
    from conversations.llm import client as client_module

    line = b'data: {"choices": [{"delta": {"content": "' + b"x" * (client_module.MAX_LINE + 1)
    # Unended, and ended in the same read that carries it past the limit.
    for ending in (b"", b'"}}]}\n\n'):
        server.script(Reply(steps=[("send", line + ending), ("hang",)]))
        events, error = await collect_error(make_client(server, max_retries=0))
        assert events == []
        assert error.user_message == "The model provider sent a line too long to read."


async def test_lines_cut_anywhere_between_reads(server):
    """Lines are joined across reads however the bytes arrive: within "data:", between CR
    and LF, inside a character of several bytes; and a last line without its line end."""
    body = (
        f"data: {json.dumps(chunk({'content': 'Zoë'}), ensure_ascii=False)}\r\n\r\n"
        f"data: {json.dumps(chunk({'content': ' and Ōta'}), ensure_ascii=False)}\n\n"
        f"data: {json.dumps(chunk({'content': '!'}, finish='stop'))}"
    ).encode()
    cuts = [3, body.index("ë".encode()) + 1, body.index(b"\r\n") + 1, body.index("Ō".encode()) + 1]
    steps = []
    for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True):
        steps += [("send", body[start:end]), ("sleep", 0.02)]
    server.script(Reply(steps=steps))
    events = await collect(make_client(server))
    assert text_of(events) == "Zoë and Ōta!"
    assert events[-1] == Finish("stop")


async def test_bodies_read_whole_are_bounded(server, monkeypatch):
    """A completion sent whole is refused past MAX_BODY; of an error's body only the start
    is read, and the read does not wait for the rest."""
    from conversations.llm import client as client_module

    monkeypatch.setattr(client_module, "MAX_BODY", 64 * 1024)
    whole = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x" * 70_000}}]}
    server.script(error_reply(200, whole))
    events, error = await collect_error(make_client(server, max_retries=0))
    assert (
        events == [] and error.user_message == "The model provider sent a reply too large to read."
    )

    endless = error_reply(500, "y" * (client_module.MAX_ERROR_BODY * 2))
    endless.steps.append(("hang",))
    server.script(endless)
    events, error = await collect_error(make_client(server, max_retries=0))
    assert error.detail == "HTTP 500: " + "y" * 2000  # The detail keeps the first 2,000.


async def test_an_event_without_end_is_refused_not_buffered(server):
    """Lines of one event (no blank line between) are held until it ends: past
    MAX_EVENT_CHARS the read fails. Each line is short, so no line bound applies; and
    the check for servers that omit blank lines is not made on every line, which made
    an endless event cost the square of its length."""
    from conversations.llm import sse as sse_module

    line = b'data: {"choices": [{"delta": {"content": "' + b"x" * 40 + b"\n"
    lines = sse_module.MAX_EVENT_CHARS // 40  # Each line's data is longer than 40.
    reply = text_stream("Before", done=False)
    reply.steps += [("send", line * 1000)] * (lines // 1000 + 1) + [("hang",)]
    server.script(reply)
    events, error = await collect_error(make_client(server, max_retries=0))
    assert text_of(events) == "Before"
    assert error.user_message == "The model provider sent an event too large to read."


async def test_json_nested_past_the_parsers_depth_is_skipped_like_other_garbage(server):
    deep = "[" * 100_000 + "]" * 100_000
    server.script(
        sse(
            chunk({"content": "A"}),
            f"data: {deep}\n\n",
            chunk({"content": "B"}),
            # No blank line after it: the next line's check for a whole event fails too,
            # so that line joins this event, garbage.
            f"data: {deep}\n",
            chunk({"content": "lost"}),
            chunk({"content": "C"}, finish="stop"),
        ),
        error_reply(500, deep),
    )
    assert text_of(await collect(make_client(server))) == "ABC"
    events, error = await collect_error(make_client(server, max_retries=0))
    assert events == [] and error.detail.startswith("HTTP 500: [[[")


async def test_requests_go_through_the_proxy_the_environment_names(server, monkeypatch):
    """HTTPS_PROXY and friends are honoured (read once, when the client's session is made):
    here the "proxy" is the fake server itself, and the provider a host that does not exist."""
    monkeypatch.setenv("HTTP_PROXY", server.url.rsplit("/v1", 1)[0])
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    server.script(text_stream("Proxied"))
    client = LLMClient(base_url="http://provider.invalid/v1", api_key=KEY, max_retries=0)
    assert text_of(await collect(client)) == "Proxied"
    assert server.completions()[0].path == "http://provider.invalid/v1/chat/completions"


async def test_a_reply_past_the_connection_limit_waits_up_to_the_read_timeout(server):
    """At max_connections every connection is held by a streaming reply: one more waits
    for a free connection, up to the read timeout, then fails as unreachable (a provider
    busy for that long is as good as unreachable) without a connection of its own."""
    release = threading.Event()
    holder = text_stream("Held", usage=None).steps
    # The first events, then keep-alive comments, each well within the read timeout, until
    # the test lets the reply end.
    server.script(Reply(steps=[*holder[:2], ("beat", release, 0.05), *holder[2:]]))
    server.script(text_stream("Never sent"))
    client = make_client(server, max_connections=1, read_timeout=1.0, max_retries=0)
    holding = client.stream(request())
    assert await anext(holding) == TextDelta("Held")
    try:
        with pytest.raises(LLMError) as info:
            async for _ in client.stream(request()):
                pass
    finally:
        release.set()
    assert info.value.user_message == "Could not reach the model provider."
    assert len(server.completions()) == 1  # The waiting reply never had a connection.
    rest = [event async for event in holding]
    assert isinstance(rest[-1], Finish)
    await client.aclose()
