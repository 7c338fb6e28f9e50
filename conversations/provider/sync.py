"""The provider's model list synced into the catalog staff keep (`manage.py sync_models`):
new models added (each taking images when the provider's entry says so), missing ones
marked unavailable, staff's edits kept."""

from django.db import transaction

from ..catalog.models import ModelInfo
from . import availability, catalog


def models_sync(*, provider_entries: list[dict]) -> tuple[int, int]:
    """Record the provider's chat models; return (added, now unavailable). Staff edits stay."""
    chat = {str(e["id"]): e for e in provider_entries if catalog.is_chat_model(e)}
    ids = set(chat)
    existing = set(ModelInfo.objects.values_list("model_id", flat=True))
    for model_id in sorted(ids - existing):
        entry = catalog.built_in(model_id)
        ModelInfo.objects.create(
            model_id=model_id,
            display_name=entry.display_name,
            context_window=entry.context_window,
            supports_tools=entry.supports_tools,
            supports_images=catalog.takes_images(chat[model_id]),
        )
    # A model the provider now says takes images is marked so; one staff marked stays
    # marked (the flag is only ever turned off by staff, in the admin).
    newly_visual = [m for m in ids & existing if catalog.takes_images(chat[m])]
    if newly_visual:
        ModelInfo.objects.filter(model_id__in=newly_visual).update(supports_images=True)
    ModelInfo.objects.filter(model_id__in=ids).update(available=True)
    gone = ModelInfo.objects.exclude(model_id__in=ids).update(available=False)
    # Updates send no signals: every process reloads the catalog once this commits.
    transaction.on_commit(availability.catalog_changed)
    return len(ids - existing), gone
