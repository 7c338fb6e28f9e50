"""The core's announcements: every receiver's fields for a page merged, counts asked for,
and what a receiver raises reaching the sender."""

import pytest

from conversations import hooks

# Review's receivers are connected too, and read the database.
pytestmark = pytest.mark.django_db


@pytest.fixture
def connected():
    """Connect receivers for one test (weakly held by Django: kept here)."""
    made = []

    def connect(signal, receiver):
        signal.connect(receiver, weak=False)
        made.append((signal, receiver))

    yield connect
    for signal, receiver in made:
        signal.disconnect(receiver)


def test_each_receivers_fields_for_a_page_are_merged(connected, user):
    asked = []

    def stars(sender, *, user_id, message_ids, **kwargs):
        asked.append((user_id, message_ids))
        return {"test_stars": dict.fromkeys(message_ids, 5)}

    def nothing(sender, **kwargs):
        return None  # A receiver with nothing to add.

    connected(hooks.page_extras, stars)
    connected(hooks.page_extras, nothing)
    extras = hooks.extras_for_page(user_id=user.pk, message_ids=[1, 2])
    assert extras["test_stars"] == {1: 5, 2: 5}
    assert asked == [(user.pk, [1, 2])]


def test_counts_are_asked_of_every_receiver(connected):
    calls = []
    connected(hooks.counts_due, lambda sender, **kwargs: calls.append("a"))
    connected(hooks.counts_due, lambda sender, **kwargs: calls.append("b"))
    hooks.write_counts()
    assert calls == ["a", "b"]


def test_what_a_receiver_raises_reaches_the_sender(connected, user):
    def refuse(sender, **kwargs):
        raise RuntimeError("keep it")

    connected(hooks.account_deleting, refuse)
    with pytest.raises(RuntimeError, match="keep it"):
        hooks.account_deleting.send(sender=None, user=user)
