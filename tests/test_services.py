"""Writes (conversations/services.py): titles, versions, personas and the model catalog."""

import pytest

from conversations import services
from conversations.catalog.models import ModelInfo
from conversations.deletion import services as deletion
from conversations.models import Conversation, Message
from conversations.personas import services as persona_services
from conversations.provider import sync as model_sync
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_first_title_is_the_first_line_cut_on_a_word():
    assert services.title_from_text("  Plan a\n garden  ") == "Plan a garden"
    long = services.title_from_text("word " * 40)
    assert long.endswith("…") and len(long) <= 61
    assert services.title_from_text("   ") == "New chat"


def test_appending_a_message_moves_the_active_leaf(user):
    conversation = services.conversation_create(owner=user, persona=None, model="m")
    first = factories.message_append(
        conversation=conversation, role="user", content="a", parent=None
    )
    reply = factories.message_append(
        conversation=conversation, role="assistant", content="b", parent=first
    )
    conversation.refresh_from_db()
    assert conversation.current_leaf_id == reply.pk


def test_a_renamed_conversation_is_never_retitled(user):
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="Hi")
    assert services.conversation_set_title_generated(conversation_id=conversation.pk, title="Auto")
    services.conversation_rename(conversation=conversation, title="  Mine  ")
    assert not services.conversation_set_title_generated(
        conversation_id=conversation.pk, title="Later"
    )
    conversation.refresh_from_db()
    assert (conversation.title, conversation.title_source) == ("Mine", "user")


def test_switching_marks_the_whole_branch_shown(user):
    conversation = services.conversation_create(owner=user, persona=None, model="m")
    question = factories.message_append(
        conversation=conversation, role="user", content="q", parent=None
    )
    old = factories.message_append(
        conversation=conversation, role="assistant", content="a", parent=question
    )
    factories.message_append(
        conversation=conversation, role="assistant", content="b", parent=question
    )
    before = Message.objects.get(pk=question.pk).selected_at
    services.conversation_switch(conversation=conversation, leaf_id=old.pk)
    conversation.refresh_from_db()
    assert conversation.current_leaf_id == old.pk
    assert Message.objects.get(pk=question.pk).selected_at > before


def test_a_persona_versions_only_when_what_it_sends_changes(user, other_user):
    persona = persona_services.persona_create(owner=user, name="Tutor", system_prompt="Teach.")
    persona_services.persona_update(persona=persona, name="Kind tutor", description="Patient")
    assert persona.version == 1
    persona_services.persona_update(persona=persona, system_prompt="Teach gently.")
    assert persona.version == 2
    persona_services.persona_update(persona=persona, owner=other_user)  # Staff may move it.
    assert persona.owner == other_user and persona.version == 2
    with pytest.raises(TypeError):
        persona_services.persona_update(persona=persona, version=9)
    copy = persona_services.persona_duplicate(persona=persona, owner=user)
    assert (copy.name, copy.system_prompt, copy.owner) == (
        "Kind tutor (copy)",
        "Teach gently.",
        user,
    )


def test_the_catalog_sync_adds_new_models_and_keeps_staff_edits():
    ModelInfo.objects.create(model_id="kept/model", display_name="Staff name", enabled=False)
    ModelInfo.objects.create(model_id="gone/model")
    added, gone = model_sync.models_sync(
        provider_entries=[{"id": "kept/model"}, {"id": "new/model"}, {"id": "x/flux-dev"}]
    )
    assert (added, gone) == (1, 1)
    kept = ModelInfo.objects.get(model_id="kept/model")
    assert (kept.display_name, kept.enabled, kept.available) == ("Staff name", False, True)
    assert not ModelInfo.objects.get(model_id="gone/model").available
    assert not ModelInfo.objects.filter(model_id="x/flux-dev").exists()  # Not a chat model.


def test_the_catalog_sync_marks_models_that_take_images_as_the_provider_says():
    ModelInfo.objects.create(model_id="old/vl", supports_images=False)
    ModelInfo.objects.create(model_id="staff/vision", supports_images=True)
    model_sync.models_sync(
        provider_entries=[
            {"id": "Qwen/Qwen2.5-VL-7B-Instruct", "supports_image_input": True},
            {"id": "or/model", "architecture": {"input_modalities": ["text", "image"]}},
            {"id": "text/only", "supports_image_input": False},
            {"id": "old/vl", "supports_image_input": True},
            {"id": "staff/vision"},
        ]
    )
    images = dict(ModelInfo.objects.values_list("model_id", "supports_images"))
    assert images == {
        "Qwen/Qwen2.5-VL-7B-Instruct": True,
        "or/model": True,
        "text/only": False,
        "old/vl": True,
        "staff/vision": True,  # Staff's mark stays when the provider says nothing.
    }


def test_deleting_a_conversation_takes_every_message(user):
    conversation = services.conversation_create(owner=user, persona=None, model="m")
    factories.message_append(conversation=conversation, role="user", content="a", parent=None)
    deletion.conversation_delete(conversation=conversation)
    assert not Conversation.objects.exists() and not Message.objects.exists()
