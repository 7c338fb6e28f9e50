"""The prompt pages and prompts.json: a user manages only their own prompts; another user's
prompt is "not found" on every page, as a missing id; shared ones are listed, never edited."""

import pytest

from conversations.prompts.models import Prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompts(user, other_user):
    return {
        "mine": Prompt.objects.create(
            owner=user, command="mine", title="Mine", text="Hi {{who:you}}"
        ),
        "theirs": Prompt.objects.create(
            owner=other_user, command="theirs", title="Theirs", text="secret"
        ),
        "shared": Prompt.objects.create(owner=None, command="shared", title="Shared", text="All"),
    }


def test_create_edit_and_delete_ones_own(client, user):
    client.force_login(user)
    assert client.get("/prompts/new/").status_code == 200
    answer = client.post(
        "/prompts/new/", {"command": "recap", "title": "Recap", "text": "Recap {{topic}}"}
    )
    assert answer.status_code == 302
    prompt = Prompt.objects.get(owner=user)
    page = client.get("/prompts/").content.decode()
    assert "/recap" in page and "Asks for: topic" in page and f"/prompts/{prompt.pk}/edit/" in page
    answer = client.post(
        f"/prompts/{prompt.pk}/edit/", {"command": "recap2", "title": "R", "text": "x"}
    )
    assert answer.status_code == 302
    prompt.refresh_from_db()
    assert (prompt.command, prompt.title, prompt.text) == ("recap2", "R", "x")
    assert client.get(f"/prompts/{prompt.pk}/delete/").status_code == 200  # Asks first.
    assert Prompt.objects.filter(owner=user).exists()
    assert client.post(f"/prompts/{prompt.pk}/delete/").status_code == 302
    assert not Prompt.objects.filter(owner=user).exists()


def test_the_form_refuses_a_taken_command_a_bad_one_and_past_the_bound(
    client, user, prompts, settings
):
    client.force_login(user)
    for command, problem in (("mine", "already have a prompt /mine"), ("No Good", "lowercase")):
        page = client.post("/prompts/new/", {"command": command, "title": "T", "text": "x"})
        assert page.status_code == 200 and problem in page.content.decode()
    # A shared prompt's or another user's command is free to use.
    for command in ("shared", "theirs"):
        assert (
            client.post(
                "/prompts/new/", {"command": command, "title": "T", "text": "x"}
            ).status_code
            == 302
        )
    settings.CHAT_MAX_PROMPTS_PER_USER = 3
    page = client.post("/prompts/new/", {"command": "more", "title": "T", "text": "x"})
    assert "at most 3 prompts" in page.content.decode()
    assert Prompt.objects.filter(owner=user).count() == 3


def test_another_users_prompt_is_not_found_anywhere(client, user, prompts):
    client.force_login(user)
    for key in ("theirs", "shared"):
        pk = prompts[key].pk
        for url in (f"/prompts/{pk}/edit/", f"/prompts/{pk}/delete/"):
            assert client.get(url).status_code == 404
            assert client.post(url, {"command": "x", "title": "x", "text": "x"}).status_code == 404
    missing = Prompt.objects.order_by("-pk").first().pk + 1
    assert client.get(f"/prompts/{missing}/edit/").status_code == 404
    assert Prompt.objects.get(pk=prompts["theirs"].pk).text == "secret"
    assert Prompt.objects.filter(pk=prompts["shared"].pk).exists()
    page = client.get("/prompts/").content.decode()
    assert "/theirs" not in page and "secret" not in page and "/shared" in page
    listed = client.get("/prompts.json").json()["prompts"]
    assert [p["command"] for p in listed] == ["mine", "shared"]


def test_the_slash_menus_list(client, user, prompts):
    client.force_login(user)
    answer = client.get("/prompts.json")
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    body = answer.json()
    assert body["user"] == user.get_username()
    mine = body["prompts"][0]
    assert mine == {
        "id": prompts["mine"].pk,
        "command": "mine",
        "title": "Mine",
        "text": "Hi {{who:you}}",
        "shared": False,
        "variables": [{"name": "who", "default": "you", "built_in": False}],
    }
    assert body["prompts"][1]["shared"] is True
    assert client.post("/prompts.json").status_code == 405


def test_the_pages_need_a_sign_in(client, prompts):
    assert client.get("/prompts.json").status_code == 302
    assert client.get("/prompts/").status_code == 302


def test_the_list_is_rate_limited_like_other_reads(client, user, settings):
    settings.CHAT_READS_PER_MINUTE = 2
    client.force_login(user)
    codes = [client.get("/prompts.json").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_pages_link_to_the_prompts(client, user):
    client.force_login(user)
    assert 'href="/prompts/"' in client.get("/personas/").content.decode()
    assert 'href="/prompts/"' in client.get("/").content.decode()
