"""The limits in the admin: quotas say what everyone else may use, and the tokens used per
day are read-only, each with the quota that applies to its user."""

import datetime as dt

import pytest

from conversations.limits.models import DailyTokens, TokenQuota

pytestmark = pytest.mark.django_db


def test_the_quotas_page_says_what_everyone_else_may_use(admin_client, settings):
    settings.CHAT_DAILY_TOKENS = 2_000_000
    page = admin_client.get("/admin/conversations/tokenquota/").content.decode()
    assert "Everyone else may use 2,000,000 tokens a day (CHAT_DAILY_TOKENS)." in page
    settings.CHAT_DAILY_TOKENS = 0
    page = admin_client.get("/admin/conversations/tokenquota/").content.decode()
    assert "Everyone else may use any number of tokens." in page


def test_tokens_used_are_read_only_and_show_each_users_quota(admin_client, settings, user):
    settings.CHAT_DAILY_TOKENS = 1000
    row = DailyTokens.objects.create(user=user, day=dt.date(2025, 1, 2), tokens=42)
    TokenQuota.objects.create(user=user, daily_tokens=5000)
    page = admin_client.get("/admin/conversations/dailytokens/").content.decode()
    assert '<td class="field-quota">5,000</td>' in page
    assert "/admin/conversations/dailytokens/add/" not in page
    assert admin_client.get("/admin/conversations/dailytokens/add/").status_code == 403
    response = admin_client.post(
        f"/admin/conversations/dailytokens/{row.pk}/change/",
        {"user": user.pk, "day": "2025-01-02", "tokens": "0"},
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.tokens == 42
    settings.CHAT_DAILY_TOKENS = 0
    TokenQuota.objects.all().delete()
    page = admin_client.get("/admin/conversations/dailytokens/").content.decode()
    assert '<td class="field-quota">no limit</td>' in page
