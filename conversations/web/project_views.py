"""Project pages: list, create, edit, delete (asking what becomes of its conversations).

Only ever the user's own: another user's project is a 404, as a missing id is.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ..chat.assembly import usable_tools
from ..limits.http import rate_limit
from ..limits.rate_limits import READS, WRITES
from ..personas import selectors as persona_selectors
from ..projects import selectors as project_selectors
from ..projects import services as project_services
from ..projects.models import INSTRUCTIONS_CHARS, NAME_CHARS, Project
from ..tools import external
from .forms import usable_model


class ProjectForm(forms.Form):
    """A project's name, instructions and defaults; the service checks them again."""

    name = forms.CharField(max_length=NAME_CHARS)
    instructions = forms.CharField(
        required=False,
        max_length=INSTRUCTIONS_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Sent with every reply in this project, after the persona's prompt.",
    )
    default_persona = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Default persona"
    )
    default_model = forms.CharField(
        required=False, max_length=200, label="Default model", help_text="Blank: none."
    )
    default_tools = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Default tools"
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.allowed_tools = sorted(
            usable_tools(user_id=user.pk, outside=external.for_user(user.pk))
        )
        personas = persona_selectors.persona_list(user=user)
        self.fields["default_persona"].choices = [("", "None")] + [(p.pk, p.name) for p in personas]
        self.fields["default_tools"].choices = [(n, n) for n in self.allowed_tools]

    def clean_default_model(self) -> str:
        return usable_model(self.cleaned_data["default_model"], user_id=self.user.pk)

    def fields_given(self) -> project_services.ProjectFields:
        data = self.cleaned_data
        return project_services.ProjectFields(
            name=data["name"],
            instructions=data["instructions"],
            default_persona=data["default_persona"],
            default_model=data["default_model"],
            default_tools=tuple(data["default_tools"]),
        )


def _initial(project: Project) -> dict:
    return {
        "name": project.name,
        "instructions": project.instructions,
        "default_persona": project.default_persona_id,
        "default_model": project.default_model,
        "default_tools": project.default_tools,
    }


def _own(request: HttpRequest, project_id: int) -> Project:
    project = project_selectors.project_get(user=request.user, project_id=project_id)
    if project is None:
        raise Http404("No such project.")
    return project


def _saved(form: ProjectForm, save) -> Project | None:
    """The project `save` makes of the form's fields, or None with the service's refusal
    on the form."""
    try:
        return save(form.fields_given())
    except project_services.ProjectInvalid as exc:
        form.add_error(exc.field or None, str(exc))
        return None


@login_required
@rate_limit(READS, unsafe=WRITES)
def project_list(request: HttpRequest) -> HttpResponse:
    """The user's projects, with how many conversations each holds."""
    projects = project_selectors.project_sidebar(user=request.user)
    return render(request, "projects/list.html", {"projects": projects})


@login_required
@rate_limit(READS, unsafe=WRITES)
def project_create(request: HttpRequest) -> HttpResponse:
    """A new project; saved, a new chat in it opens."""
    form = ProjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        project = _saved(
            form,
            lambda fields: project_services.project_create(
                owner=request.user, fields=fields, allowed_tools=form.allowed_tools
            ),
        )
        if project is not None:
            return redirect(f"{reverse('chat')}?project={project.pk}")
    return render(request, "projects/form.html", {"form": form, "title": "New project"})


@login_required
@rate_limit(READS, unsafe=WRITES)
def project_edit(request: HttpRequest, project_id: int) -> HttpResponse:
    """Edit a project; replies already written keep what they were sent."""
    project = _own(request, project_id)
    form = ProjectForm(request.POST or None, user=request.user, initial=_initial(project))
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            form,
            lambda fields: project_services.project_update(
                project=project, fields=fields, allowed_tools=form.allowed_tools
            ),
        )
        if saved is not None:
            return redirect("projects")
    return render(
        request,
        "projects/form.html",
        {"form": form, "title": f"Edit {project.name}", "project": project},
    )


@login_required
@rate_limit(READS, unsafe=WRITES)
def project_delete(request: HttpRequest, project_id: int) -> HttpResponse:
    """Ask, then delete a project: with its conversations, or keeping them (moved out)."""
    project = _own(request, project_id)
    count = len(project_selectors.project_conversation_ids(project=project))
    if request.method == "POST":
        choice = request.POST.get("conversations")
        if choice in ("delete", "keep"):
            project_services.project_delete(project=project, with_conversations=choice == "delete")
            return redirect("projects")
    return render(
        request,
        "projects/confirm_delete.html",
        {"project": project, "count": count, "asked": request.method == "POST"},
    )
