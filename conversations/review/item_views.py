"""The queue item page: one item, its conversation and every review control, worked
without full page loads.

htmx (vendored; loaded on this page only) swaps the item's part of the page: each form
posts to the transcript's own endpoints, which answer a form sent from here with this
page again, and links to the next and previous items load them the same way, pushing
their address, so reload and the back button land where the reviewer is. Without
JavaScript the same forms and links work with full loads.

Opening an item locks it to the reviewer (services/locks.py) and audits the opening once
per session; another reviewer sees who has it, with the controls disabled, and the
endpoints refuse their writes with 409.
"""

import copy
from urllib.parse import urlencode, urlsplit

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import admin_pages, permissions, selectors, services
from .models import QueueItem

# How far along the filtered queue "next" looks: the queue's first this many items.
WALK_LIMIT = 1000

SHORTCUTS = [
    ("1 to 9", "Score the reply: the first number or category score"),
    ("y / n", "Answer the first yes/no score: yes / no"),
    ("r", "Resolve (with the note) and go to the next open item"),
    ("d", "Dismiss (with the note) and go to the next open item"),
    ("j", "Next item"),
    ("k or p", "Previous item"),
    ("e", "Write a note on the reply"),
    ("?", "This list"),
    ("Ctrl/⌘ + Enter", "In a field: save its form"),
]


def item_url(item_id: int, *, filters: str = "", came_from: int | None = None) -> str:
    """The item's page, keeping the queue's filters (as the admin keeps them)."""
    query = {"_changelist_filters": filters} if filters else {}
    if came_from:
        query["prev"] = came_from
    url = reverse("review:queue-item", args=[item_id])
    return f"{url}?{urlencode(query)}" if query else url


def _queue_ids(request: HttpRequest, filters: str) -> list[int]:
    """The queue's items in the order and with the filters the reviewer's list has."""
    queue_admin = admin.site._registry[QueueItem]
    listing = copy.copy(request)
    listing.method, listing.GET = "GET", QueryDict(filters)
    try:
        queryset = queue_admin.get_changelist_instance(listing).queryset
    except (IncorrectLookupParameters, SuspiciousOperation, ValueError):  # Edited by hand.
        queryset = queue_admin.get_queryset(request)
    return list(queryset.values_list("pk", flat=True)[:WALK_LIMIT])


def _walk(
    request: HttpRequest, *, ids: list[int], item_id: int, unresolved_only: bool
) -> int | None:
    skip = selectors.items_locked_by_others(user=request.user, item_ids=ids)
    return selectors.queue_walk(
        ordered_ids=ids, current_id=item_id, unresolved_only=unresolved_only, skip=skip
    )


def next_item(request: HttpRequest, *, item_id: int, filters: str) -> int | None:
    """The next unresolved item of the reviewer's list after this one that nobody else
    has open ("save and next")."""
    ids = _queue_ids(request, filters)
    return _walk(request, ids=ids, item_id=item_id, unresolved_only=True)


def _item(request: HttpRequest, item_id: int):
    item = selectors.queue_item_get(item_id=item_id)
    if item is None:
        raise Http404("No such queue item.")
    conversation, reviewable = admin_pages.open_for_review(request, item.conversation_id)
    return item, conversation, reviewable


def item_page(request: HttpRequest, item_id: int, *, status: int = 200) -> TemplateResponse:
    """The page (also the answer to a form sent from it), taking the item's lock."""
    item, conversation, reviewable = _item(request, item_id)
    holds, lock = services.lock_take(item=item, user=request.user)
    leaf = admin_pages.int_or_none(request.GET.get("leaf")) or item.message_id
    data = admin_pages.transcript_shown(
        request,
        conversation=conversation,
        reviewable=reviewable,
        leaf_id=leaf,
        key=lambda _shown: f"item:{item.pk}",
        queue_item_id=item.pk,
    )
    filters = request.GET.get("_changelist_filters", "")
    replies = [e.message.pk for e in data.entries if e.is_reply]
    target = item.message_id if item.message_id in replies else (replies[-1] if replies else None)
    ids = _queue_ids(request, filters)
    following = _walk(request, ids=ids, item_id=item.pk, unresolved_only=False)
    # Back to the item this one was reached from, else the one before it in the list.
    came_from = admin_pages.int_or_none(request.GET.get("prev"))
    previous = came_from or (
        _walk(request, ids=ids[::-1], item_id=item.pk, unresolved_only=False)
        if item.pk in ids
        else None
    )
    user = request.user
    response = admin_pages.admin_page(
        request,
        "admin/review/item.html",
        {
            "title": f"Queue item #{item.pk}: {conversation}",
            "item": item,
            "item_page": True,
            "is_nav_sidebar_enabled": False,  # The page is the work; the queue is a key away.
            "t": data,
            "reviewable": reviewable,
            "held_by": None if holds else lock,
            "lock": lock,
            "can_annotate": permissions.can_annotate(user),
            "can_work_queue": permissions.can_work_queue(user),
            "target_id": target,
            "came_from": came_from,
            "filters": filters,
            "queue_url": reverse("admin:review_queueitem_changelist")
            + (f"?{filters}" if filters else ""),
            "next_url": item_url(following, filters=filters, came_from=item.pk)
            if following
            else "",
            "previous_url": item_url(previous, filters=filters) if previous else "",
            "shortcuts": SHORTCUTS,
            "statuses": QueueItem.Status,
        },
    )
    response.status_code = status
    _history(request, response, status)
    return response


def _history(request: HttpRequest, response: HttpResponse, status: int) -> None:
    """What htmx does to the address bar: a form saved in place replaces the entry (no
    duplicate to step back through); a refused write leaves it; a move pushes."""
    if not request.headers.get("HX-Request"):
        return
    if status != 200:
        response["HX-Push-Url"] = "false"
    elif urlsplit(request.headers.get("HX-Current-URL", "")).path == request.path:
        response["HX-Replace-Url"] = request.get_full_path()


@admin_pages.reviewer_view()
@require_GET
def item_view(request: HttpRequest, item_id: int) -> TemplateResponse:
    return item_page(request, item_id)


@admin_pages.reviewer_view()
@require_POST
def item_lock(request: HttpRequest, item_id: int) -> HttpResponse:
    """The open page's poll: renew the lock (or take it, once free). When that changes
    whether this reviewer holds it, the whole item is sent again, its controls with it."""
    item, _, _ = _item(request, item_id)
    holds, lock = services.lock_take(item=item, user=request.user)
    if holds != (request.POST.get("held") == "1"):
        response = item_page(request, item_id)
        response["HX-Retarget"], response["HX-Reselect"] = "#rv-item", "#rv-item"
        response["HX-Reswap"] = "outerHTML"
        response["HX-Push-Url"] = "false"
        return response
    return TemplateResponse(
        request,
        "admin/review/item_lock.html",
        {"item": item, "lock": lock, "held_by": None if holds else lock},
    )


@admin_pages.reviewer_view()
@require_POST
def item_close(request: HttpRequest, item_id: int) -> HttpResponse:
    """Leave the item for the queue: its lock is freed for the next reviewer."""
    services.lock_release(user=request.user, item_id=item_id)
    filters = request.POST.get("_changelist_filters", "")
    url = reverse("admin:review_queueitem_changelist")
    return redirect(f"{url}?{filters}" if filters else url)
