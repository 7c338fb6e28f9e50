"""Settings and the privacy page on retention: the user's own, shorter period, and what
both pages say (the rule that applies, and the review queue's hold)."""

import re

import pytest
from django.contrib.auth.models import Group

from conversations.accounts.models import UserSettings
from conversations.deletion.models import RetentionRule

pytestmark = pytest.mark.django_db


def offered(page: str) -> list[str]:
    select = re.search(r'<select name="retention_days".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="(\d*)"', select)


def rule_text(page: str) -> str:
    text = re.search(r'<p id="retention-rule">(.*?)</p>', page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


HOLD = "A conversation in the review queue is kept until a reviewer resolves its item"


def test_a_user_chooses_a_shorter_period_among_those_the_rules_allow(client, settings, user):
    settings.CHAT_RETENTION_DAYS = 90
    client.force_login(user)
    page = client.get("/settings/").content.decode()
    assert offered(page) == ["", "1", "7", "30"]  # Only periods shorter than the site's.
    assert "when untouched for 90 days (the site&#x27;s rule)" in page
    assert rule_text(page).startswith("A conversation you have not touched")
    assert "for 90 days" in rule_text(page) and "this site's rule" in rule_text(page)

    response = client.post("/settings/", {"theme": "system", "retention_days": "7"})
    assert response.status_code == 302
    assert UserSettings.objects.get(user=user).retention_days == 7
    page = client.get("/settings/").content.decode()
    assert '<option value="7" selected>' in page
    assert "for 7 days" in rule_text(page) and "your own choice" in rule_text(page)
    assert "the site's rule would keep them 90 days" in rule_text(page)

    # A period the rules do not offer is refused, and nothing changes.
    response = client.post("/settings/", {"theme": "system", "retention_days": "365"})
    assert response.status_code == 400
    assert UserSettings.objects.get(user=user).retention_days == 7
    client.post("/settings/", {"theme": "system", "retention_days": ""})
    assert UserSettings.objects.get(user=user).retention_days is None


def test_a_groups_shorter_rule_limits_the_choice_and_is_named(client, settings, user):
    settings.CHAT_RETENTION_DAYS = 0
    group = Group.objects.create(name="Legal")
    RetentionRule.objects.create(group=group, days=30)
    user.groups.add(group)
    client.force_login(user)
    page = client.get("/settings/").content.decode()
    assert offered(page) == ["", "1", "7"]
    assert "when untouched for 30 days (your group&#x27;s rule)" in page
    assert "the rule for your group" in rule_text(page)


def test_both_pages_say_how_long_and_that_the_review_queue_holds(client, settings, user):
    settings.CHAT_RETENTION_DAYS = 0
    client.force_login(user)
    for url in ("/settings/", "/settings/privacy/"):
        page = client.get(url).content.decode()
        assert "How long your conversations are kept" in page, url
        assert rule_text(page) == "This site keeps your conversations until you delete them."
        assert HOLD in page, url
    assert offered(client.get("/settings/").content.decode()) == ["", "1", "7", "30", "90", "365"]
    settings.CHAT_RETENTION_DAYS = 30
    page = client.get("/settings/privacy/").content.decode()
    assert "for 30 days" in rule_text(page) and HOLD in page
