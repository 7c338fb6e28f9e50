"""Users' compare choices in the admin: read-only, for review rights, and only in the
conversations the reviewer may open (another's is left out, as a missing one)."""

import pytest

from tests.compare.builders import compare
from tests.review.builders import rate

pytestmark = pytest.mark.django_db

URL = "/admin/conversations/preference/"


def test_a_reviewer_reads_the_choices_of_conversations_they_may_open(client, reviewer, user):
    shown = compare(user, ["m/a", "m/b"], chosen=1)
    rate(shown.chosen.message, "up")  # A rated conversation is open to reviewers.
    hidden = compare(user, ["m/secret", "m/b"])  # Neither rated nor queued.
    client.force_login(reviewer)
    page = client.get(URL).content.decode()
    at = shown.chosen.message_id
    assert f"/admin/review/transcript/{shown.conversation_id}/?leaf={at}#m{at}" in page
    assert "m/b" in page and "This one is better" in page
    assert "m/secret" not in page
    assert f"/admin/review/transcript/{hidden.conversation_id}/" not in page
    # A choice opens in its transcript; one the reviewer may not open is as missing.
    response = client.get(f"{URL}{shown.pk}/change/")
    assert response.status_code == 302 and response["Location"].endswith(f"?leaf={at}#m{at}")
    missing = client.get(f"{URL}{hidden.pk}/change/")
    absent = client.get(f"{URL}999999/change/")
    assert (missing.status_code, missing["Location"]) == (absent.status_code, absent["Location"])
    # Read-only: nothing to add, change or delete.
    assert client.get(f"{URL}add/").status_code == 403
    response = client.post(f"{URL}{shown.pk}/delete/", {"post": "yes"})
    assert response.status_code in (302, 403)
    assert type(shown).objects.filter(pk=shown.pk).exists()


def test_staff_who_may_open_any_conversation_see_every_choice(client, boss, user):
    compare(user, ["m/secret", "m/b"], verdict="tie")
    client.force_login(boss)
    page = client.get(URL).content.decode()
    assert "m/secret" in page and "Tie" in page


def test_staff_without_review_rights_see_nothing(client, staff, user):
    compare(user, ["m/a", "m/b"])
    client.force_login(staff)
    assert client.get(URL).status_code == 403
