"""Staff can look projects up in the admin."""

import pytest

from conversations.projects.models import Project

pytestmark = pytest.mark.django_db


def test_the_admin_lists_projects(admin_client, user):
    Project.objects.create(owner=user, name="Garden")
    page = admin_client.get("/admin/conversations/project/")
    assert page.status_code == 200 and b"Garden" in page.content
