"""The transcript view and what reviewers do from it: score, note, correct, work the queue.

Every view runs inside the admin (its sign-in and staff check), then checks review
rights; a conversation the reviewer may not open answers 404, exactly as a missing id.
Every showing of a transcript is audited; so is every change made from it.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .. import selectors as conversation_selectors
from ..models import Message
from ..sharing import selectors as sharing_selectors
from . import permissions, selectors, services
from .admin_pages import admin_page, reviewer_view, transcript_shown
from .admin_pages import int_or_none as _int
from .admin_pages import open_for_review as _open
from .forms import CorrectionForm, NoteForm, QueueStatusForm
from .item_views import item_page, item_url, next_item
from .models import QueueItem


@reviewer_view()
@require_GET
def transcript_view(request: HttpRequest, conversation_id: int) -> TemplateResponse:
    """A conversation as its user saw it, with everything review needs beside each reply."""
    conversation, reviewable = _open(request, conversation_id)
    # Once per page a session: a reload, or coming back after a save, shows nothing new.
    data = transcript_shown(
        request,
        conversation=conversation,
        reviewable=reviewable,
        leaf_id=_int(request.GET.get("leaf")),
        key=lambda shown: f"transcript:{conversation.pk}:{shown[:1]}:{shown[-1:]}",
    )
    user = request.user
    return admin_page(
        request,
        "admin/review/transcript.html",
        {
            "title": f"Transcript: {conversation}",
            "t": data,
            "reviewable": reviewable,
            "can_annotate": permissions.can_annotate(user),
            "can_work_queue": permissions.can_work_queue(user),
            "is_superuser": user.is_superuser,
            "statuses": QueueItem.Status,
            "shared": sharing_selectors.summary(conversation_id=conversation.pk),
        },
    )


def _back(conversation_id: int, request: HttpRequest, anchor: str = "") -> HttpResponse:
    """To the page the form was on: a queue item's page, or the transcript page, its
    branch and the message it ended at."""
    if item_id := _int(request.POST.get("item")):
        filters, came_from = request.POST.get("_changelist_filters", ""), request.POST.get("prev")
        return redirect(item_url(item_id, filters=filters, came_from=_int(came_from)))
    url = reverse("review:transcript", args=[conversation_id])
    place = {name: value for name in ("leaf", "end") if (value := _int(request.POST.get(name)))}
    if place:
        url += "?" + urlencode(place)
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _locked(request: HttpRequest, conversation) -> HttpResponse | None:
    """409 when another reviewer has an unresolved item of this conversation open: a form
    from the item page gets the page again, saying who has it; nothing is saved."""
    lock = selectors.lock_held_by_other(user=request.user, conversation=conversation)
    if lock is None:
        return None
    refusal = (
        f"{lock.holder.get_username()} has this item open (until "
        f"{timezone.localtime(lock.expires_at):%H:%M}); nothing was saved."
    )
    if item_id := _int(request.POST.get("item")):
        messages.error(request, refusal)
        return item_page(request, item_id, status=409)
    return HttpResponse(refusal, status=409, content_type="text/plain; charset=utf-8")


def _reply(conversation, request: HttpRequest, *, required: bool = True) -> Message | None:
    """The reply (assistant message) of this conversation named in the form."""
    message_id = _int(request.POST.get("message"))
    if message_id is None and not required:
        return None
    message = conversation_selectors.message_get(
        conversation=conversation, message_id=message_id, role=Message.Role.ASSISTANT
    )
    if message is None:
        raise Http404("No such reply in this conversation.")
    message.conversation = conversation
    return message


@reviewer_view(permissions.can_annotate)
@require_POST
def score(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Score a reply against one config, or clear one's score (clear=1)."""
    conversation, _ = _open(request, conversation_id)
    if refused := _locked(request, conversation):
        return refused
    message = _reply(conversation, request)
    config = selectors.score_config_active(config_id=_int(request.POST.get("config")))
    if config is None:
        raise Http404("No such score.")
    if request.POST.get("clear"):
        services.score_clear(author=request.user, message=message, config=config)
        messages.success(request, f"Cleared your {config.name} score.")
    else:
        try:
            saved = services.score_set(
                author=request.user, message=message, config=config, raw=request.POST.get("value")
            )
        except services.BadScore as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Scored {config.name}: {saved.display}.")
    return _back(conversation.pk, request, f"m{message.pk}")


