"""The prompt library's pages (list, create, edit, delete) and the slash menu's list
(prompts.json). Shared prompts are staff's, in the admin; another user's prompt is "not
found", exactly as a missing id."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from ..limits.http import rate_limit
from ..limits.rate_limits import READS, WRITES
from ..prompts import selectors as prompt_selectors
from ..prompts import services as prompt_services
from ..prompts import variables as prompt_variables
from ..prompts.models import Prompt


class PromptForm(forms.ModelForm):
    """A prompt of the user's own: its command is theirs once (shared ones may share it)."""

    class Meta:
        model = Prompt
        fields = list(prompt_services.PROMPT_FIELDS)
        widgets = {"text": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not self.instance.pk:
            self.instance.owner = user  # So the model's unique checks are the user's own.
        self.fields["command"].widget.attrs.update(
            autocomplete="off", spellcheck="false", autocapitalize="none"
        )

    def clean_command(self) -> str:
        command = self.cleaned_data["command"].strip().lstrip("/").lower()
        self.fields["command"].run_validators(command)
        taken = prompt_selectors.prompt_list_own(user=self.user).filter(command=command)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"You already have a prompt /{command}.")
        return command


def _own(request: HttpRequest, prompt_id: int) -> Prompt:
    prompt = prompt_selectors.prompt_get_owned(user=request.user, prompt_id=prompt_id)
    if prompt is None:
        raise Http404("No such prompt.")  # Shared ones are staff's; others' are not found.
    return prompt


def _save(request: HttpRequest, form: PromptForm, prompt: Prompt | None) -> HttpResponse | None:
    try:
        if prompt is None:
            prompt_services.prompt_create(owner=request.user, **form.cleaned_data)
        else:
            prompt_services.prompt_update(prompt=prompt, **form.cleaned_data)
    except prompt_services.PromptLimitReached as exc:
        form.add_error(None, str(exc))
        return None
    return redirect("prompts")


@login_required
@rate_limit(READS, unsafe=WRITES)
def prompt_list(request: HttpRequest) -> HttpResponse:
    """The user's prompts and the shared ones they may use."""
    prompts = prompt_selectors.prompt_list(user=request.user)
    for prompt in prompts:
        prompt.variable_names = [v.name for v in prompt_variables.variables(prompt.text)]
    return render(request, "prompts/list.html", {"prompts": prompts})


@login_required
@rate_limit(READS, unsafe=WRITES)
def prompt_create(request: HttpRequest) -> HttpResponse:
    form = PromptForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        if done := _save(request, form, None):
            return done
    return render(request, "prompts/form.html", {"form": form, "title": "New prompt"})


@login_required
@rate_limit(READS, unsafe=WRITES)
def prompt_edit(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = _own(request, prompt_id)
    form = PromptForm(request.POST or None, instance=prompt, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = _own(request, prompt_id)  # The form changed `prompt` in memory.
        if done := _save(request, form, saved):
            return done
    return render(
        request,
        "prompts/form.html",
        {"form": form, "title": f"Edit /{prompt.command}", "prompt": prompt},
    )


@login_required
@rate_limit(READS, unsafe=WRITES)
def prompt_delete(request: HttpRequest, prompt_id: int) -> HttpResponse:
    """Confirm, then delete one of the user's prompts."""
    prompt = _own(request, prompt_id)
    if request.method == "POST":
        prompt_services.prompt_delete(prompt=prompt)
        return redirect("prompts")
    return render(request, "prompts/confirm_delete.html", {"prompt": prompt})


@login_required
@require_GET
@rate_limit(READS)
@cache_control(private=True, no_store=True)
def prompts_json(request: HttpRequest) -> JsonResponse:
    """What the slash menu lists: the user's prompts then the shared ones they may use,
    each with its variables; and the name `{{user}}` stands for."""
    user = request.user
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return JsonResponse(
        {
            "user": full or user.get_username(),
            "prompts": [
                {
                    "id": prompt.pk,
                    "command": prompt.command,
                    "title": prompt.title,
                    "text": prompt.text,
                    "shared": prompt.owner_id is None,
                    "variables": [v.as_dict() for v in prompt_variables.variables(prompt.text)],
                }
                for prompt in prompt_selectors.prompt_list(user=user)
            ],
        }
    )
