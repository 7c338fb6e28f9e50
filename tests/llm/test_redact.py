"""The API key, however the provider echoes it, never reaches a socket, the database or the log."""

import logging

import pytest
from channels.db import database_sync_to_async as db

from conversations.llm.redact import redact
from conversations.models import Message
from conversations.turns import running as running_turns
from tests import factories
from tests.conftest import API_KEY
from tests.fake_upstream import chunk, error_reply, sse
from tests.helpers import full_turn, open_socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

# Hyperbolic's keys are JWTs rather than sk-…: three base64url parts joined by dots.
JWT_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0ZWFtQGV4YW1wbGUuY29tIn0"
    ".Qx7vT2mK9pLw4RnZs8YbE3uHc6JdFa1G"
)

# How a provider might echo the key, and the part of each that must not survive.
ECHOES = {
    "upper-cased": (API_KEY.upper(), API_KEY),
    "partly masked": ("sk-test-****-123", "sk-test-****-123"),
    "masked in the middle": ("sk-tes...y-123", "sk-tes...y-123"),
    "bearer header": (f"Authorization: Bearer {API_KEY.upper()}", API_KEY),
    "bearer, masked": ("authorization: bearer sk-t****************123", "sk-t****"),
    "as a JSON header": ('{"Authorization": "Bearer sk-test-secret-key-123"}', API_KEY),
}
# Pieces of API_KEY that must not survive either, compared case-insensitively.
API_KEY_PIECES = ("sk-test", "secret-key", "key-123", "****-123", "y-123")


def leaked(text: str, pieces=API_KEY_PIECES) -> list[str]:
    return [piece for piece in pieces if piece.lower() in text.lower()]


async def failed_turn(connect, user) -> tuple[str, Message]:
    """Run one turn that fails upstream; return everything the socket got, and the saved reply."""
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws)
    frames.append(await ws.receive_json_from())  # The upstream_error frame.
    saved = await db(Message.objects.get)(role="assistant")
    return repr(frames), saved


@pytest.mark.parametrize(("echo", "secret"), ECHOES.values(), ids=ECHOES.keys())
async def test_a_key_echoed_in_an_http_error_is_redacted(
    connect, user, fake_upstream, caplog, echo, secret
):
    caplog.set_level(logging.DEBUG)
    fake_upstream.script(
        error_reply(401, {"error": {"message": f"Invalid API key: {echo}. Check it."}})
    )
    sent, saved = await failed_turn(connect, user)
    pieces = (*API_KEY_PIECES, secret)
    for text in (sent, saved.error, saved.error_detail):
        assert leaked(text, pieces) == []
    assert "Invalid API key" in saved.error_detail and "Check it." in saved.error_detail
    assert caplog.records and leaked(caplog.text, pieces) == []


@pytest.mark.parametrize(("echo", "secret"), ECHOES.values(), ids=ECHOES.keys())
async def test_a_key_echoed_in_a_stream_error_is_redacted(
    connect, user, fake_upstream, caplog, echo, secret
):
    caplog.set_level(logging.DEBUG)
    fake_upstream.script(
        sse(chunk({"content": "Par"}), {"error": {"message": f"upstream auth {echo} expired"}})
    )
    sent, saved = await failed_turn(connect, user)
    # The stream error is shown to the user too: it must be as clean as the staff detail.
    assert "upstream auth" in saved.error and "expired" in saved.error
    pieces = (*API_KEY_PIECES, secret)
    for text in (sent, saved.error, saved.error_detail, caplog.text):
        assert leaked(text, pieces) == []


JWT_ECHOES = {
    "lower-cased": JWT_KEY.lower(),
    "head and tail": f"{JWT_KEY[:10]}...{JWT_KEY[-6:]}",
    "bearer header": f"Bearer {JWT_KEY}",
    "last part alone": JWT_KEY.rsplit(".", 1)[1],
}


@pytest.mark.parametrize("echo", JWT_ECHOES.values(), ids=JWT_ECHOES.keys())
async def test_a_jwt_key_echoed_in_any_form_is_redacted(
    connect, user, fake_upstream, settings, caplog, echo
):
    caplog.set_level(logging.DEBUG)
    settings.LLM_API_KEY = JWT_KEY
    fake_upstream.script(error_reply(403, {"detail": f"token {echo} is not allowed"}))
    sent, saved = await failed_turn(connect, user)
    pieces = (JWT_KEY[:10], JWT_KEY[-6:], JWT_KEY.rsplit(".", 1)[1][:12])
    for text in (sent, saved.error, saved.error_detail, caplog.text):
        assert leaked(text, pieces) == []
    assert "is not allowed" in saved.error_detail


@pytest.mark.parametrize(
    "text",
    [
        "The model meta-llama/Llama-3.3-70B-Instruct does not exist",
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B is overloaded, retry in 3 s",
        "Qwen/Qwen2.5-Coder-32B-Instruct: context length 131072 exceeded by 2048 tokens",
        "request id 8f14e45fceea167a5a36dedd4bea2543 failed",
        "request 123e4567-e89b-12d3-a456-426614174000 timed out",
        "HTTP 429: Too Many Requests",
        "Skip the sk- prefix in docs",
    ],
)
def test_ordinary_provider_text_is_left_alone(text):
    assert redact(text, API_KEY) == text


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "gsk_8xK2mPq9TzR4vLw7NcY3bHd6FjS1aGe5",
        "hf_QmXwErTyUiOpAsDfGhJkLzXcVbNm123456",
        "AIzaSyD3xK9mPq2TzR4vLw7NcY3bHd6FjS1aGe5",
        "x9Kq2mT7vLw4RnZs8YbE3uHc6JdFa1GpQ0eWrTyU",
    ],
)
def test_other_key_like_tokens_are_redacted(secret):
    out = redact(f"leaked {secret} here", API_KEY)
    assert secret not in out and secret[-8:] not in out
    assert out.startswith("leaked ") and out.endswith(" here")


def test_console_log_lines_are_redacted_whatever_logged_them(settings):
    import sys

    settings.LLM_API_KEY = API_KEY
    console = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    try:
        raise ValueError(f"library failure near {API_KEY.upper()}")
    except ValueError:
        record = logging.LogRecord(
            "some.library",
            logging.ERROR,
            __file__,
            1,
            "sent header %s",
            ("Bearer x",),
            sys.exc_info(),
        )
    line = console.format(record)
    assert "library failure near" in line and "ValueError" in line
    assert leaked(line) == [] and "Bearer x" not in line


def test_a_reply_error_of_any_origin_is_saved_redacted(user, settings):
    from conversations import services

    settings.LLM_API_KEY = API_KEY
    conversation = services.conversation_create(owner=user, persona=None, model="m")
    reply = factories.message_append(
        conversation=conversation, role="assistant", content="", parent=None
    )
    saved = running_turns.reply_finish(
        message_id=reply.pk,
        status="error",
        content="",
        error="Something went wrong.",
        error_detail=f"ConnectError: proxy refused {API_KEY.upper()} (sk-test-…-123)",
    )
    assert saved.error == "Something went wrong."
    assert saved.error_detail.startswith("ConnectError: proxy refused")
    assert leaked(saved.error_detail) == []
