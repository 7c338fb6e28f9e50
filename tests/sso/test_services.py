"""Writes of single sign-on: mapped groups and staff status from the groups claim, the
sessions the provider signs in, and ending them when the provider logs them out."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from django.utils import timezone

from conversations import hooks
from conversations.accounts.sessions import SessionStore
from conversations.sso import services
from conversations.sso.models import SsoSession

pytestmark = pytest.mark.django_db

ISSUER = "https://idp.example"


@pytest.fixture
def mapped(settings):
    settings.OIDC_GROUP_MAP = (
        "chat-reviewers=Reviewers,chat-writers=Writers,chat-writers=Editors,chat-admins=Admins"
    )
    settings.OIDC_STAFF_GROUPS = ["chat-staff"]
    settings.OIDC_GROUPS_CLAIM = "groups"


def group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_mapped_groups_follow_the_claim_at_every_sign_in(user, mapped):
    services.groups_apply(user=user, claims={"groups": ["chat-writers", "not-mapped"]})
    assert group_names(user) == {"Writers", "Editors"}  # One value may give several groups.
    # Made as they are first needed, and only then.
    assert Group.objects.filter(name__in=["Writers", "Editors"]).count() == 2
    assert not Group.objects.filter(name="Admins").exists()
    # Staff gave a group by hand, outside the map: it stays whatever the claim says.
    user.groups.add(Group.objects.create(name="Beta testers"))
    services.groups_apply(user=user, claims={"groups": "chat-reviewers"})
    assert group_names(user) == {"Reviewers", "Beta testers"}
    services.groups_apply(user=user, claims={})  # No claim: no mapped group.
    assert group_names(user) == {"Beta testers"}
    assert Group.objects.filter(name="Writers").exists()  # Left, not deleted.


def test_one_users_claim_changes_no_one_elses_groups(user, other_user, mapped):
    services.groups_apply(user=other_user, claims={"groups": ["chat-writers"]})
    services.groups_apply(user=user, claims={"groups": ["chat-reviewers"]})
    services.groups_apply(user=user, claims={"groups": []})
    assert group_names(other_user) == {"Writers", "Editors"}
    assert group_names(user) == set()


def test_staff_status_follows_the_staff_values_of_the_claim(user, mapped):
    services.groups_apply(user=user, claims={"groups": ["chat-staff"]})
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    services.groups_apply(user=user, claims={"groups": ["chat-reviewers"]})
    user.refresh_from_db()
    assert not user.is_staff


def test_without_staff_values_staff_status_is_left_as_it_is(user, staff, settings, mapped):
    settings.OIDC_STAFF_GROUPS = []
    services.groups_apply(user=staff, claims={"groups": []})
    services.groups_apply(user=user, claims={"groups": ["chat-staff"]})
    staff.refresh_from_db()
    user.refresh_from_db()
    assert staff.is_staff and not user.is_staff


def test_no_claim_makes_or_unmakes_a_superuser(user, boss, settings, mapped):
    settings.OIDC_GROUP_MAP = "chat-admins=admin,chat-admins=superuser"
    settings.OIDC_STAFF_GROUPS = ["chat-staff", "chat-admins"]
    claims = {"groups": ["chat-admins", "superuser", "admin"], "is_superuser": True}
    services.groups_apply(user=user, claims=claims)
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    # A superuser whom the provider no longer calls staff stays staff and superuser.
    services.groups_apply(user=boss, claims={"groups": []})
    boss.refresh_from_db()
    assert boss.is_superuser and boss.is_staff


def request_with_session():
    request = RequestFactory().get("/")
    request.session = SessionStore()
    return request


def test_a_session_the_provider_signs_in_ends_at_its_maximum_age(user, settings):
    settings.OIDC_SESSION_SECONDS = 600
    request = request_with_session()
    before = timezone.now()
    services.session_begin(
        request=request, user=user, issuer=ISSUER, sid="sid-1", id_token="header.body.sig"
    )
    key = request.session.session_key
    assert key and Session.objects.filter(session_key=key).exists()
    row = SsoSession.objects.get()
    assert (row.session_key, row.user_id, row.issuer, row.sid) == (key, user.pk, ISSUER, "sid-1")
    assert before + timedelta(seconds=600) <= row.expires_at
    assert row.expires_at <= timezone.now() + timedelta(seconds=600)
    # The session's own expiry is that moment, not renewed by use.
    assert abs((request.session.get_expiry_date() - row.expires_at).total_seconds()) < 1
    assert SessionStore(key).load()["sso"] == {"id_token": "header.body.sig", "issuer": ISSUER}
    # Beginning it again (a second sign-in on the same session) updates its one row.
    services.session_begin(request=request, user=user, issuer=ISSUER, sid="sid-2", id_token="t")
    assert list(SsoSession.objects.values_list("session_key", "sid")) == [(key, "sid-2")]


def test_rows_of_sessions_that_ended_on_their_own_go_as_new_ones_come(user, other_user):
    long_ago = timezone.now() - timedelta(days=1)
    later = timezone.now() + timedelta(hours=1)
    SsoSession.objects.create(session_key="old", user=user, issuer=ISSUER, expires_at=long_ago)
    SsoSession.objects.create(session_key="live", user=user, issuer=ISSUER, expires_at=later)
    SsoSession.objects.create(
        session_key="theirs", user=other_user, issuer=ISSUER, expires_at=long_ago
    )
    request = request_with_session()
    services.session_begin(request=request, user=user, issuer=ISSUER, sid="s", id_token="t")
    assert set(SsoSession.objects.values_list("session_key", flat=True)) == {
        "live",
        "theirs",
        request.session.session_key,
    }


def test_forgetting_a_session_takes_its_row_only(user):
    later = timezone.now() + timedelta(hours=1)
    for key in ("a", "b"):
        SsoSession.objects.create(session_key=key, user=user, issuer=ISSUER, expires_at=later)
    services.session_forget(session_key="a")
    services.session_forget(session_key=None)
    services.session_forget(session_key="")
    assert list(SsoSession.objects.values_list("session_key", flat=True)) == ["b"]


def test_an_accounts_rows_go_with_it(user, other_user):
    later = timezone.now() + timedelta(hours=1)
    row = SsoSession.objects.create(session_key="a", user=user, issuer=ISSUER, expires_at=later)
    SsoSession.objects.create(session_key="b", user=other_user, issuer=ISSUER, expires_at=later)
    assert str(row) == f"Single sign-on session of user {user.pk}"
    user.delete()
    assert list(SsoSession.objects.values_list("session_key", flat=True)) == ["b"]


def sso_signed_in(user, *, issuer: str = ISSUER, sid: str = "") -> Client:
    """A browser signed in as `user`, its session recorded as the provider's."""
    client = Client()
    client.force_login(user)
    SsoSession.objects.create(
        session_key=client.session.session_key,
        user=user,
        issuer=issuer,
        sid=sid,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return client


def signed_in(client: Client) -> bool:
    return client.get("/settings/").status_code == 200


@pytest.fixture
def announced():
    """What hooks.sessions_ended said: (user_id, session_keys) each time."""
    said = []

    def receiver(sender, user_id, session_keys=None, **kwargs):
        said.append((user_id, sorted(session_keys)))

    hooks.sessions_ended.connect(receiver)
    yield said
    hooks.sessions_ended.disconnect(receiver)


def test_the_providers_logout_of_a_sid_ends_that_session_only(
    user, other_user, announced, django_capture_on_commit_callbacks
):
    named = sso_signed_in(user, sid="s1")
    same_user_other_sid = sso_signed_in(user, sid="s2")
    other_issuer = sso_signed_in(user, issuer="https://other.example", sid="s1")
    local = Client()
    local.force_login(user)
    named_key = named.session.session_key
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.sessions_end(issuer=ISSUER, sid="s1") == 1
        assert announced == []  # Only once it has committed.
    assert len(callbacks) == 1 and announced == []
    callbacks[0]()
    assert announced == [(user.pk, [named_key])]
    assert not signed_in(named)
    assert not Session.objects.filter(session_key=named_key).exists()
    assert not SsoSession.objects.filter(session_key=named_key).exists()
    assert signed_in(same_user_other_sid) and signed_in(other_issuer) and signed_in(local)
    assert SsoSession.objects.count() == 2


def test_the_providers_logout_of_users_ends_all_their_sessions_from_it(
    user, other_user, announced, django_capture_on_commit_callbacks
):
    first, second = sso_signed_in(user, sid="s1"), sso_signed_in(user, sid="s2")
    theirs = sso_signed_in(other_user, sid="s3")
    keys = sorted([first.session.session_key, second.session.session_key])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sessions_end(issuer=ISSUER, user_ids=[user.pk]) == 2
    assert announced == [(user.pk, keys)]
    assert not signed_in(first) and not signed_in(second)
    assert signed_in(theirs)


def test_a_sid_and_users_together_end_only_sessions_matching_both(user, other_user):
    mine, theirs = sso_signed_in(user, sid="shared"), sso_signed_in(other_user, sid="shared")
    assert services.sessions_end(issuer=ISSUER, sid="shared", user_ids=[other_user.pk]) == 1
    assert signed_in(mine) and not signed_in(theirs)


def test_a_logout_naming_nothing_ends_nothing(user, announced, django_capture_on_commit_callbacks):
    client = sso_signed_in(user, sid="")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sessions_end(issuer=ISSUER) == 0
        assert services.sessions_end(issuer=ISSUER, sid="") == 0
        assert services.sessions_end(issuer=ISSUER, user_ids=[]) == 0  # A sub of no account.
    assert signed_in(client) and SsoSession.objects.count() == 1
    assert announced == []
