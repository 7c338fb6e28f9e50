"""The review tests' accounts: a reviewer, staff without review's rights, a superuser."""

import pytest
from django.contrib.auth.models import Group, Permission


@pytest.fixture(name="reviewer")
def reviewer_fixture(django_user_model):
    user = django_user_model.objects.create_user(
        username="rita", password="pw-rita-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


@pytest.fixture(name="staff")
def staff_fixture(django_user_model):
    """Staff without the Reviewers group (say, someone who manages personas)."""
    user = django_user_model.objects.create_user(
        username="sam", password="pw-sam-123", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="conversations",
            codename__in=["view_conversation", "change_persona", "view_persona"],
        )
    )
    return user


@pytest.fixture(name="boss")
def boss_fixture(django_user_model):
    return django_user_model.objects.create_superuser(username="boss", password="pw-boss-123")