@reviewer_view(permissions.can_annotate)
@require_POST
def note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """An internal note on a reply (message=id) or on the whole conversation."""
    conversation, _ = _open(request, conversation_id)
    if refused := _locked(request, conversation):
        return refused
    message = _reply(conversation, request, required=False)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(
            author=request.user,
            conversation=conversation,
            message=message,
            text=form.cleaned_data["text"],
        )
        messages.success(request, "Note saved.")
    else:
        messages.error(request, "Write the note first (at most 10,000 characters).")
    return _back(conversation.pk, request, f"m{message.pk}" if message else "notes")


@reviewer_view(permissions.can_annotate)
@require_POST
def correction(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """What the reply should have said, kept beside it."""
    conversation, _ = _open(request, conversation_id)
    if refused := _locked(request, conversation):
        return refused
    message = _reply(conversation, request)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        services.correction_add(
            author=request.user, message=message, content=form.cleaned_data["content"]
        )
        messages.success(request, "Correction saved; the reply itself is unchanged.")
    else:
        messages.error(request, " ".join(form.errors.get("content", ["Not saved."])))
    return _back(conversation.pk, request, f"m{message.pk}")


@reviewer_view(permissions.can_work_queue)
@require_POST
def queue_add(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Add the conversation, or one reply of it, to the queue by hand."""
    conversation, _ = _open(request, conversation_id)
    message = _reply(conversation, request, required=False)
    try:
        item = services.queue_add(actor=request.user, conversation=conversation, message=message)
    except services.NotQueueable as refused:
        messages.error(request, str(refused))
        return _back(conversation.pk, request, "queue")
    messages.success(request, f"Added to the review queue as item #{item.pk}.")
    return _back(conversation.pk, request, "queue")


@reviewer_view(permissions.can_work_queue)
@require_POST
def queue_update(request: HttpRequest, conversation_id: int, item_id: int) -> HttpResponse:
    """Take an item (assign=me), or move it along: in review, resolved, dismissed, reopened;
    from the item page, then=next goes on to the next open item of the reviewer's list."""
    conversation, _ = _open(request, conversation_id)
    item = selectors.queue_item_in(conversation=conversation, item_id=item_id)
    if item is None:
        raise Http404("No such queue item.")
    if refused := _locked(request, conversation):
        return refused
    if request.POST.get("assign") == "me":
        services.queue_assign(actor=request.user, items=[item], assignee=request.user)
        messages.success(request, f"Item #{item.pk} is yours.")
        return _back(conversation.pk, request, "queue")
    form = QueueStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
        return _back(conversation.pk, request, "queue")
    try:
        services.queue_set_status(
            actor=request.user,
            items=[item],
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
    except services.BadTransition as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Item #{item.pk} is now {item.get_status_display().lower()}.")
        if request.POST.get("then") == "next" and _int(request.POST.get("item")) == item.pk:
            return _onwards(request, item)
    return _back(conversation.pk, request, "queue")


def _onwards(request: HttpRequest, item: QueueItem) -> HttpResponse:
    """ "Save and next": the next open item nobody else has, else this one, saying so."""
    filters = request.POST.get("_changelist_filters", "")
    following = next_item(request, item_id=item.pk, filters=filters)
    if following is None:
        messages.info(request, "No open item is left in this list that nobody else has open.")
        return redirect(
            item_url(item.pk, filters=filters, came_from=_int(request.POST.get("prev")))
        )
    return redirect(item_url(following, filters=filters, came_from=item.pk))
