"""Staff publish shared prompts in the admin, and the access form offers them by name."""

import pytest

from conversations.access import kinds
from conversations.prompts.models import Prompt

pytestmark = pytest.mark.django_db


def test_staff_publish_a_shared_prompt(admin_client):
    form = {"command": "standup", "title": "Stand-up", "text": "Yesterday {{done}}", "owner": ""}
    assert admin_client.post("/admin/conversations/prompt/add/", form).status_code == 302
    prompt = Prompt.objects.get(command="standup")
    assert prompt.owner is None
    assert admin_client.get("/admin/conversations/prompt/").status_code == 200
    assert (str(prompt.pk), f"/standup: Stand-up (#{prompt.pk})") in list(
        kinds.NAME_SOURCES[kinds.PROMPT]()
    )


def test_the_admin_refuses_a_bad_command_or_too_many_variables(admin_client):
    many = " ".join(f"{{{{v{i}}}}}" for i in range(25))
    for command, text in (("Bad Command", "x"), ("ok", many)):
        form = {"command": command, "title": "T", "text": text, "owner": ""}
        assert admin_client.post("/admin/conversations/prompt/add/", form).status_code == 200
    assert not Prompt.objects.exists()
