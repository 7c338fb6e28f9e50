"""The persona pages: a user changes only their own personas; shared ones are copied, never
edited; changes are posted, never made by following a link."""

import pytest

from conversations.personas.models import Persona
from conversations.provider import catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared():
    return Persona.objects.create(name="Shared tutor", owner=None, system_prompt="Teach.")


def test_a_shared_persona_is_copied_not_changed(client, user, shared):
    client.force_login(user)
    for url in (f"/personas/{shared.pk}/edit/", f"/personas/{shared.pk}/delete/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Mine now"}).status_code == 404
    shared.refresh_from_db()
    assert shared.name == "Shared tutor" and shared.owner is None
    copy_page = client.post(f"/personas/{shared.pk}/duplicate/", follow=True)
    copy = Persona.objects.get(owner=user)
    assert copy.system_prompt == "Teach." and copy_page.status_code == 200


def test_duplicating_and_deleting_need_a_post(client, user, shared):
    mine = Persona.objects.create(name="Mine", owner=user)
    client.force_login(user)
    assert client.get(f"/personas/{shared.pk}/duplicate/").status_code == 405
    assert client.get(f"/personas/{mine.pk}/delete/").status_code == 200  # Asks first.
    assert Persona.objects.filter(owner=user).count() == 1


def test_the_form_offers_the_catalogs_models(client, user):
    client.force_login(user)
    page = client.get("/personas/new/").content.decode()
    assert '<datalist id="model-options">' in page
    for entry in catalog.BUILT_IN.values():
        assert f'value="{entry.model_id}"' in page
