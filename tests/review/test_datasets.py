"""Dataset exports: each line checked against JSON Schemas of OpenAI's fine-tuning and
preference formats (tests/review/schemas/), what goes in, what never does, and the audit trail."""

import json
import warnings
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from conversations import model_input, services
from conversations.models import Conversation, Message
from conversations.review import services as review
from conversations.review.models import AuditEntry, DatasetOptOut, ScoreConfig
from conversations.tools import external
from tests import factories
from tests.compare.builders import compare
from tests.review.builders import chat, grant, rate, reply

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"


def validator(name: str) -> Draft202012Validator:
    registry = Registry()
    for path in SCHEMAS.glob("*.json"):
        registry = registry.with_resource(
            path.name, Resource.from_contents(json.loads(path.read_text()))
        )
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


FINETUNE = validator("openai_chat_finetune.schema.json")
PREFERENCE = validator("openai_preference.schema.json")


def export(client, kind: str, **filters) -> list[dict]:
    response = client.post("/admin/review/datasets/", {"kind": kind, **filters})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/x-ndjson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # The test client reads the async stream synchronously.
        body = b"".join(response).decode()
    return [json.loads(line) for line in body.splitlines()]


def wire(ids: list[int]) -> list[dict]:
    """What a request carried for these message ids, rebuilt the documented way."""
    messages = Message.objects.in_bulk(ids)
    return [said.to_wire() for i in ids if (said := model_input.chat_message(messages[i]))]


def strip_weights(messages: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k != "weight"} for m in messages]


@pytest.fixture
def curator(boss):
    return boss


def test_finetune_lines_are_good_replies_exactly_as_sent(client, boss, user, other_user):
    conversation = chat(user, turns=3)
    replies = list(conversation.messages.filter(role="assistant").order_by("id"))
    rate(replies[0], "up")
    rate(replies[1], "down")  # Not a good example.
    good = ScoreConfig.objects.get(marks_good_example=True)
    review.score_set(author=boss, message=replies[2], config=good, raw="yes")
    review.correction_add(author=boss, message=replies[0], content="A better first answer.")
    opted = chat(other_user)
    rate(opted.current_leaf, "up")
    DatasetOptOut.objects.create(user=other_user)

    client.force_login(boss)
    lines = export(client, "finetune")
    assert len(lines) == 2
    for line in lines:
        FINETUNE.validate(line)
    first, third = lines
    sent_first = replies[0].request["sent"]
    assert strip_weights(first["messages"][:-1]) == [
        {"role": "system", "content": "Be brief."},
        *wire(sent_first),
    ]
    assert first["messages"][-1] == {"role": "assistant", "content": "A better first answer."}
    sent_third = replies[2].request["sent"]
    assert strip_weights(third["messages"][1:-1]) == wire(sent_third)
    assert third["messages"][-1] == {"role": "assistant", "content": "answer 2"}
    # Only the chosen reply is trained on: earlier replies carry weight 0.
    assert [m.get("weight") for m in third["messages"] if m["role"] == "assistant"] == [0, 0, None]
    assert "answer 0" not in json.dumps(first)  # The corrected reply is replaced, not added.
    assert all("other" not in json.dumps(line) for line in lines)


def test_finetune_keeps_tool_calls_and_offers_the_tools(client, boss, user):
    conversation = chat(user)
    asked = conversation.current_leaf
    calling = reply(conversation, asked, "", sent=[asked.pk])
    Message.objects.filter(pk=calling.pk).update(
        tool_calls=[{"id": "call_1", "name": "calculator", "arguments": '{"expression": "6*7"}'}]
    )
    result = factories.message_append(
        conversation=conversation,
        role="tool",
        content="42",
        parent=calling,
        tool_call_id="call_1",
        tool_name="calculator",
    )
    answer = reply(conversation, result, "It is 42.", sent=[asked.pk, calling.pk, result.pk])
    answer.request["tools"] = ["calculator"]
    Message.objects.filter(pk=answer.pk).update(request=answer.request)
    rate(answer, "up")
    client.force_login(boss)
    [line] = export(client, "finetune")
    FINETUNE.validate(line)
    roles = [m["role"] for m in line["messages"]]
    assert roles == ["system", "assistant", "assistant", "tool", "assistant"]
    assert line["messages"][2]["tool_calls"][0]["function"]["name"] == "calculator"
    assert line["tools"][0]["function"]["name"] == "calculator"


