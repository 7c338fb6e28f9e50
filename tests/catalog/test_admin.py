"""The models page of the admin: staff search the catalog and turn models off, rename them
or set their context window from the list itself."""

import pytest

from conversations.catalog.models import ModelInfo

pytestmark = pytest.mark.django_db
URL = "/admin/conversations/modelinfo/"


@pytest.fixture
def rows():
    ModelInfo.objects.all().delete()
    return [
        ModelInfo.objects.create(model_id="org/alpha", display_name="Alpha"),
        ModelInfo.objects.create(model_id="org/beta", display_name="Beta", supports_tools=True),
    ]


def test_search_by_id_or_name(admin_client, rows):
    page = admin_client.get(URL, {"q": "beta"}).content.decode()
    assert "org/beta" in page and "org/alpha" not in page
    assert "1 result" in page


def test_models_are_changed_from_the_list(admin_client, rows):
    form = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "_save": "Save",
    }
    for i, row in enumerate(rows):  # The list is ordered by display name: Alpha, Beta.
        form |= {
            f"form-{i}-id": str(row.pk),
            f"form-{i}-display_name": row.display_name,
            f"form-{i}-context_window": str(row.context_window),
        }
        if row.supports_tools:
            form[f"form-{i}-supports_tools"] = "on"
        form[f"form-{i}-enabled"] = "on"
    form |= {"form-0-display_name": "Alpha 2", "form-0-context_window": "8192"}
    del form["form-1-enabled"]  # Beta turned off.
    response = admin_client.post(URL, form)
    assert response.status_code == 302
    alpha, beta = (ModelInfo.objects.get(pk=row.pk) for row in rows)
    assert (alpha.display_name, alpha.context_window, alpha.enabled) == ("Alpha 2", 8192, True)
    assert (beta.enabled, beta.supports_tools) == (False, True)
