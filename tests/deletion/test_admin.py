"""Staff's retention rules per group, in the admin: shorter than the site's, or refused."""

import pytest
from django.contrib.auth.models import Group

from conversations.deletion.models import RetentionRule

pytestmark = pytest.mark.django_db

ADD = "/admin/conversations/retentionrule/add/"


def test_a_groups_rule_must_be_shorter_than_the_sites(client, settings, boss):
    settings.CHAT_RETENTION_DAYS = 30
    group = Group.objects.create(name="Legal")
    client.force_login(boss)
    page = client.get("/admin/conversations/retentionrule/").content.decode()
    assert "deleted after 30 days untouched (CHAT_RETENTION_DAYS)" in page
    assert "kept until the item is resolved" in page

    response = client.post(ADD, {"group": group.pk, "days": 30})
    assert response.status_code == 200
    assert "a group&#x27;s rule must be shorter" in response.content.decode()
    assert not RetentionRule.objects.exists()

    response = client.post(ADD, {"group": group.pk, "days": 7})
    assert response.status_code == 302
    assert RetentionRule.objects.get().days == 7


def test_with_no_site_rule_any_period_is_shorter(client, settings, boss):
    settings.CHAT_RETENTION_DAYS = 0
    group = Group.objects.create(name="Legal")
    client.force_login(boss)
    assert (
        "kept until deleted" in client.get("/admin/conversations/retentionrule/").content.decode()
    )
    assert client.post(ADD, {"group": group.pk, "days": 3650}).status_code == 302
    other = Group.objects.create(name="Sales")
    response = client.post(ADD, {"group": other.pk, "days": 0})
    assert "Ensure this value is greater than or equal to 1" in response.content.decode()
    assert list(RetentionRule.objects.values_list("group__name", "days")) == [("Legal", 3650)]
