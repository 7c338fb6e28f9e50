"""The review tags: the privacy notice on the settings pages, and the queue's box on the
admin's index for those who may review."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from conversations.review.models import DatasetOptOut
from conversations.review.templatetags import review_tags
from tests.review.builders import chat, rate

pytestmark = pytest.mark.django_db


def context(user) -> Context:
    request = RequestFactory().get("/")
    request.user = user
    return Context({"request": request})


def test_the_privacy_notice_says_what_staff_can_read(user):
    assert review_tags.privacy_notice(context(user))["opted_out"] is False
    rated = chat(user, title="Rated")
    rate(rated.current_leaf, "down")
    DatasetOptOut.objects.create(user=user)
    notice = review_tags.privacy_notice(context(user))
    assert notice["opted_out"] is True
    assert rated in list(notice["readable"])
    html = Template("{% load review_tags %}{% privacy_notice %}").render(context(user))
    assert "Rated" in html


def test_the_queue_box_shows_only_to_those_who_may_review(user, reviewer, boss):
    rate(chat(user).current_leaf, "down")
    assert review_tags.review_panel(context(user)) == {"show": False}
    box = review_tags.review_panel(context(reviewer))
    assert box["show"] is True and box["counts"]
    assert box["audit"] is False and review_tags.review_panel(context(boss))["audit"] is True
