"""Staff's leaderboard in the admin: the dashboard permission, every user's choices,
filters by tag name across users, and its links from the admin index and dashboard."""

import pytest

from conversations.tags.models import Tag
from tests.compare.builders import compare

pytestmark = pytest.mark.django_db

URL = "/admin/review/leaderboard/"


def test_staff_without_the_dashboard_permission_are_refused(client, staff, user):
    client.force_login(staff)
    assert client.get(URL).status_code == 403


def test_signed_out_visitors_go_to_the_admin_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_reviewer_ranks_every_users_choices_and_filters_by_tag_name(
    client, reviewer, user, other_user
):
    for _ in range(3):
        compare(user, ["m/strong", "m/weak"])
    tagged = compare(other_user, ["m/weak", "m/other"], chosen=1)
    Tag.objects.create(owner=other_user, name="Support", key="support").conversations.add(
        tagged.conversation
    )
    client.force_login(reviewer)
    page = client.get(URL).content.decode()
    assert "4 choices counted" in page
    assert page.index("m/strong") < page.index("m/weak")
    assert '<option value="support">Support</option>' in page
    filtered = client.get(URL, {"tag": "support"}).content.decode()
    assert "1 choice counted" in filtered and "m/strong" not in filtered.split("<table")[1]


def test_the_admin_index_and_dashboard_link_to_it(client, reviewer):
    client.force_login(reviewer)
    assert URL in client.get("/admin/").content.decode()
    assert URL in client.get("/admin/review/dashboard/").content.decode()
