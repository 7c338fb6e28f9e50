"""Providers as they really behave, against the app as deployed: a real server process, its
lease and timeouts scaled down (seconds here stand for tens of seconds in production; one
test runs every profile in real time, tests/deployment/test_provider_profiles_real_time.py).

Whatever the provider does, a living process never marks its own reply interrupted, its
watchers are told what it waits for, and a wait past a bound ends in an error that says
which bound.
"""

import asyncio

import pytest

from tests import fake_upstream as fake
from tests.deployment.servers import (
    database_env,
    interrupted,
    message_row,
    new_users,
    query,
    reply_of,
    send,
    turn,
    until_reply_ends,
)
from tests.live_server import Socket, start_server

# The server writes to the suite's database: each test's rows go with it (a transactional
# test's flush, which runs after every test that keeps the data migrations' rows).
pytestmark = pytest.mark.django_db(transaction=True)

# Scaled: the lease runs out well before the waits below end, and the save loop's fifth
# second (when it writes the dashboard's counts too) falls inside every reply.
LEASE = 2.0
READ_TIMEOUT = 8.0
MAX_RETRY_AFTER = 6.0
COMPARED = ("m/late", "m/busy", "m/long")


@pytest.fixture(scope="module")
def upstream():
    server = fake.FakeUpstream().start()
    server.list_models(*COMPARED)  # Listed before the server starts: its catalog has them.
    yield server
    server.stop()


@pytest.fixture(scope="module")
def running(upstream, tmp_path_factory, django_db_setup):
    """One server for the module; each test makes a user of its own."""
    tmp = tmp_path_factory.mktemp("profiles")
    env = database_env(tmp) | {
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-profiles",
        "LLM_DEFAULT_MODEL": "test-model",
        "CHAT_TURN_LEASE_SECONDS": str(LEASE),
        "CHAT_TURN_SWEEP_SECONDS": "0.5",
        "LLM_READ_TIMEOUT": str(READ_TIMEOUT),
        "LLM_MAX_RETRY_AFTER": str(MAX_RETRY_AFTER),
        "CHAT_AUTO_TITLES": "0",
    }
    server = start_server(env, tmp / "server.log")
    yield server, env
    server.stop()


@pytest.fixture
def deployment(running, upstream):
    """The module's server, a user of this test's own, and a check of the server's log:
    nothing of this test's was interrupted or lost its lease."""
    server, env = running
    upstream.replies.clear()
    upstream.requests.clear()
    start = len(server.log())
    (cookie,) = new_users(env, 1)
    yield server, env, cookie
    log = server.log()[start:]
    assert "Lost the lease" not in log
    assert "was abandoned by its server process" not in log


def waits(frames: list[dict]) -> list[dict]:
    return [frame for frame in frames if frame["type"] == "message.waiting"]


async def next_message_completes(server, env, upstream, cookie, conversation: int) -> None:
    """The conversation goes on as usual (its lease was never lost)."""
    upstream.script(fake.text_stream("Next", " one"))
    frames = await turn(server, cookie, "And then?", conversation=conversation)
    assert reply_of(frames)["status"] == "complete"
    assert reply_of(frames)["content"] == "Next one"


async def test_a_late_first_token_is_waited_for_and_shown(deployment, upstream):
    server, env, cookie = deployment
    upstream.script(fake.late_first_token(6.0, "Finally", " here"))
    frames = await turn(server, cookie, "Think hard")
    assert not interrupted(frames)
    reply = reply_of(frames)
    assert reply["status"] == "complete" and reply["content"] == "Finally here"
    # Watchers were told the reply waits for its provider, before any text came.
    first_delta = next(i for i, f in enumerate(frames) if f["type"] == "message.delta")
    waiting = waits(frames[:first_delta])
    assert waiting and waiting[0]["state"] == "waiting" and waiting[0]["message"] == reply["id"]
    assert message_row(env, reply["id"]) == ("complete", "Finally here")
    await next_message_completes(server, env, upstream, cookie, frames[-1]["conversation"])


async def test_a_long_reply_is_saved_as_it_streams_and_never_interrupted(deployment, upstream):
    server, env, cookie = deployment
    upstream.script(fake.long_reply(7.0, pieces=70))
    socket = await Socket.open(server, cookie)
    watcher = await Socket.open(server, cookie)
    try:
        await send(socket, "Write a lot")
        frames = await socket.until("message.delta", timeout=10)
        reply_id = next(
            f["message"]["id"]
            for f in frames
            if f["type"] == "message.created" and f["message"]["role"] == "assistant"
        )
        conversation = frames[-1]["conversation"]
        await watcher.send({"type": "conversation.open", "conversation": conversation})
        # Well past the lease, its text so far is in the database (saved each second).
        await asyncio.sleep(3 * LEASE)
        status, partial = message_row(env, reply_id)
        assert status == "streaming" and 0 < len(partial) < len(
            "".join(f"w{i} " for i in range(70))
        )
        frames += await until_reply_ends(socket, timeout=15)
        watched = await until_reply_ends(watcher, timeout=15)
    finally:
        await socket.close()
        await watcher.close()
    full = "".join(f"w{i} " for i in range(70))
    for seen in (frames, watched):
        assert not interrupted(seen)
        assert reply_of(seen)["status"] == "complete" and reply_of(seen)["content"] == full
    assert message_row(env, reply_id) == ("complete", full)
    # Its tokens reach the user's daily count (written by the same loop as the saves).
    for _ in range(50):
        if query(env, "SELECT tokens FROM conversations_dailytokens"):
            break
        await asyncio.sleep(0.1)
    assert query(env, "SELECT tokens FROM conversations_dailytokens")
    await next_message_completes(server, env, upstream, cookie, conversation)


