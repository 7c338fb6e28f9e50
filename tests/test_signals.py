"""A sign-in that ends tells the account's open sockets, after the change is committed:
a new password, deactivation, deletion. Other saves of a user tell nobody, and a failure
to tell is logged, never a failure of the save."""

import logging
import socket

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import signals

pytestmark = pytest.mark.django_db


def told(django_capture_on_commit_callbacks, change) -> int:
    """How many announcements `change` leaves to run once its transaction commits."""
    with django_capture_on_commit_callbacks() as callbacks:
        change()
    return len(callbacks)


def test_only_what_ends_a_sign_in_is_announced(django_capture_on_commit_callbacks, user):
    def rename():
        user.first_name = "Alice"
        user.save()

    def new_password():
        user.set_password("another-pass-456")
        user.save()

    def deactivate():
        user.is_active = False
        user.save()

    def reactivate():
        user.is_active = True
        user.save()

    counted = [
        told(django_capture_on_commit_callbacks, change)
        for change in (rename, new_password, deactivate, reactivate, user.delete)
    ]
    assert counted == [0, 1, 1, 0, 1]


def test_a_sign_in_costs_no_query_to_check(user):
    with CaptureQueriesContext(connection) as queries:
        user.save(update_fields=["last_login"])
    assert len(queries) == 1  # The update itself.


def test_a_failure_to_tell_is_logged_not_raised(settings, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # Nothing listens on it once closed.
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL]},
        }
    }
    with caplog.at_level(logging.WARNING, logger="conversations.signals"):
        signals.publish(7, {"type": "session.check"})
    assert caplog.messages == ["Could not tell user 7's sockets to re-check their session"]
