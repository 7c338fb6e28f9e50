"""What review pages share: an opening audited once a session, ids read leniently."""

from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from conversations.review import admin_pages


def test_an_opening_counts_once_a_session_and_the_oldest_are_forgotten(settings):
    request = RequestFactory().get("/")
    request.session = SessionStore()
    assert admin_pages.audit_once(request, key="item:1") is True
    assert admin_pages.audit_once(request, key="item:1") is False
    for n in range(admin_pages.SEEN_LIMIT):
        admin_pages.audit_once(request, key=f"item:{n + 2}")
    assert len(request.session["review_opened"]) == admin_pages.SEEN_LIMIT
    assert admin_pages.audit_once(request, key="item:1") is True  # Forgotten: audited again.


def test_an_id_from_a_request_is_an_int_or_none():
    assert admin_pages.int_or_none("12") == 12
    assert admin_pages.int_or_none("x") is None
    assert admin_pages.int_or_none(None) is None
