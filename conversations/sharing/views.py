"""Share links over HTTP: the owner's JSON endpoints (make, revoke), the shared page and
its files, and "Continue in my account".

Everything under /s/<token> answers an unknown, revoked or expired token, and a link for
signed-in users seen signed out, with the same 404 page: a token reveals nothing of why it
does not open. Those pages are limited per client address (not per user: most viewers are
not signed in), are never cached, indexed or sent on as a referrer, and have a policy of
their own that allows no script at all.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors as conversation_selectors
from ..accounts.signup import signup_key
from ..files.models import Attachment
from ..limits import rate_limits
from ..limits.http import rate_limit, too_many
from ..limits.rate_limits import BULK, WRITES
from ..models import Message
from ..rendering.markdown import sanitize
from ..web.file_views import attachment_response
from . import selectors, services
from .models import ShareLink

MAX_BODY_BYTES = 2_000

# No script at all, styles and images from this site only, forms back to it, no frames.
SHARED_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def _guarded(response: HttpResponse, *, csp: str = SHARED_CSP) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Security-Policy"] = csp
    return response


def _missing(request: HttpRequest) -> HttpResponse:
    """The one answer for a link that does not open, whatever the reason."""
    return _guarded(render(request, "sharing/missing.html", status=404))


def per_address(view: Callable) -> Callable:
    """Limit a view per client address (CHAT_SHARE_VIEWS_PER_MINUTE)."""

    @wraps(view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wait = rate_limits.hit(rate_limits.SHARED_PAGES, signup_key(request))
        if wait is not None:
            return _guarded(too_many(request, rate_limits.SHARED_PAGES, wait, json=False))
        return view(request, *args, **kwargs)

    return limited


# The owner's endpoints.


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _link_data(link: ShareLink) -> dict:
    return {
        "id": link.pk,
        "conversation": link.conversation_id,
        "title": link.title,
        "audience": link.audience,
        "include_instructions": link.include_instructions,
        "created_at": link.created_at.isoformat(),
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
    }


@require_POST
@rate_limit(WRITES, json=True)
def share_create(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """POST /api/conversations/<id>/shares {audience, include_instructions, expires_in_days}
    -> 201 with the link's `url` (its token, shown this once); 404 for a conversation that
    is not the user's."""
    if not request.user.is_authenticated:
        return _error("Sign in first.", 401)
    conversation = conversation_selectors.conversation_get(
        user=request.user, conversation_id=conversation_id
    )
    if conversation is None:
        return _error("That conversation does not exist.", 404)
    if len(request.body) > MAX_BODY_BYTES:
        return _error("That request is too large.", 413)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _error("Send a JSON object.")
    days = body.get("expires_in_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
        return _error("Choose when the link expires.")
    try:
        made = services.link_create(
            owner=request.user,
            conversation=conversation,
            audience=str(body.get("audience", ""))[:20],
            include_instructions=body.get("include_instructions") is True,
            expires_in_days=days,
            request=request,
        )
    except services.ShareRefused as refused:
        return _error(refused.message, refused.status)
    url = request.build_absolute_uri(reverse("shared-page", args=[made.token]))
    return JsonResponse(_link_data(made.link) | {"url": url}, status=201)


@require_http_methods(["POST", "DELETE"])
@rate_limit(WRITES, json=True)
def share_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    """POST /api/shares/<id>/revoke (or DELETE /api/shares/<id>): the link stops opening at
    once. JSON for scripts; Settings' form gets the page back."""
    wants_json = request.method == "DELETE" or "application/json" in request.headers.get(
        "Accept", ""
    )
    if not request.user.is_authenticated:
        return _error("Sign in first.", 401)
    link = services.link_revoke(owner=request.user, link_id=link_id, request=request)
    if link is None:
        if wants_json:
            return _error("That link does not exist.", 404)
        raise Http404("No such link.")
    if wants_json:
        return JsonResponse(_link_data(link))
    messages.success(request, f"The link to “{link.title or 'Untitled'}” was revoked.")
    return redirect(f"{reverse('settings')}#share-links")


# The shared page and its files.


@require_GET
@per_address
def shared_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET /s/<token>: the snapshot, read-only."""
    link = selectors.link_visible(token=token, user=request.user)
    if link is None:
        return _missing(request)
    shown = [_shown(item) for item in link.snapshot.get("messages", [])]
    context = {
        "link": link,
        "token": token,
        "items": shown,
        "instructions": link.snapshot.get("instructions"),
    }
    return _guarded(render(request, "sharing/shared.html", context))


def _shown(item: dict) -> dict:
    """A snapshot message as the page shows it: the reply's stored HTML through the chat
    page's own allow-list once more (what was stored is never trusted as it is)."""
    shown = dict(item)
    if item.get("role") == Message.Role.ASSISTANT:
        shown["html"] = sanitize(item.get("html") or "")
    return shown


@require_GET
@per_address
def shared_file(request: HttpRequest, token: str, attachment_id: str) -> HttpResponse:
    """GET /s/<token>/files/<id>: a file of the snapshot, as a download."""
    return _serve(request, token, attachment_id, inline=False)


@require_GET
@per_address
def shared_file_view(request: HttpRequest, token: str, attachment_id: str) -> HttpResponse:
    """GET /s/<token>/files/<id>/view: an image of the snapshot, inline."""
    return _serve(request, token, attachment_id, inline=True)


def _serve(request: HttpRequest, token: str, attachment_id: str, *, inline: bool) -> HttpResponse:
    link = selectors.link_visible(token=token, user=request.user)
    attachment = (
        selectors.shared_file(link=link, attachment_id=attachment_id[:64]) if link else None
    )
    if attachment is None or (inline and attachment.kind != Attachment.Kind.IMAGE):
        return _missing(request)
    # Served as the owner's own downloads are; this page's headers on top.
    response = attachment_response(attachment, inline=inline)
    if response is None:
        return _missing(request)
    return _guarded(response, csp="sandbox")


@require_http_methods(["GET", "POST"])
@per_address
@rate_limit(None, unsafe=BULK)  # Asking is free; each copy is bulk work, as an import is.
def shared_continue(request: HttpRequest, token: str) -> HttpResponse:
    """GET /s/<token>/continue asks; POST copies the snapshot into a new conversation of
    the viewer's own (an import, within their limits), then opens that conversation.
    Signed out, the same 404 (a redirect to sign in would carry the token in its address).

    Asked on a page of its own: the shared page sends no referrer, and a browser then
    sends its form's POST with `Origin: null`, which the site's CSRF check refuses. This
    page sends the referrer to this site only (its token goes nowhere else)."""
    link = selectors.link_visible(token=token, user=request.user)
    if link is None or not request.user.is_authenticated:
        return _missing(request)
    if request.method == "GET":
        response = render(request, "sharing/continue.html", {"link": link, "token": token})
        response = _guarded(response)
        response["Referrer-Policy"] = "same-origin"
        return response
    try:
        saved = services.continue_copy(link=link, viewer=request.user)
    except services.ShareRefused as refused:
        messages.error(request, refused.message)
        return redirect("chat")
    messages.success(request, "The shared conversation is now one of yours: continue it here.")
    return redirect("conversation", conversation_id=saved.pk)
