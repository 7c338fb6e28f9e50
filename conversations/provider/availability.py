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

from ..access import kinds
from ..access import policy as access_policy
from ..access import selectors as access_selectors
from ..access import services as access_services
from ..access.models import AccessRule
from ..catalog.models import ModelInfo
from ..chat.frames.process import AccessChanged, CatalogChanged
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
    access: access_policy.Snapshot = access_policy.EVERYONE

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

    def takes_images(self, model_id: str) -> bool:
        """Whether the model takes images: its catalog row says so (the provider's list at
        sync, or staff); a model with no row takes none."""
        row = self.rows.get(model_id)
        return bool(row is not None and row.supports_images)

    def allowed(self, model_id: str, user_id: int) -> bool:
        """Whether the user's groups may use the model (access rules; the catalog aside)."""
        return self.access.user(user_id).may(kinds.MODEL, model_id)

    def usable(self, model_id: str, *, user_id: int | None = None) -> bool:
        """Usable in the catalog, and, given a user, by them."""
        return self.problem(model_id) is None and (
            user_id is None or self.allowed(model_id, user_id)
        )

    def check_chosen(self, model_id: str, *, user_id: int | None = None) -> None:
        """A model a send names: `bad_request` unless usable (by this user, if given)."""
        problem = self.problem(model_id)
        said = model_id[:200]
        if problem is None:
            if user_id is None or self.allowed(model_id, user_id):
                return
            raise TurnRefused(
                "bad_request",
                f"The model {said} is kept to other groups than yours. Pick another model.",
                field="model",
                model=said,
            )
        raise TurnRefused(
            "bad_request",
            f"The model {said} is turned off here. Pick another model."
            if problem == DISABLED
            else f"There is no model {said} here. Pick another model.",
            field="model",
            model=said,
        )

    def check_inherited(self, model_id: str, *, source: str, user_id: int | None = None) -> None:
        """A model a turn takes from its conversation or persona: `model_unavailable`."""
        if self.problem(model_id) is None:
            if user_id is None or self.allowed(model_id, user_id):
                return
            raise TurnRefused(
                "model_unavailable",
                f"This {source}'s model, {model_id}, is kept to other groups than yours. "
                "Pick another model to continue.",
                field="model",
                model=model_id,
            )
        raise TurnRefused(
            "model_unavailable",
            f"This {source}'s model, {model_id}, is no longer available. "
            "Pick another model to continue.",
            field="model",
            model=model_id,
        )


def policy() -> ModelPolicy:
    """The policy as this process knows it now (may read staff's rows and the access rules:
    sync code only)."""
    return ModelPolicy(
        rows=catalog.rows(),
        listed=upstream.listed_model_ids(),
        default=settings.LLM_DEFAULT_MODEL,
        allow_any=settings.CHAT_ALLOW_ANY_MODEL,
        access=access_policy.current(),
    )


async def current() -> ModelPolicy:
    """The policy for a turn, from memory: only a process's very first turn may wait, for
    the rows, the access rules and the provider's first list (the runtime loads them all
    when it starts)."""
    rows = catalog.cached_rows()
    if rows is None:
        rows = await db(catalog.load_rows)()
    access = access_policy.cached()
    if access is None:
        access = await db(access_policy.load)()
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
        access=access,
    )


def model_names() -> list[tuple[str, str]]:
    """Every model staff may keep to groups, by id: built in, staff's rows, the provider's
    latest list and the default; with its name."""
    ids = {*catalog.BUILT_IN, *catalog.rows(), *(upstream.listed_model_ids() or ())}
    ids.add(settings.LLM_DEFAULT_MODEL)
    return [
        (model_id, catalog.model_info(model_id).display_name + f" ({model_id})")
        for model_id in sorted(ids)
    ]


def catalog_changed() -> None:
    """Staff changed the models: reload them here, and tell every other process."""
    catalog.load_rows()
    # The others still reload within catalog.ROWS_REFRESH seconds if this fails.
    tell_other_processes(CatalogChanged.build(), what="the models changed")


def access_changed() -> None:
    """Who may use what changed: reload it here, and tell every other process."""
    access_policy.load()
    # The others still reload within catalog.ROWS_REFRESH seconds if this fails.
    tell_other_processes(AccessChanged.build(), what="access rules changed")


def tell_other_processes(message: dict, *, what: str) -> None:
    """Send a process message to every server process (any thread). With one process
    (no REDIS_URL) there is nobody else to tell; a failure is logged, never raised: each
    kind of change is also read again on a timer."""
    if not settings.REDIS_URL:
        return
    from channels.layers import get_channel_layer

    try:
        async_to_sync(get_channel_layer().group_send)(PROCESSES_GROUP, message)
    except Exception:
        logger.exception("Could not tell the other processes that %s", what)


def _on_model_saved(sender, **kwargs) -> None:
    from django.db import transaction

    transaction.on_commit(catalog_changed)


def _on_access_saved(sender, **kwargs) -> None:
    """A rule or its groups changed, or a group went."""
    from django.db import transaction

    if kwargs.get("action", "post_").startswith("post_"):  # m2m: after the change only.
        transaction.on_commit(access_changed)


def _on_members_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Users joined or left groups: only groups that rules name matter."""
    if not action.startswith("post_"):
        return
    if pk_set is not None:  # (A clear names no groups: assume it matters.)
        groups = {instance.pk} if reverse else pk_set  # reverse: a group's users changed.
        if not access_selectors.groups_named(group_ids=groups):
            return
    _on_access_saved(sender)


def _on_persona_deleted(sender, instance, **kwargs) -> None:
    """A shared persona's rule goes with it."""
    if instance.owner_id is None:
        access_services.rules_forget(kind=kinds.PERSONA, names=[str(instance.pk)])


def connect_signals() -> None:
    """Reload the catalog everywhere whenever a ModelInfo row is saved or deleted; the
    access rules whenever a rule, its groups, a group's members or a group change."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from ..personas.models import Persona

    post_save.connect(_on_model_saved, sender=ModelInfo, dispatch_uid="catalog-saved")
    post_delete.connect(_on_model_saved, sender=ModelInfo, dispatch_uid="catalog-deleted")
    for signal, sender, uid in (
        (post_save, AccessRule, "access-rule-saved"),
        (post_delete, AccessRule, "access-rule-deleted"),
        (m2m_changed, AccessRule.groups.through, "access-rule-groups"),
        (post_delete, Group, "access-group-deleted"),
    ):
        signal.connect(_on_access_saved, sender=sender, dispatch_uid=uid)
    m2m_changed.connect(
        _on_members_changed, sender=get_user_model().groups.through, dispatch_uid="access-members"
    )
    post_delete.connect(_on_persona_deleted, sender=Persona, dispatch_uid="access-persona-gone")
