"""Who may use what, enforced by the server: a model, a shared persona or a tool kept to
some groups is refused (or not offered) to everyone outside them, on every turn: send,
regenerate and continue; the picker, the persona pages and the chat page's tools offer
only what the user may use. A change (a rule, a group's members) counts at once."""

import json

import pytest
from channels.db import database_sync_to_async as db
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conversations.access import kinds, policy
from conversations.access import services as access_services
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.provider import availability
from conversations.turns import starts
from tests.fake_upstream import text_stream, tool_calls_stream
from tests.helpers import full_turn, open_socket, receive_until, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

TEAM_MODEL = "acme/team-model"


@pytest.fixture
def team(user, other_user):
    """A group "Team" with mallory in it; alice is outside."""
    group = Group.objects.create(name="Team")
    other_user.groups.add(group)
    return group


def keep(kind: str, name: str, *groups: Group) -> None:
    access_services.rule_set(kind=kind, name=name, group_ids=[g.pk for g in groups])


async def error_for(ws, **match) -> dict:
    return (await receive_until(ws, "error", **match))[-1]


def picker(user) -> list[str]:
    client = Client()
    client.force_login(user)
    return [m["id"] for m in json.loads(client.get("/models.json").content)["models"]]


async def test_a_user_outside_a_models_groups_is_refused_on_send_regenerate_and_continue(
    connect, user, other_user, team, fake_upstream
):
    fake_upstream.list_models(TEAM_MODEL)
    # Alice chats with the model while it is everyone's, and leaves a reply to continue.
    fake_upstream.script(text_stream("Before the rule."))
    alice = await open_socket(connect, user)
    frames, reply = await full_turn(alice, model=TEAM_MODEL)
    conversation = frames[0]["conversation"]
    assert TEAM_MODEL in await db(picker)(user)

    await db(keep)(kinds.MODEL, TEAM_MODEL, team)  # Staff keep it to the team.

    # The picker no longer offers it to her; it does to a member.
    assert TEAM_MODEL not in await db(picker)(user)
    assert TEAM_MODEL in await db(picker)(other_user)
    # Naming it in a send: refused, saying why; nothing saved, nothing sent.
    await alice.send_json_to(send_frame(client_id="named", model=TEAM_MODEL))
    error = await error_for(alice, client_id="named")
    assert error["code"] == "bad_request"
    assert error["field"] == "model" and error["model"] == TEAM_MODEL
    assert "kept to other groups than yours" in error["message"]
    assert await db(Conversation.objects.count)() == 1
    # Her conversation takes it: a send, a regenerate and a continue are all refused.
    await alice.send_json_to(send_frame(client_id="next", conversation=conversation))
    error = await error_for(alice, client_id="next")
    assert error["code"] == "model_unavailable" and error["model"] == TEAM_MODEL
    assert "kept to other groups than yours" in error["message"]
    for action in ("chat.regenerate", "chat.continue"):
        await alice.send_json_to(
            {"type": action, "conversation": conversation, "message": reply["id"]}
        )
        error = await error_for(alice)
        assert error["code"] == "model_unavailable" and error["model"] == TEAM_MODEL, action
    assert await db(Message.objects.filter(conversation_id=conversation).count)() == 2
    assert len(fake_upstream.completions()) == 1
    # Opening it, the page learns before sending that the model is not hers to use.
    await alice.send_json_to({"type": "conversation.open", "conversation": conversation})
    state = (await receive_until(alice, "conversation.state"))[-1]
    assert state["model_available"] is False

    # A member uses it as before.
    fake_upstream.script(text_stream("For the team."))
    mallory = await open_socket(connect, other_user)
    _, theirs = await full_turn(mallory, client_id="m1", model=TEAM_MODEL)
    assert theirs["status"] == "complete"
    assert fake_upstream.completions()[-1].body["model"] == TEAM_MODEL


