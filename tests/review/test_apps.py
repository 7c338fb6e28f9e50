"""The review app as Django loads it: its own label (its tables and rights are `review_…`),
and its receivers connected to the core's hooks when it is ready."""

import pytest
from django.apps import apps

from conversations import hooks
from conversations.review import receivers
from conversations.review.apps import ReviewConfig


def test_the_app_has_its_own_label():
    config = apps.get_app_config("review")
    assert isinstance(config, ReviewConfig)
    assert (config.name, config.label, config.verbose_name) == (
        "conversations.review",
        "review",
        "Review",
    )


@pytest.mark.django_db
def test_ready_connected_its_receivers(user):
    answered = hooks.counts_due.send(sender=None)
    assert receivers.on_counts_due in [receiver for receiver, _ in answered]
    answered = hooks.page_extras.send(sender=None, user_id=user.pk, message_ids=[])
    assert (receivers.on_page_extras, {"feedback": {}}) in answered
