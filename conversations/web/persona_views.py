"""Persona pages: list, create, edit, duplicate, delete. Shared personas are staff's (admin)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ..limits.http import rate_limit
from ..limits.rate_limits import READS, WRITES
from ..personas import selectors as persona_selectors
from ..personas import services as persona_services
from ..personas.models import Persona
from ..provider import availability, catalog
from .forms import PersonaForm


def _catalog(request: HttpRequest) -> list:
    """The models the form suggests: the built-in ones the user may use."""
    models = availability.policy()
    return sorted(
        (e for e in catalog.BUILT_IN.values() if models.allowed(e.model_id, request.user.pk)),
        key=lambda entry: entry.display_name,
    )


def _own(request: HttpRequest, persona_id: int) -> Persona:
    persona = persona_selectors.persona_get_owned(user=request.user, persona_id=persona_id)
    if persona is None:
        raise Http404("No such persona.")  # Shared ones are not the user's to change.
    return persona


@login_required
@rate_limit(READS, unsafe=WRITES)
def persona_list(request: HttpRequest) -> HttpResponse:
    """The user's personas and the shared ones."""
    personas = list(persona_selectors.persona_list(user=request.user).select_related("owner"))
    models = availability.policy()
    for persona in personas:  # A persona whose model went away (turned off, no longer listed).
        persona.model_unavailable = bool(persona.model) and not models.usable(
            persona.model, user_id=request.user.pk
        )
    return render(request, "personas/list.html", {"personas": personas})


@login_required
@rate_limit(READS, unsafe=WRITES)
def persona_create(request: HttpRequest) -> HttpResponse:
    """A new persona of the user's own."""
    form = PersonaForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        persona_services.persona_create(owner=request.user, **form.cleaned_data)
        return redirect("personas")
    return render(
        request,
        "personas/form.html",
        {"form": form, "title": "New persona", "catalog": _catalog(request)},
    )


@login_required
@rate_limit(READS, unsafe=WRITES)
def persona_edit(request: HttpRequest, persona_id: int) -> HttpResponse:
    """Edit one of the user's personas; replies already written keep what they were sent."""
    persona = _own(request, persona_id)
    form = PersonaForm(request.POST or None, instance=persona, user=request.user)
    if request.method == "POST" and form.is_valid():
        # The form has changed `persona` in memory: compare against what is saved.
        saved = persona_selectors.persona_get_owned(user=request.user, persona_id=persona.pk)
        persona_services.persona_update(persona=saved, **form.cleaned_data)
        return redirect("personas")
    return render(
        request,
        "personas/form.html",
        {
            "form": form,
            "title": f"Edit {persona.name}",
            "persona": persona,
            "catalog": _catalog(request),
        },
    )


@login_required
@require_POST
@rate_limit(WRITES)
def persona_duplicate(request: HttpRequest, persona_id: int) -> HttpResponse:
    """Copy a persona the user may use into one they own, then edit the copy."""
    persona = persona_selectors.persona_get(user=request.user, persona_id=persona_id)
    if persona is None:
        raise Http404("No such persona.")
    copy = persona_services.persona_duplicate(persona=persona, owner=request.user)
    return redirect("persona-edit", persona_id=copy.pk)


@login_required
@rate_limit(READS, unsafe=WRITES)
def persona_delete(request: HttpRequest, persona_id: int) -> HttpResponse:
    """Confirm, then delete one of the user's personas."""
    persona = _own(request, persona_id)
    if request.method == "POST":
        persona_services.persona_delete(persona=persona)
        return redirect("personas")
    return render(request, "personas/confirm_delete.html", {"persona": persona})