async def test_joining_or_leaving_the_group_counts_at_once(
    connect, user, other_user, team, fake_upstream
):
    fake_upstream.list_models(TEAM_MODEL)
    await db(keep)(kinds.MODEL, TEAM_MODEL, team)
    alice = await open_socket(connect, user)
    await alice.send_json_to(send_frame(client_id="a1", model=TEAM_MODEL))
    assert (await error_for(alice, client_id="a1"))["code"] == "bad_request"

    await db(user.groups.add)(team)
    fake_upstream.script(text_stream("Welcome."))
    _, reply = await full_turn(alice, client_id="a2", model=TEAM_MODEL)
    assert reply["status"] == "complete"

    await db(team.user_set.remove)(user)  # From the group's side this time.
    await alice.send_json_to(send_frame(client_id="a3", model=TEAM_MODEL))
    assert (await error_for(alice, client_id="a3"))["code"] == "bad_request"
    # A group deleted takes its rule's members with it: nobody may use it, not everyone.
    await db(team.delete)()
    assert TEAM_MODEL not in await db(picker)(other_user)
    assert TEAM_MODEL not in await db(picker)(user)


async def test_choosing_a_kept_model_in_a_chats_settings_is_refused(
    connect, user, team, fake_upstream
):
    fake_upstream.list_models(TEAM_MODEL)
    await db(keep)(kinds.MODEL, TEAM_MODEL, team)
    fake_upstream.script(text_stream("Hi"))
    alice = await open_socket(connect, user)
    frames, _ = await full_turn(alice)
    cid = frames[0]["conversation"]
    await alice.send_json_to(
        {"type": "conversation.settings", "conversation": cid, "model": TEAM_MODEL}
    )
    error = await error_for(alice)
    assert error["code"] == "bad_request" and error["model"] == TEAM_MODEL
    assert (await db(Conversation.objects.get)(pk=cid)).model == ""


async def test_a_shared_persona_published_to_a_group_is_theirs_alone(
    connect, user, other_user, team, fake_upstream
):
    published = await db(Persona.objects.create)(name="Lab notes", system_prompt="Be terse.")
    everyones = await db(Persona.objects.create)(name="Helper")
    own = await db(Persona.objects.create)(name="Mine", owner=user)
    await db(keep)(kinds.PERSONA, str(published.pk), team)
    # Alice's own persona stays hers; a rule naming it would not matter (it is not shared).
    await db(keep)(kinds.PERSONA, str(own.pk), team)

    def page_and_boot(who) -> tuple[str, dict]:
        client = Client()
        client.force_login(who)
        listed = client.get("/personas/").content.decode()
        boot = client.get("/").context["boot"]["personas"]
        return listed, boot

    listed, boot = await db(page_and_boot)(user)
    assert "Lab notes" not in listed and "Helper" in listed and "Mine" in listed
    assert set(boot) == {everyones.pk, own.pk}
    listed, boot = await db(page_and_boot)(other_user)
    assert "Lab notes" in listed and published.pk in boot

    alice = await open_socket(connect, user)
    await alice.send_json_to(send_frame(client_id="p1", persona=published.pk))
    error = await error_for(alice, client_id="p1")
    assert error["code"] == "bad_request" and error["field"] == "persona"
    assert "Lab notes is kept to other groups than yours" in error["message"]
    assert fake_upstream.completions() == []
    # Nor can she copy it, which would hand her its prompt.
    client = Client()
    await db(client.force_login)(user)
    assert (await db(client.post)(f"/personas/{published.pk}/duplicate/")).status_code == 404
    # Her own persona works.
    fake_upstream.script(text_stream("Mine."))
    _, reply = await full_turn(alice, client_id="p2", persona=own.pk)
    assert reply["status"] == "complete"

    # A conversation made with the persona before the rule is refused after it.
    await db(access_services.rule_set)(kind=kinds.PERSONA, name=str(published.pk), group_ids=[])
    fake_upstream.script(text_stream("Open to all."))
    frames, _ = await full_turn(alice, client_id="p3", persona=published.pk)
    cid = frames[0]["conversation"]
    await db(keep)(kinds.PERSONA, str(published.pk), team)
    await alice.send_json_to(send_frame(client_id="p4", conversation=cid))
    error = await error_for(alice, client_id="p4")
    assert error["code"] == "bad_request" and error["field"] == "persona"


