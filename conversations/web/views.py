"""Pages: the chat, sign-up, the export and the model list. The chat itself runs over the websocket."""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .. import portability, selectors, services
from ..chat import outbound
from ..provider import catalog, upstream
from ..rendering import highlight_css as _highlight_css
from ..tools import registry
from .forms import SignupForm

IMPORT_MAX_BYTES = 50_000_000


@login_required
def chat(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    """The chat page: a new chat, or one of the user's conversations."""
    conversation = _owned(request, conversation_id) if conversation_id is not None else None
    sidebar = list(selectors.conversation_list(user=request.user)[:500])
    personas = list(selectors.persona_list(user=request.user))
    model = (
        selectors.conversation_model(conversation)[0]
        if conversation
        else settings.LLM_DEFAULT_MODEL
    )
    return render(
        request,
        "chat.html",
        {
            "conversation": conversation,
            "conversations": sidebar,
            "personas": personas,
            "model": catalog.model_info(model).as_dict(),
            "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
            "local_model": settings.LLM_LOCAL_MODEL,
            "boot": {
                # Drafts in the browser are kept per user: one never sees another's.
                "user": request.user.pk,
                "conversation": conversation.pk if conversation else None,
                "maxChars": settings.CHAT_MAX_MESSAGE_CHARS,
                "defaultModel": settings.LLM_DEFAULT_MODEL,
                "conversations": [outbound.conversation_data(c) for c in sidebar],
                "personas": {p.pk: _persona_data(p) for p in personas},
                "tools": [
                    {"name": t.name, "description": t.description}
                    for t in sorted(registry.REGISTRY.values(), key=lambda t: t.name)
                ],
            },
        },
    )


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
def export_json(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One conversation as JSON: what its next turn would send upstream, and the whole tree."""
    conversation = _owned(request, conversation_id)
    data = portability.export_conversation(conversation)
    return _download(
        JsonResponse(data, json_dumps_params={"indent": 2}), f"conversation-{conversation.pk}.json"
    )


@login_required
@require_GET
def export_markdown(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One conversation's active branch as Markdown."""
    conversation = _owned(request, conversation_id)
    text = portability.export_markdown(conversation)
    return _download(
        HttpResponse(text, content_type="text/markdown; charset=utf-8"),
        f"conversation-{conversation.pk}.md",
    )


@login_required
@require_GET
def export_all(request: HttpRequest) -> HttpResponse:
    """Every conversation of the user, in one JSON file."""
    data = portability.export_all(request.user)
    return _download(JsonResponse(data, json_dumps_params={"indent": 2}), "conversations.json")


@login_required
def import_conversations(request: HttpRequest) -> HttpResponse:
    """Import our JSON export or ChatGPT's conversations.json; all of it or nothing."""
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a file to import."
        elif upload.size > IMPORT_MAX_BYTES:
            error = f"The file is larger than {IMPORT_MAX_BYTES // 1_000_000} MB."
        else:
            try:
                imported = portability.import_file(user=request.user, data=upload.read())
            except portability.ImportFailed as exc:
                error = str(exc)
            else:
                if len(imported) == 1:
                    return redirect("conversation", conversation_id=imported[0].pk)
                return redirect("chat")
    return render(request, "import.html", {"error": error}, status=400 if error else 200)


@login_required
@require_GET
def search_json(request: HttpRequest) -> JsonResponse:
    """The user's conversations matching `q` in titles or message text, with snippets."""
    query = request.GET.get("q", "")[:200]
    return JsonResponse(
        {
            "query": query,
            "results": selectors.conversation_search(user_id=request.user.pk, query=query),
        }
    )


@login_required
@require_GET
def conversations_json(request: HttpRequest) -> JsonResponse:
    """The sidebar: the user's conversations, or the archived ones with ?archived=1."""
    archived = request.GET.get("archived") == "1"
    items = selectors.conversation_list(user=request.user, archived=archived)[:500]
    return JsonResponse({"conversations": [outbound.conversation_data(c) for c in items]})


async def models_json(request: HttpRequest) -> JsonResponse:
    """The chat models to pick from, as `{models: [{id, name, family, context_window,
    supports_tools}], default}`."""
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"error": "Sign in first."}, status=401)
    models = await upstream.available_models()
    return JsonResponse({"models": models, "default": settings.LLM_DEFAULT_MODEL})


@require_GET
@cache_control(max_age=86400, public=True)
def highlight_css(request: HttpRequest) -> HttpResponse:
    """Styles for highlighted code blocks, made from Pygments' own themes."""
    return HttpResponse(_highlight_css(), content_type="text/css")


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in; the first account on a new install is a superuser."""
    if request.user.is_authenticated:
        return redirect("chat")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(
            username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("chat")
    return render(request, "registration/signup.html", {"form": form})
