"""The project pages and the sidebar's project reads over HTTP: make, edit, delete (asking
what becomes of the conversations), a project's list and search scope, the chat page's
new chat in a project; another user's project is a 404 wherever it is named."""

import json
import re

import pytest

from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.projects.models import Project

pytestmark = pytest.mark.django_db


def boot_of(page: str) -> dict:
    found = re.search(r'<script id="boot" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_make_a_project_then_a_new_chat_opens_in_it(client, user):
    client.force_login(user)
    persona = Persona.objects.create(owner=user, name="Tutor")
    answer = client.post(
        "/projects/new/",
        {
            "name": "Garden",
            "instructions": "Answer as a gardener.",
            "default_persona": str(persona.pk),
            "default_model": "",
            "default_tools": ["calculator"],
        },
    )
    project = Project.objects.get(owner=user)
    assert answer.status_code == 302 and answer["Location"] == f"/?project={project.pk}"
    assert project.default_tools == ["calculator"] and project.default_persona == persona
    boot = boot_of(client.get(answer["Location"]).content.decode())
    assert boot["newChat"]["project"] == {
        "id": project.pk,
        "name": "Garden",
        "tools": ["calculator"],
    }
    assert boot["newChat"]["persona"] == persona.pk
    assert boot["projects"] == [{"id": project.pk, "name": "Garden", "count": 0}]


def test_the_form_shows_the_services_refusals(client, user):
    client.force_login(user)
    Project.objects.create(owner=user, name="Garden")
    page = client.post("/projects/new/", {"name": "Garden", "instructions": ""})
    assert page.status_code == 200 and b"already have a project with this name" in page.content
    theirs = Persona.objects.create(owner=None, name="Shared")
    mine = Project.objects.get(owner=user)
    assert (
        client.post(
            f"/projects/{mine.pk}/edit/", {"name": "Kitchen", "default_persona": str(theirs.pk)}
        ).status_code
        == 302
    )
    mine.refresh_from_db()
    assert (mine.name, mine.default_persona) == ("Kitchen", theirs)


def test_delete_asks_then_keeps_or_deletes_the_conversations(client, user):
    client.force_login(user)
    keep = Project.objects.create(owner=user, name="Keep")
    kept = Conversation.objects.create(owner=user, project=keep, title="Stays")
    page = client.get(f"/projects/{keep.pk}/delete/")
    assert b"Keep them" in page.content and b"Delete them too" in page.content
    assert client.post(f"/projects/{keep.pk}/delete/", {}).status_code == 200  # No choice made.
    assert client.post(f"/projects/{keep.pk}/delete/", {"conversations": "keep"}).status_code == 302
    kept.refresh_from_db()
    assert kept.project is None
    drop = Project.objects.create(owner=user, name="Drop")
    gone = Conversation.objects.create(owner=user, project=drop, title="Goes")
    Message.objects.create(conversation=gone, role="user", content="x")
    assert (
        client.post(f"/projects/{drop.pk}/delete/", {"conversations": "delete"}).status_code == 302
    )
    assert not Conversation.objects.filter(pk=gone.pk).exists()
    assert not Project.objects.exists()


def test_a_projects_list_and_search_scope(client, user):
    client.force_login(user)
    project = Project.objects.create(owner=user, name="Garden")
    inside = Conversation.objects.create(owner=user, project=project, title="Tomato beds")
    outside = Conversation.objects.create(owner=user, title="Tomato soup")
    listed = client.get(f"/conversations.json?project={project.pk}").json()["conversations"]
    assert [c["id"] for c in listed] == [inside.pk] and listed[0]["project"] == project.pk
    everywhere = client.get("/search.json?q=tomato").json()["results"]
    assert {h["conversation"] for h in everywhere} == {inside.pk, outside.pk}
    scoped = client.get(f"/search.json?q=tomato&project={project.pk}").json()["results"]
    assert [h["conversation"] for h in scoped] == [inside.pk]
    Message.objects.create(conversation=outside, role="user", content="basil and tomato")
    Message.objects.create(conversation=inside, role="user", content="basil rows")
    scoped = client.get(f"/search.json?q=basil&project={project.pk}").json()["results"]
    assert [h["conversation"] for h in scoped] == [inside.pk]


def test_the_chat_page_lists_only_conversations_in_no_project_and_the_projects(client, user):
    client.force_login(user)
    project = Project.objects.create(owner=user, name="Garden")
    inside = Conversation.objects.create(owner=user, project=project, title="In")
    outside = Conversation.objects.create(owner=user, title="Out")
    boot = boot_of(client.get("/").content.decode())
    assert [c["id"] for c in boot["conversations"]] == [outside.pk]
    assert boot["projects"] == [{"id": project.pk, "name": "Garden", "count": 1}]
    # The conversation open is listed too, in its project's section.
    boot = boot_of(client.get(f"/conversations/{inside.pk}/").content.decode())
    assert {c["id"] for c in boot["conversations"]} == {outside.pk, inside.pk}


@pytest.mark.parametrize(
    "url",
    [
        "/projects/{id}/edit/",
        "/projects/{id}/delete/",
        "/conversations.json?project={id}",
        "/search.json?q=secret&project={id}",
        "/?project={id}",
    ],
)
def test_another_users_project_is_a_404_as_a_missing_one_is(client, user, other_user, url):
    theirs = Project.objects.create(owner=other_user, name="Secret plans", instructions="secret")
    Conversation.objects.create(owner=other_user, project=theirs, title="secret")
    client.force_login(user)
    assert client.get(url.format(id=theirs.pk)).status_code == 404
    assert client.get(url.format(id=theirs.pk + 1000)).status_code == 404
    assert client.post(url.format(id=theirs.pk), {"conversations": "delete"}).status_code in (
        404,
        405,
    )
    assert Project.objects.filter(pk=theirs.pk).exists()


def test_another_users_projects_are_nowhere_on_ones_pages(client, user, other_user):
    Project.objects.create(owner=other_user, name="Secret plans")
    client.force_login(user)
    assert b"Secret plans" not in client.get("/").content
    assert b"Secret plans" not in client.get("/projects/").content
    assert boot_of(client.get("/").content.decode())["projects"] == []


def test_sections_left_open_come_drawn_with_the_page_and_only_ones_own(client, user, other_user):
    client.force_login(user)
    mine = Project.objects.create(owner=user, name="Garden")
    closed = Project.objects.create(owner=user, name="Kitchen")
    inside = Conversation.objects.create(owner=user, project=mine, title="Beds")
    Conversation.objects.create(owner=user, project=closed, title="Soup")
    theirs = Project.objects.create(owner=other_user, name="Secret plans")
    Conversation.objects.create(owner=other_user, project=theirs, title="Hidden")
    client.cookies["chat_projects_open"] = f"{mine.pk}.{theirs.pk}.junk"
    page = client.get("/").content.decode()
    boot = boot_of(page)
    assert [c["id"] for c in boot["conversations"]] == [inside.pk]
    assert boot["projects"] == [
        {"id": mine.pk, "name": "Garden", "count": 1, "loaded": True},
        {"id": closed.pk, "name": "Kitchen", "count": 1},
    ]
    assert 'aria-expanded="true"' in page and ">Beds</a>" in page
    assert "Hidden" not in page and "Secret plans" not in page and "Soup" not in page
