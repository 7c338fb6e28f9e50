"""Pages: the chat, sign-up, the export and the model list. The chat itself runs over the websocket."""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from . import catalog, selectors, services, tooling, upstream
from .forms import SignupForm
from .rendering import highlight_css as _highlight_css


@login_required
def chat(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    """The chat page: a new chat, or one of the user's conversations."""
    conversation = None
    if conversation_id is not None:
        conversation = selectors.conversation_get(
            user=request.user, conversation_id=conversation_id
        )
        if conversation is None:
            raise Http404("No such conversation.")
    personas = list(selectors.persona_list(user=request.user))
    model = (conversation.model if conversation else "") or settings.LLM_DEFAULT_MODEL
    return render(
        request,
        "chat.html",
        {
            "conversation": conversation,
            "conversations": selectors.conversation_list(user=request.user)[:200],
            "personas": personas,
            "model": catalog.model_info(model).as_dict(),
            "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
            "local_model": settings.LLM_LOCAL_MODEL,
            "boot": {
                "conversation": conversation.pk if conversation else None,
                "maxChars": settings.CHAT_MAX_MESSAGE_CHARS,
                "personas": {
                    p.pk: {"name": p.name, "tools": p.tools, "tool_choice": p.tool_choice}
                    for p in personas
                },
                "tools": [
                    {"name": t.name, "description": t.description}
                    for t in sorted(tooling.REGISTRY.values(), key=lambda t: t.name)
                ],
            },
        },
    )


@login_required
@require_GET
def export_json(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """One conversation as JSON: what its next turn would send upstream."""
    conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    if conversation is None:
        raise Http404("No such conversation.")
    response = JsonResponse(
        selectors.conversation_export(conversation=conversation), json_dumps_params={"indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="conversation-{conversation.pk}.json"'
    return response


async def models_json(request: HttpRequest) -> JsonResponse:
    """The chat models to pick from, as `{models: [{id, name}], default}`."""
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