async def test_a_silent_provider_ends_in_an_error_that_says_so(deployment, upstream):
    server, env, cookie = deployment
    upstream.script(fake.silent())
    frames = await turn(server, cookie, "Hello?")
    assert not interrupted(frames)
    reply = reply_of(frames)
    assert reply["status"] == "error"
    assert reply["error"] == (
        f"The model provider sent nothing for {READ_TIMEOUT:g} s, so the reply was stopped."
    )
    assert waits(frames) and waits(frames)[0]["state"] == "waiting"
    await next_message_completes(server, env, upstream, cookie, frames[-1]["conversation"])


async def test_a_rate_limit_is_waited_for_and_shown(deployment, upstream):
    server, _, cookie = deployment
    upstream.script(fake.rate_limited(5), fake.text_stream("After", " the wait"))
    frames = await turn(server, cookie, "Busy?")
    assert not interrupted(frames)
    assert reply_of(frames)["status"] == "complete"
    assert reply_of(frames)["content"] == "After the wait"
    retrying = [f for f in waits(frames) if f["state"] == "retrying"]
    assert retrying and retrying[0]["seconds"] == 5
    assert retrying[0]["reason"] == "The model provider is busy (rate limited)."


async def test_a_retry_after_past_the_bound_ends_in_an_error_that_says_so(deployment, upstream):
    server, _, cookie = deployment
    upstream.script(fake.rate_limited(2), fake.rate_limited(MAX_RETRY_AFTER + 2))
    frames = await turn(server, cookie, "Busy?")
    assert not interrupted(frames)
    reply = reply_of(frames)
    assert reply["status"] == "error"
    assert reply["error"] == (
        f"The model provider is busy and asked to wait {MAX_RETRY_AFTER + 2:g} s, longer than "
        f"this server waits ({MAX_RETRY_AFTER:g} s). Try again later."
    )
    assert [f["seconds"] for f in waits(frames) if f["state"] == "retrying"] == [2]
    assert len(upstream.completions()) == 2


async def test_a_burst_of_server_errors_is_retried_then_told(deployment, upstream):
    server, _, cookie = deployment
    upstream.script(*fake.server_errors(2), fake.text_stream("Back", " again"))
    frames = await turn(server, cookie, "Up?")
    assert reply_of(frames)["status"] == "complete"
    assert reply_of(frames)["content"] == "Back again"
    retrying = [f for f in waits(frames) if f["state"] == "retrying"]
    assert len(retrying) == 2 and "HTTP 503" in retrying[0]["reason"]
    # A burst longer than the retries: the error says what the provider answered.
    upstream.script(*fake.server_errors(3))
    frames = await turn(server, cookie, "Up now?")
    assert not interrupted(frames)
    assert reply_of(frames)["status"] == "error"
    assert reply_of(frames)["error"] == "The model provider had an error (HTTP 503)."


async def test_bursty_chunks_arrive_whole(deployment, upstream):
    server, env, cookie = deployment
    text = "Ünïcödé ✓ 😀 across chunks — " * 8
    upstream.script(fake.bursty(text, pause=0.02))
    frames = await turn(server, cookie, "Stream oddly")
    reply = reply_of(frames)
    assert reply["status"] == "complete" and reply["content"] == text
    streamed = "".join(f["content"] for f in frames if f["type"] == "message.delta")
    assert streamed == text
    assert message_row(env, reply["id"]) == ("complete", text)


async def test_a_compare_waits_for_each_providers_bad_day_under_one_lease(deployment, upstream):
    server, env, cookie = deployment
    upstream.route_model("m/late", fake.late_first_token(6.0, "Late", " answer"))
    upstream.route_model("m/busy", fake.rate_limited(3), fake.text_stream("Busy", " answer"))
    upstream.route_model("m/long", fake.long_reply(5.0, pieces=50))
    socket = await Socket.open(server, cookie)
    try:
        await socket.send(
            {"type": "chat.send", "client_id": "cmp", "conversation": None, "content": "All",
             "compare": [{"model": m} for m in COMPARED], "blind": False}
        )  # fmt: skip
        frames, ended = [], {}
        while len(ended) < 3:  # Each reply ends on its own, well past the lease.
            frames += await socket.until("message.completed", timeout=20)
            ended[frames[-1]["message"]["id"]] = frames[-1]["message"]
    finally:
        await socket.close()
    assert not interrupted(frames)
    by_model = {m["model"]: m for m in ended.values()}
    assert by_model["m/late"]["content"] == "Late answer"
    assert by_model["m/busy"]["content"] == "Busy answer"
    assert by_model["m/long"]["content"] == "".join(f"w{i} " for i in range(50))
    assert all(m["status"] == "complete" for m in ended.values())
    # Watchers were told what each reply waited for, by its own id.
    told = {(f["message"], f["state"]) for f in waits(frames)}
    assert (by_model["m/late"]["id"], "waiting") in told
    assert (by_model["m/busy"]["id"], "retrying") in told
    for reply in ended.values():
        assert message_row(env, reply["id"]) == ("complete", reply["content"])
    await next_message_completes(server, env, upstream, cookie, frames[-1]["conversation"])
