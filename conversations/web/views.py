"""Pages: the chat, sign-up, the export and the model list. The chat itself runs over the websocket."""

import json
import math

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .. import selectors
from ..accounts import selectors as account_selectors
from ..accounts import services as account_services
from ..accounts import signup as signup_rules
from ..chat import outbound
from ..chat.assembly import usable_tools
from ..compare import selectors as compare_selectors
from ..limits import rate_limits
from ..limits.http import rate_limit, too_many
from ..limits.rate_limits import BULK, READS
from ..personas import selectors as persona_selectors
from ..portability import attached, export, importing
from ..projects import selectors as project_selectors
from ..provider import availability, catalog, upstream
from ..rendering.markdown import highlight_css as _highlight_css
from ..search import selectors as search
from ..sso.config import PROVIDER_ID
from ..tags import selectors as tag_selectors
from ..tools import external, registry
from . import appearance
from .forms import SignupForm

SEARCH_PAGE = 20  # Results per page of search.


@login_required
@rate_limit(READS)
def chat(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    """The chat page: a new chat, or one of the user's conversations."""
    conversation = _owned(request, conversation_id) if conversation_id is not None else None
    # The date groups hold the conversations in no project; each project's section loads
    # its own when opened (conversations.json?project=), and shows its count meanwhile.
    sidebar = list(selectors.conversation_list(user=request.user, outside_projects=True)[:500])
    if conversation is not None and conversation.project_id is not None:
        sidebar.append(conversation)  # The open one is listed in its section at once.
    personas = list(persona_selectors.persona_list(user=request.user))
    chosen = appearance.settings_of(request)
    # A new chat starts with the user's defaults (Settings), also one opened later in the
    # page without a reload; in a project (?project=), with the project's.
    default_persona = persona_selectors.default_persona(user=request.user, chosen=chosen)
    project = _project_param(request) if conversation is None else None
    new_chat = _new_chat(chosen, default_persona, project)
    projects = project_selectors.project_sidebar(user=request.user)
    sidebar += _open_sections(request, projects)
    if conversation:
        persona = conversation.persona
        model = selectors.conversation_model(conversation)[0]
    else:
        persona = next((p for p in personas if p.pk == new_chat["persona"]), None)
        model = (
            new_chat["model"] or (persona.model if persona else "") or settings.LLM_DEFAULT_MODEL
        )
    selected_persona = persona.pk if persona else None
    return render(
        request,
        "chat.html",
        {
            "conversation": conversation,
            "conversations": sidebar,
            "projects": projects,
            "personas": personas,
            "selected_persona": selected_persona,
            "model": catalog.model_info(model).as_dict()
            | {"available": availability.policy().usable(model, user_id=request.user.pk)},
            "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
            "max_files": settings.CHAT_MAX_FILES_PER_MESSAGE,
            "max_file_bytes": settings.CHAT_MAX_FILE_BYTES,
            "enter_to_send": chosen.enter_to_send,
            "local_model": settings.LLM_LOCAL_MODEL,
            "temporary_hours": settings.CHAT_TEMPORARY_HOURS,
            "compare_blind": compare_selectors.blind_by_default(),
            "boot": {
                # Drafts in the browser are kept per user: one never sees another's.
                "user": request.user.pk,
                "conversation": conversation.pk if conversation else None,
                "maxChars": settings.CHAT_MAX_MESSAGE_CHARS,
                "enterToSend": chosen.enter_to_send,
                "defaultModel": settings.LLM_DEFAULT_MODEL,
                # The share dialog offers "anyone with the link" only where it is allowed.
                "shareAnyone": settings.CHAT_SHARE_ANYONE,
                # What a new chat starts with (Settings): a persona, and a model chosen
                # over the persona's ("" for none).
                "newChat": new_chat,
                "conversations": [outbound.conversation_data(c) for c in sidebar],
                "projects": [
                    {k: v for k, v in p.items() if k not in ("items", "open")} for p in projects
                ],
                "personas": {p.pk: _persona_data(p) for p in personas},
                "tags": tag_selectors.tag_list(user_id=request.user.pk),
                "tools": _tools_data(request.user.pk),
                # Servers whose tools are left out because this process cannot reach them.
                "tool_servers_down": [
                    state.name
                    for state in external.servers_for(request.user.pk)
                    if state.reachable is False
                ],
            },
        },
    )


def _new_chat(chosen, default_persona, project) -> dict:
    """What a new chat starts with: the user's defaults (Settings), or in a project its
    persona, model and tools over them (the project's persona only if still usable)."""
    persona = default_persona.pk if default_persona else None
    model = chosen.default_model
    if project is None:
        return {"persona": persona, "model": model}
    if project.default_persona_id is not None:
        usable = persona_selectors.persona_get(
            user=project.owner, persona_id=project.default_persona_id
        )
        persona = usable.pk if usable else persona
    return {
        "persona": persona,
        "model": project.default_model or model,
        "project": {"id": project.pk, "name": project.name, "tools": project.default_tools},
    }


def _tools_data(user_id: int) -> list[dict]:
    """The tools the user may offer: built-in ones, then each server's (`server`), and
    whether a call asks the user first."""
    outside = external.for_user(user_id)
    tools = []
    for name in sorted(usable_tools(user_id=user_id, outside=outside)):
        tool = outside.get(name) if name not in registry.REGISTRY else None
        if tool is None:
            tools.append({"name": name, "description": registry.REGISTRY[name].description})
        else:
            tools.append(
                {
                    "name": name,
                    "description": tool.description,
                    "server": tool.server,
                    "needs_approval": tool.needs_approval,
                }
            )
    return tools


def _persona_data(persona) -> dict:
    """What the chat page needs of a persona: what choosing it sets, and its defaults."""
    return {
        "name": persona.name,
        "model": persona.model,
        "tools": persona.tools,
        "tool_choice": persona.tool_choice,
        "temperature": persona.temperature,
        "top_p": persona.top_p,
        "max_tokens": persona.max_tokens,
        "system_prompt": persona.system_prompt,
    }


def _owned(request: HttpRequest, conversation_id: int):
    conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def _download(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
@rate_limit(READS)
def export_json(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One conversation as JSON: what its next turn would send upstream, and the whole tree."""
    conversation = _owned(request, conversation_id)
    data = export.export_conversation(conversation)
    return _download(
        JsonResponse(data, json_dumps_params={"indent": 2}), f"conversation-{conversation.pk}.json"
    )


@login_required
@require_GET
@rate_limit(BULK)
def export_zip(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One conversation as a zip: its JSON export and the files its messages carry."""
    conversation = _owned(request, conversation_id)
    data = export.export_conversation(conversation)
    return _zip_response(
        request, "conversation.json", [data], data, f"conversation-{conversation.pk}.zip"
    )


def _zip_response(
    request: HttpRequest, name: str, conversations: list[dict], document: dict, filename: str
) -> HttpResponse:
    out = attached.export_zip(
        user=request.user,
        name=name,
        document=json.dumps(document, indent=2, ensure_ascii=False).encode(),
        ids=attached.file_ids(conversations),
    )
    response = FileResponse(
        out, as_attachment=True, filename=filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
@rate_limit(READS)
def export_markdown(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One conversation's active branch as Markdown."""
    conversation = _owned(request, conversation_id)
    text = export.export_markdown(conversation)
    return _download(
        HttpResponse(text, content_type="text/markdown; charset=utf-8"),
        f"conversation-{conversation.pk}.md",
    )


@login_required
@require_GET
@rate_limit(BULK)
def export_all(request: HttpRequest) -> HttpResponse:
    """Every conversation of the user, in one JSON file."""
    data = export.export_all(request.user)
    return _download(JsonResponse(data, json_dumps_params={"indent": 2}), "conversations.json")


@login_required
@require_GET
@rate_limit(BULK)
def export_all_zip(request: HttpRequest) -> HttpResponse:
    """Every conversation of the user, and their files, in one zip."""
    data = export.export_all(request.user)
    return _zip_response(
        request, "conversations.json", data["conversations"], data, "conversations.zip"
    )


@login_required
@rate_limit(None, unsafe=BULK)  # The form is free; each upload is bulk work.
def import_conversations(request: HttpRequest) -> HttpResponse:
    """Import our JSON export or ChatGPT's conversations.json, checked whole before saving.

    Conversations imported before are not silently copied: the user is asked first (the
    page's script asks for JSON and keeps the chosen file; without it, the page asks for
    the file again with the choice made), then skips them or imports copies.
    """
    wants_json = "application/json" in request.headers.get("Accept", "")
    error, status = "", 200
    choice = request.POST.get("duplicates", "ask")
    if choice not in importing.DUPLICATE_CHOICES:
        choice = "ask"
    if request.method == "POST":
        try:
            imported = _import_upload(request, choice)
        except importing.ImportDuplicates as exc:
            return _ask_about_duplicates(request, exc, wants_json)
        except importing.ImportFailed as exc:
            error, status = str(exc), exc.status
        else:
            return _imported(request, imported, choice, wants_json)
    if wants_json:
        return JsonResponse({"error": error}, status=status)
    return render(request, "import.html", {"error": error, **_import_limits()}, status=status)


def _import_limits() -> dict:
    return {
        "max_mb": f"{settings.CHAT_IMPORT_MAX_BYTES / 1_000_000:g}",
        "max_conversations": f"{settings.CHAT_IMPORT_MAX_CONVERSATIONS:,}",
        "max_messages": f"{settings.CHAT_IMPORT_MAX_MESSAGES:,}",
    }


def _import_upload(request: HttpRequest, choice: str) -> "importing.Imported":
    too_large = importing.ImportFailed(
        f"The file is larger than {settings.CHAT_IMPORT_MAX_BYTES / 1_000_000:g} MB.", status=413
    )
    # Refuse by the declared length before the body is parsed (the server caps it first).
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.HTTP_MAX_BODY_IMPORT:
        raise too_large
    upload = request.FILES.get("file")
    if upload is None:
        raise importing.ImportFailed("Choose a file to import.")
    if upload.size > settings.CHAT_IMPORT_MAX_BYTES:
        raise too_large
    return importing.import_document(user=request.user, data=upload.read(), duplicates=choice)


def _ask_about_duplicates(
    request: HttpRequest, found: "importing.ImportDuplicates", wants_json: bool
) -> HttpResponse:
    """Nothing was imported: say which conversations were imported before, and ask."""
    shown = found.titles[:20]
    if wants_json:
        return JsonResponse(
            {"duplicates": shown, "count": len(found.titles), "total": found.total}, status=409
        )
    context = {
        "duplicates": shown,
        "more": len(found.titles) - len(shown),
        "count": len(found.titles),
        "total": found.total,
        **_import_limits(),
    }
    return render(request, "import.html", context, status=409)


def _imported(
    request: HttpRequest, result: "importing.Imported", choice: str, wants_json: bool
) -> HttpResponse:
    """Say how many conversations and prompts were imported, and go to the one
    conversation, or the chat (the import page when no conversation was)."""
    imported = result.conversations
    count = len(imported)
    noun = "conversation" if count == 1 else "conversations"
    prompts = f"{result.prompts} prompt{'' if result.prompts == 1 else 's'}"
    if count and result.prompts:
        text = f"Imported {count} {noun} and {prompts}."
    elif count:
        text = f"Imported {count} {noun}."
    elif result.prompts:
        text = f"Imported {prompts}."
    else:
        text = "Nothing new to import: everything in the file was imported before."
    if choice == "skip" and count:
        text += " Those imported before were left as they were."
    messages.success(request, text)
    if not count:
        target = reverse("import")
    elif count == 1:
        target = reverse("conversation", args=[imported[0].pk])
    else:
        target = reverse("chat")
    if wants_json:
        return JsonResponse({"imported": count, "prompts": result.prompts, "redirect": target})
    return redirect(target)


@login_required
@require_GET
@rate_limit(READS, json=True)
def search_json(request: HttpRequest) -> JsonResponse:
    """The user's conversations matching `q` in titles or message text, with snippets."""
    query = request.GET.get("q", "")[:200]
    try:
        offset = max(0, min(int(request.GET.get("offset", 0)), search.SEARCH_MAX_OFFSET))
    except ValueError:
        offset = 0
    # One more than a page: whether there is a next page, without counting them all.
    project = _project_param(request)
    found = search.conversation_search(
        user_id=request.user.pk,
        query=query,
        limit=SEARCH_PAGE + 1,
        offset=offset,
        project_id=project.pk if project else None,
    )
    more = len(found) > SEARCH_PAGE and offset + SEARCH_PAGE <= search.SEARCH_MAX_OFFSET
    return JsonResponse(
        {
            "query": query,
            "results": found[:SEARCH_PAGE],
            "next_offset": offset + SEARCH_PAGE if more else None,
        }
    )


OPEN_COOKIE = "chat_projects_open"  # Set by static/projects.js: the sections left open.
OPEN_DRAWN = 10  # Open sections whose lists the page carries (the rest load when opened).
OPEN_ITEMS = 100  # Conversations of each such section the page carries.


def _open_sections(request: HttpRequest, projects: list[dict]) -> list:
    """The conversations of the user's sections left open (the cookie names them), so the
    page draws them at once; each such project is marked `open` and `loaded` (its list is
    whole) in `projects`. Ids not the user's are ignored, as for a missing one."""
    named = request.COOKIES.get(OPEN_COOKIE, "")[:200].split(".")
    wanted = {int(i) for i in named[:OPEN_DRAWN] if i.isdigit() and len(i) < 19}
    found = []
    for project in projects:
        if project["id"] not in wanted:
            continue
        items = list(
            selectors.conversation_list(user=request.user, project_id=project["id"])[
                : OPEN_ITEMS + 1
            ]
        )
        project["open"] = True
        project["loaded"] = len(items) <= OPEN_ITEMS
        project["items"] = items[:OPEN_ITEMS]
        found += items[:OPEN_ITEMS]
    return found


def _project_param(request: HttpRequest):
    """The user's project named by ?project=, else None; another user's or a missing one
    is a 404, as for a missing id."""
    wanted = request.GET.get("project")
    if not wanted:
        return None
    if not wanted.isdigit() or len(wanted) > 18:
        raise Http404("No such project.")
    project = project_selectors.project_get(user=request.user, project_id=int(wanted))
    if project is None:
        raise Http404("No such project.")
    return project


@login_required
@require_GET
@rate_limit(READS, json=True)
def conversations_json(request: HttpRequest) -> JsonResponse:
    """The sidebar: the user's conversations, or the archived ones with ?archived=1."""
    archived = request.GET.get("archived") == "1"
    project = _project_param(request)
    items = selectors.conversation_list(
        user=request.user, archived=archived, project_id=project.pk if project else None
    )[:500]
    return JsonResponse({"conversations": [outbound.conversation_data(c) for c in items]})


@rate_limit(READS, json=True)
async def models_json(request: HttpRequest) -> JsonResponse:
    """The chat models to pick from, as `{models: [{id, name, family, context_window,
    supports_tools}], default}`."""
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"error": "Sign in first."}, status=401)
    models = await upstream.available_models(user_id=user.pk)
    return JsonResponse({"models": models, "default": settings.LLM_DEFAULT_MODEL})


@require_GET
@cache_control(max_age=86400, public=True)
def highlight_css(request: HttpRequest) -> HttpResponse:
    """Styles for highlighted code blocks, made from Pygments' own themes."""
    return HttpResponse(_highlight_css(), content_type="text/css")


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in, as the sign-up rules allow (see signup.py)."""
    if request.user.is_authenticated:
        return redirect("chat")
    rules = signup_rules.signup_rules(request)
    if rules.closed or not settings.CHAT_LOCAL_PASSWORDS:
        return render(request, "registration/signup_closed.html", status=403)
    form = SignupForm(
        request.POST or None, needs=rules.needs, initial={"token": request.GET.get("invite", "")}
    )
    if request.method == "POST" and form.is_valid():
        # Counted once the form is right, before the account is made: a sign-up refused
        # for its setup token or invite code counts (guessing costs), one with mistakes in
        # the form does not. Counting first keeps it atomic across processes.
        key = signup_rules.signup_key(request)
        wait = rate_limits.hit(rate_limits.SIGNUPS, key)
        if wait is not None:
            return too_many(request, rate_limits.SIGNUPS, wait, json=False)
        try:
            user = account_services.user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                token=form.cleaned_data.get("token", ""),
                trusted_local=rules.first_account and not rules.needs,
            )
        except account_services.SignupRefused as exc:
            form.add_error("token" if "token" in form.fields else None, str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("chat")
    return render(request, "registration/signup.html", {"form": form, "rules": rules})


class SignInView(LoginView):
    """The sign-in page: a password (Django's form, under axes' limits), then, through
    allauth's steps, a second factor when the account has one; and single sign-on's
    button. A signed-in visitor goes straight on to `next`."""

    # A socket closed for a stale session sends the page here: one whose browser holds a
    # valid session again (after a password change, say) is sent back, not asked again.
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.CHAT_LOCAL_PASSWORDS:
            return render(
                request,
                "registration/sso_refused.html",
                {"message": "This site signs in with single sign-on only."},
                status=403,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        # allauth's sign-in steps: the second factor (if any) before the session is made.
        login = Login(user=form.get_user(), redirect_url=self.get_success_url())
        credentials = {"username": form.get_user().get_username()}
        return perform_password_login(self.request, credentials, login)

    def get_context_data(self, **kwargs) -> dict:
        first_sso = settings.SSO_ENABLED and not account_selectors.user_exists()
        return super().get_context_data(**kwargs) | {
            "signup_offered": settings.CHAT_LOCAL_PASSWORDS and signup_rules.signup_offered(),
            "invite_only": settings.CHAT_SIGNUP == "invite",
            "local_passwords": settings.CHAT_LOCAL_PASSWORDS,
            "sso": settings.SSO_ENABLED,
            "sso_name": settings.OIDC_PROVIDER_NAME,
            "sso_url": reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}),
            # The site's first account by single sign-on needs the setup token here too.
            "sso_setup_token": first_sso and not signup_rules.trusted_local(self.request),
        }


def locked_out(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """Too many failed sign-ins (django-axes' lockout page): 429, and when to try again."""
    until = AxesProxyHandler.get_implementation().locked_until(request, credentials)
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": max(1, round(seconds / 60)), "until": until},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
