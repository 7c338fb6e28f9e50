"""Projects' reads: only the owner's, and the sidebar's counts from one aggregate query."""

import pytest

from conversations.models import Conversation
from conversations.projects import selectors
from conversations.projects.models import Project

pytestmark = pytest.mark.django_db


def test_another_users_project_is_not_found(user, other_user):
    theirs = Project.objects.create(owner=other_user, name="Theirs")
    assert selectors.project_get(user=user, project_id=theirs.pk) is None
    assert selectors.project_get(user=other_user, project_id=theirs.pk) == theirs
    assert list(selectors.project_list(user=user)) == []


def test_the_sidebar_counts_unarchived_conversations_in_two_queries(
    user, other_user, django_assert_num_queries
):
    projects = [Project.objects.create(owner=user, name=f"P{i}") for i in range(5)]
    for i, project in enumerate(projects):
        for _ in range(i):
            Conversation.objects.create(owner=user, project=project)
    Conversation.objects.create(owner=user, project=projects[1], archived=True)
    Conversation.objects.create(owner=user)  # In no project.
    theirs = Project.objects.create(owner=other_user, name="Theirs")
    Conversation.objects.create(owner=other_user, project=theirs)
    with django_assert_num_queries(2):
        sidebar = selectors.project_sidebar(user=user)
    assert sidebar == [{"id": p.pk, "name": p.name, "count": i} for i, p in enumerate(projects)]