async def test_a_kept_tool_is_neither_shown_nor_offered_to_others(
    connect, user, other_user, team, fake_upstream
):
    await db(keep)(kinds.TOOL, "calculator", team)

    def boot_tools(who) -> list[str]:
        client = Client()
        client.force_login(who)
        return [t["name"] for t in client.get("/").context["boot"]["tools"]]

    assert "calculator" not in await db(boot_tools)(user)
    assert "current_datetime" in await db(boot_tools)(user)
    assert "calculator" in await db(boot_tools)(other_user)

    # Asked for anyway (a persona's, or a message's): not offered, and "What was sent" says why.
    fake_upstream.script(text_stream("No tools for me."))
    alice = await open_socket(connect, user)
    _, reply = await full_turn(
        alice, tools=["calculator", "current_datetime"], tool_choice="calculator"
    )
    body = fake_upstream.completions()[-1].body
    assert [t["function"]["name"] for t in body["tools"]] == ["current_datetime"]
    assert body["tool_choice"] == "auto"
    assert reply["request"]["tools_not_allowed"] == ["calculator"]
    # Called anyway by the model: it never runs.
    fake_upstream.script(
        tool_calls_stream(("calculator", '{"expression": "6*7"}')),
        text_stream("Done."),
    )
    frames = await receive_until_done(alice, tools=["calculator", "current_datetime"])
    results = [f["message"]["content"] for f in frames if f["type"] == "message.tool_result"]
    assert results and results[0].startswith("Error: tool 'calculator' was not offered")

    fake_upstream.script(text_stream("Calculated."))
    mallory = await open_socket(connect, other_user)
    await full_turn(mallory, client_id="m1", tools=["calculator"])
    body = fake_upstream.completions()[-1].body
    assert [t["function"]["name"] for t in body["tools"]] == ["calculator"]


async def receive_until_done(ws, **frame) -> list[dict]:
    await ws.send_json_to(send_frame(client_id="t2", **frame))
    frames = []
    while True:
        got = await receive_until(ws, "message.completed")
        frames += got
        if got[-1]["message"]["content"] == "Done.":
            return frames


def test_a_turn_start_reads_no_more_with_rules_than_without(user, team, settings):
    """The check is a lookup in the process's snapshot: a start with rules in force (on
    its very model) runs exactly the queries a start without them runs."""
    member = user
    member.groups.add(team)
    settings.CHAT_MAX_RUNNING_TURNS = 0

    def start(client_id: str) -> int:
        models = availability.policy()
        with CaptureQueriesContext(connection) as queries:
            starts.turn_begin_send(
                user=member,
                owner="test-process",
                client_id=client_id,
                conversation_id=None,
                content="Hi",
                models=models,
            )
        return len(queries.captured_queries)

    start("c0")  # The user's first start makes their allowance row: not counted.
    without = start("c1")
    keep(kinds.MODEL, settings.LLM_DEFAULT_MODEL, team)
    for n in range(50):  # And plenty of other rules beside it.
        keep(kinds.TOOL, f"tool-{n}", team)
    policy.load()
    assert start("c2") == without


def test_past_its_bound_on_memberships_the_snapshot_reads_the_users_groups(
    user, other_user, team, monkeypatch
):
    monkeypatch.setattr(policy, "MAX_MEMBERSHIPS", 0)
    keep(kinds.MODEL, TEAM_MODEL, team)
    snapshot = policy.load()
    assert snapshot.members is None  # Too many to hold: each user's read when needed.
    assert snapshot.user(other_user.pk).may(kinds.MODEL, TEAM_MODEL)
    assert not snapshot.user(user.pk).may(kinds.MODEL, TEAM_MODEL)
    assert snapshot.user(user.pk).may(kinds.MODEL, "anything/else")