def test_finetune_offers_an_external_tool_by_its_listed_schema_or_its_name(
    client, boss, user, external_tools
):
    conversation = chat(user)
    asked = conversation.current_leaf
    calling = reply(conversation, asked, "", sent=[asked.pk])
    calls = [
        {"id": "call_1", "name": "files__echo", "arguments": '{"text": "hi"}'},
        {"id": "call_2", "name": "gone__tool", "arguments": "{}"},
    ]
    Message.objects.filter(pk=calling.pk).update(tool_calls=calls)
    result = factories.message_append(
        conversation=conversation,
        role="tool",
        content="echo: hi",
        parent=calling,
        tool_call_id="call_1",
        tool_name="files__echo",
    )
    answer = reply(conversation, result, "It said hi.", sent=[asked.pk, calling.pk, result.pk])
    where = {"source": "mcp", "server": "files", "needs_approval": False}
    answer.request["tools"] = ["calculator", "files__echo", "gone__tool"]
    answer.request["tools_external"] = {
        "files__echo": where | {"remote_name": "echo"},
        "gone__tool": where | {"remote_name": "tool"},
    }
    Message.objects.filter(pk=answer.pk).update(request=answer.request)
    rate(answer, "up")
    client.force_login(boss)
    [line] = export(client, "finetune")
    FINETUNE.validate(line)
    calculator, echo, gone = (tool["function"] for tool in line["tools"])
    assert calculator["name"] == "calculator" and "expression" in str(calculator["parameters"])
    # The schema its server lists now; a tool no server lists any more, by its name alone.
    assert echo == {
        "name": "files__echo",
        "description": external.for_user(user.pk)["files__echo"].description,
        "parameters": external.for_user(user.pk)["files__echo"].parameters,
    }
    assert gone == {"name": "gone__tool"}


def test_preference_pairs_from_ratings_regenerations_and_corrections(
    client, boss, user, other_user
):
    conversation = chat(user)
    question = conversation.current_leaf.parent
    first = conversation.current_leaf
    second = reply(conversation, question, "A second answer.", sent=[question.pk])
    rate(first, "up")
    rate(second, "down")

    regenerated = chat(user)
    q2 = regenerated.current_leaf.parent
    kept_old = regenerated.current_leaf
    newer = reply(regenerated, q2, "A newer answer.", sent=[q2.pk])
    services.conversation_switch(conversation=regenerated, leaf_id=kept_old.pk)  # Went back.

    corrected = chat(user)
    review.correction_add(author=boss, message=corrected.current_leaf, content="Better.")

    opted = chat(other_user)
    other_question = opted.current_leaf.parent
    reply(opted, other_question, "Other version.", sent=[other_question.pk])
    DatasetOptOut.objects.create(user=other_user)

    client.force_login(boss)
    lines = export(client, "preference")
    for line in lines:
        PREFERENCE.validate(line)
    pairs = [
        (line["preferred_output"][0]["content"], line["non_preferred_output"][0]["content"])
        for line in lines
    ]
    assert sorted(pairs) == sorted(
        [("answer 0", "A second answer."), ("answer 0", "A newer answer."), ("Better.", "answer 0")]
    )
    assert newer.content not in [p[0] for p in pairs]
    by_pair = dict(zip(pairs, lines, strict=True))
    prompt = by_pair[("answer 0", "A second answer.")]["input"]["messages"]
    assert prompt == [{"role": "system", "content": "Be brief."}, *wire([question.pk])]
    assert "Other version." not in json.dumps(lines)


def test_annotations_export_is_flat_and_complete(client, boss, user):
    conversation = chat(user)
    answer = conversation.current_leaf
    rate(answer, "down", categories=["wrong"], comment="No.")
    helpfulness = ScoreConfig.objects.get(name="helpfulness")
    review.score_set(author=boss, message=answer, config=helpfulness, raw="2")
    review.note_add(author=boss, conversation=conversation, message=answer, text="Off.")
    review.correction_add(author=boss, message=answer, content="Yes.")
    client.force_login(boss)
    lines = export(client, "annotations")
    by_type = {line["type"]: line for line in lines}
    assert set(by_type) == {"score", "note", "correction", "feedback"}
    assert by_type["score"] | {"created_at": None, "updated_at": None} == {
        "type": "score",
        "conversation": conversation.pk,
        "message": answer.pk,
        "model": "m",
        "persona": None,
        "name": "helpfulness",
        "kind": "numeric",
        "value": 2.0,
        "author": "boss",
        "created_at": None,
        "updated_at": None,
    }
    assert by_type["feedback"]["rating"] == "down" and by_type["feedback"]["categories"] == [
        "wrong"
    ]
    assert "alice" not in json.dumps(lines)  # Users are ids, never names.


def test_exports_need_their_own_permission_and_are_audited(client, reviewer, user):
    conversation = chat(user)
    rate(conversation.current_leaf, "up")
    client.force_login(reviewer)
    assert client.post("/admin/review/datasets/", {"kind": "finetune"}).status_code == 403
    grant(reviewer, "export_datasets")
    reviewer.refresh_from_db()
    assert client.get("/admin/review/datasets/").status_code == 200
    assert len(export(client, "finetune", model="m")) == 1
    assert export(client, "finetune", model="another-model") == []
    summary, per_conversation = AuditEntry.objects.filter(action="export").order_by("id")[:2]
    assert summary.detail["kind"] == "finetune" and summary.detail["conversations"] == 1
    assert summary.detail["filters"]["model"] == "m"
    assert (per_conversation.conversation_id, per_conversation.owner_id) == (
        conversation.pk,
        user.pk,
    )
    assert per_conversation.detail == {"kind": "finetune", "export": summary.pk}


