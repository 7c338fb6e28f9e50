"""What users do about review: rate replies, report conversations, opt out of datasets.

The JSON endpoints answer 401 to anonymous requests and 404 for anything that is not the
user's own, exactly as for a missing id; POST and DELETE need the CSRF token.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors as conversation_selectors
from ..limits.http import rate_limit
from ..limits.rate_limits import READS, WRITES
from ..models import Message
from . import selectors, services
from .forms import FeedbackForm, ReportForm


def _error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def _not_found(what: str) -> JsonResponse:
    return _error(404, "not_found", f"That {what} does not exist.")


def json_api(view: Callable) -> Callable:
    """Sign-in as a 401 and a malformed body as a 400, in JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return _error(401, "unauthorized", "Sign in first.")
        request.json = None
        if request.method == "POST":
            try:
                body = json.loads(request.body or b"null")
            except (ValueError, RecursionError):  # Recursion: nested past the parser's depth.
                return _error(400, "bad_request", "The body must be JSON.")
            if not isinstance(body, dict):
                return _error(400, "bad_request", "The body must be a JSON object.")
            request.json = body
        return view(request, *args, **kwargs)

    return wrapper


def _form_error(form) -> JsonResponse:
    return _error(
        400,
        "bad_request",
        "Some fields are not right.",
        fields={name: [str(e) for e in errors] for name, errors in form.errors.items()},
    )


@require_http_methods(["GET", "POST", "DELETE"])
@rate_limit(READS, unsafe=WRITES, json=True)
@json_api
def message_feedback(request: HttpRequest, message_id: int) -> JsonResponse:
    """The user's thumbs up or down on a reply of theirs: read, set or change, withdraw."""
    message = selectors.own_assistant_message(user=request.user, message_id=message_id)
    if message is None:
        return _not_found("message")
    if request.method == "GET":
        feedback = selectors.own_feedback(message=message)
        return JsonResponse({"message": message.pk, "feedback": selectors.feedback_data(feedback)})
    if request.method == "DELETE":
        services.feedback_withdraw(message=message)
        return JsonResponse({"message": message.pk, "feedback": None})
    if message.status in (Message.Status.STREAMING, Message.Status.PENDING):
        return _error(409, "busy", "This reply is still being written.")
    form = FeedbackForm(request.json)
    if not form.is_valid():
        return _form_error(form)
    feedback = services.feedback_set(
        user=request.user,
        message=message,
        rating=form.cleaned_data["rating"],
        categories=form.cleaned_data["categories"],
        comment=form.cleaned_data["comment"],
    )
    return JsonResponse({"message": message.pk, "feedback": selectors.feedback_data(feedback)})


@require_http_methods(["GET", "POST", "DELETE"])
@rate_limit(READS, unsafe=WRITES, json=True)
@json_api
def conversation_report(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The user's report of a conversation of theirs: read, make or change, withdraw."""
    conversation = conversation_selectors.conversation_get(
        user=request.user, conversation_id=conversation_id
    )
    if conversation is None:
        return _not_found("conversation")
    if request.method == "GET":
        report = selectors.own_report(conversation=conversation)
        return JsonResponse(
            {"conversation": conversation.pk, "report": selectors.report_data(report)}
        )
    if request.method == "DELETE":
        services.report_withdraw(conversation=conversation)
        return JsonResponse({"conversation": conversation.pk, "report": None})
    form = ReportForm(request.json)
    if not form.is_valid():
        return _form_error(form)
    report = services.report_set(
        user=request.user,
        conversation=conversation,
        categories=form.cleaned_data["categories"],
        comment=form.cleaned_data["comment"],
    )
    return JsonResponse({"conversation": conversation.pk, "report": selectors.report_data(report)})


@login_required
@rate_limit(READS)
def privacy(request: HttpRequest) -> HttpResponse:
    """What staff can read of the user's conversations, and the dataset opt-out."""
    return render(request, "review/privacy.html")


@login_required
@require_POST
@rate_limit(WRITES)
def dataset_opt_out(request: HttpRequest) -> HttpResponse:
    """Opt out of datasets (opt_out=1) or back in (opt_out=0), then back to the notice."""
    opted_out = request.POST.get("opt_out") == "1"
    services.dataset_opt_out_set(user=request.user, opted_out=opted_out)
    messages.success(
        request,
        "None of your conversations will go into datasets."
        if opted_out
        else "Your rated replies may go into datasets again.",
    )
    # Back to the page the form was on (the privacy page, or Settings), if it is ours.
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("privacy")
