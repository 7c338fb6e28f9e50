"""Which models a turn may use: the catalog, enforced by the server.

A model is usable unless staff turned it off (a ModelInfo row with `enabled` off) and if
it is known: the default model, or one on the provider's latest /models list; while this
process has no list from the provider (it failed), a built-in model or one sync_models
saw listed. CHAT_ALLOW_ANY_MODEL lets any model id through that staff did not turn off.

A send that names a model not usable is refused as `bad_request`; a turn whose model comes
from its conversation or persona (an imported chat, an old persona) is refused as
`model_unavailable`, so the page can ask for another model next to its picker.

Everything here reads memory: staff's rows (catalog.rows) and the provider's list
(upstream.listed_model_ids). When staff change a model in the admin, every process reloads
the rows: the change is announced to the group all processes' control channels join.
"""

import asyncio
import logging
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async as db
from django.conf import settings

from ..catalog.models import ModelInfo
from ..chat.frames.process import CatalogChanged
from ..errors import TurnRefused
from . import catalog, upstream

logger = logging.getLogger(__name__)

PROCESSES_GROUP = "chat.processes"  # Every server process's control channel joins it.
FIRST_LIST_TIMEOUT = 5.0  # A first /models request on a turn's path waits no longer.

DISABLED, UNKNOWN = "disabled", "unknown"


@dataclass(frozen=True)
class ModelPolicy:
    """What this process knows of the catalog at one moment; safe to use on any thread."""

    rows: dict[str, ModelInfo]
    listed: frozenset[str] | None
    default: str
    allow_any: bool

    def problem(self, model_id: str) -> str | None:
        """None when the model is usable, else DISABLED or UNKNOWN."""
        row = self.rows.get(model_id)
        if row is not None and not row.enabled:
            return DISABLED
        if self.allow_any or model_id == self.default:
            return None
        if self.listed is not None:
            return None if model_id in self.listed else UNKNOWN
        known = (row is not None and row.available) or model_id in catalog.BUILT_IN
        return None if known else UNKNOWN

    def usable(self, model_id: str) -> bool:
        return self.problem(model_id) is None

    def check_chosen(self, model_id: str) -> None:
        """A model a send names: `bad_request` unless usable."""
        problem = self.problem(model_id)
        if problem is None:
            return
        said = model_id[:200]
        raise TurnRefused(
            "bad_request",
            f"The model {said} is turned off here. Pick another model."
            if problem == DISABLED
            else f"There is no model {said} here. Pick another model.",
            field="model",
            model=said,
        )

    def check_inherited(self, model_id: str, *, source: str) -> None:
        """A model a turn takes from its conversation or persona: `model_unavailable`."""
        if self.problem(model_id) is None:
            return
        raise TurnRefused(
            "model_unavailable",
            f"This {source}'s model, {model_id}, is no longer available. "
            "Pick another model to continue.",
            field="model",
            model=model_id,
        )


def policy() -> ModelPolicy:
    """The policy as this process knows it now (may read staff's rows: sync code only)."""
    return ModelPolicy(
        rows=catalog.rows(),
        listed=upstream.listed_model_ids(),
        default=settings.LLM_DEFAULT_MODEL,
        allow_any=settings.CHAT_ALLOW_ANY_MODEL,
    )


async def current() -> ModelPolicy:
    """The policy for a turn, from memory: only a process's very first turn may wait, for
    the rows and for the provider's first list (the runtime loads both when it starts)."""
    rows = catalog.cached_rows()
    if rows is None:
        rows = await db(catalog.load_rows)()
    if upstream.listed_model_ids() is None and upstream.models_stale():
        try:
            await asyncio.wait_for(upstream.provider_model_ids(), FIRST_LIST_TIMEOUT)
        except TimeoutError:
            pass  # Decided without the list: built-in and synced models count as known.
    return ModelPolicy(
        rows=rows,
        listed=upstream.listed_model_ids(),
        default=settings.LLM_DEFAULT_MODEL,
        allow_any=settings.CHAT_ALLOW_ANY_MODEL,
    )


def catalog_changed() -> None:
    """Staff changed the models: reload them here, and tell every other process."""
    catalog.load_rows()
    if not settings.REDIS_URL:
        return  # One process: nobody else to tell.
    from channels.layers import get_channel_layer

    try:
        async_to_sync(get_channel_layer().group_send)(PROCESSES_GROUP, CatalogChanged.build())
    except Exception:
        # The others still reload within catalog.ROWS_REFRESH seconds.
        logger.exception("Could not tell the other processes that the models changed")


def _on_model_saved(sender, **kwargs) -> None:
    from django.db import transaction

    transaction.on_commit(catalog_changed)


def connect_signals() -> None:
    """Reload the catalog everywhere whenever a ModelInfo row is saved or deleted."""
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_on_model_saved, sender=ModelInfo, dispatch_uid="catalog-saved")
    post_delete.connect(_on_model_saved, sender=ModelInfo, dispatch_uid="catalog-deleted")