def test_conversation_list_action_exports_the_selection(client, boss, user):
    chosen, other = chat(user), chat(user)
    rate(chosen.current_leaf, "up")
    rate(other.current_leaf, "up")
    client.force_login(boss)
    response = client.post(
        "/admin/conversations/conversation/",
        {"action": "export_finetune", "_selected_action": [chosen.pk]},
    )
    assert response.status_code == 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lines = b"".join(response).decode().splitlines()
    assert len(lines) == 1
    FINETUNE.validate(json.loads(lines[0]))
    assert AuditEntry.objects.filter(action="export", conversation_id=chosen.pk).exists()
    assert not AuditEntry.objects.filter(action="export", conversation_id=other.pk).exists()


def regenerated(owner):
    """A never-rated conversation whose reply was written twice: a preference pair."""
    conversation = chat(owner)
    question = conversation.current_leaf.parent
    reply(conversation, question, "A newer answer.", sent=[question.pk])
    return conversation


def test_exports_draw_only_on_conversations_the_exporter_may_open(client, staff, reviewer, user):
    never_rated = regenerated(user)
    rated = regenerated(user)
    rate(rated.current_leaf, "up")
    everything = {never_rated.pk, rated.pk}

    # Staff who may export but open no transcript: their exports hold nothing either.
    grant(staff, "export_datasets")
    client.force_login(staff)
    assert client.get(f"/admin/review/transcript/{never_rated.pk}/").status_code == 403
    assert "you may open no conversation" in client.get("/admin/review/datasets/").content.decode()
    for kind in ("preference", "finetune", "annotations"):
        assert export(client, kind) == [], kind

    # A reviewer who may export: the conversations their transcripts open, no others.
    grant(reviewer, "export_datasets")
    client.force_login(reviewer)
    assert client.get(f"/admin/review/transcript/{never_rated.pk}/").status_code == 404
    lines = export(client, "preference")
    assert lines and "answer 0" in json.dumps(lines)
    exported = {
        entry.conversation_id
        for entry in AuditEntry.objects.filter(action="export", conversation_id__isnull=False)
    }
    assert exported == {rated.pk}

    # Allowed to open any conversation: every one.
    grant(reviewer, "open_any_conversation")
    AuditEntry.objects.all().delete()
    assert len(export(client, "preference")) == 2
    exported = {
        entry.conversation_id
        for entry in AuditEntry.objects.filter(action="export", conversation_id__isnull=False)
    }
    assert exported == everything


def test_finetune_sends_a_users_files_as_they_went_upstream(client, boss, user, tmp_path):
    from conversations.files import services as file_services
    from tests.files import samples
    from tests.portability.test_attached import attachment_make

    conversation = chat(user)
    asked = conversation.messages.get(role="user")
    pdf = attachment_make(user, "report.pdf", samples.pdf(["Revenue rose"]), tmp_path)
    shot = attachment_make(user, "shot.png", samples.image(), tmp_path)
    file_services.attachments_link(message=asked, attachments=[pdf, shot])
    rate(conversation.messages.get(role="assistant"), "up")
    client.force_login(boss)
    [line] = export(client, "finetune")
    FINETUNE.validate(line)
    said = line["messages"][1]
    assert said["role"] == "user"
    text, image = said["content"]
    assert text["type"] == "text"
    assert text["text"].startswith('<file name="report.pdf" type="application/pdf" pages="1">\n')
    assert "Revenue rose" in text["text"] and text["text"].endswith("question 0")
    assert image["type"] == "image_url"
    assert image["image_url"]["url"].startswith("data:image/png;base64,")
    # A text file alone keeps the content a string.
    file_services.attachments_link(message=asked, attachments=[])
    asked.attachments.remove(shot)
    [line] = export(client, "finetune")
    FINETUNE.validate(line)
    assert isinstance(line["messages"][1]["content"], str)


def test_compare_choices_go_in_the_preference_export_beside_the_other_pairs(
    client, boss, user, other_user
):
    chosen = compare(user, ["m/a", "m/b", "m/c"], chosen=2, texts=["Plain.", "Short.", "Best."])
    opted = compare(other_user, ["m/a", "m/b"], texts=["Opted best.", "Opted worst."])
    DatasetOptOut.objects.create(user=other_user)
    temporary = compare(user, ["m/a", "m/b"], texts=["Temporary best.", "Temporary worst."])
    Conversation.objects.filter(pk=temporary.conversation_id).update(temporary=True)

    client.force_login(boss)
    lines = export(client, "preference")
    for line in lines:
        PREFERENCE.validate(line)
    pairs = sorted(
        (line["preferred_output"][0]["content"], line["non_preferred_output"][0]["content"])
        for line in lines
    )
    assert pairs == [("Best.", "Plain."), ("Best.", "Short.")]
    question = chosen.group.prompt
    assert lines[0]["input"]["messages"] == [
        {"role": "system", "content": "Be brief."},
        *wire([question.pk]),
    ]
    assert opted.pk and "Opted" not in json.dumps(lines) and "Temporary" not in json.dumps(lines)
