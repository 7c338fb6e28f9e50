"""What each reply sends upstream: persona, branch, model, tools and the context budget.

The reply's placeholder is saved with a record of exactly what went into its request,
so the user (and staff) can see what was sent, and later persona edits change nothing.
"""

from dataclasses import dataclass, field

from .. import selectors
from ..llm import TOOL_CHOICE_KEYWORDS, ChatRequest
from ..models import Conversation, Message
from ..provider import catalog
from ..tools import registry
from . import budget

TOOL_CHOICES = TOOL_CHOICE_KEYWORDS


@dataclass
class TurnOptions:
    """Per-message choices that override the persona's: tools offered and tool_choice."""

    tools: list[str] | None = None
    tool_choice: str | None = None


@dataclass
class ReplyPlan:
    """The request that fills a reply, and its record, or why nothing can be sent."""

    request: ChatRequest | None
    record: dict
    error: str = ""
    tools: list[str] = field(default_factory=list)  # The tools offered, and so allowed to run.


def resolve_tools(
    *, persona_tools: list[str], persona_choice: str, options: TurnOptions
) -> tuple[list[str], str]:
    """The tools to offer and the tool_choice to send, per message over per persona."""
    tools = options.tools if options.tools is not None else list(persona_tools or [])
    tools = [name for name in dict.fromkeys(tools) if name in registry.REGISTRY]
    choice = options.tool_choice or persona_choice or "auto"
    if choice not in TOOL_CHOICES:
        if choice not in registry.REGISTRY:
            choice = "auto"
        elif choice not in tools:
            tools.append(choice)  # Naming a tool offers it.
    return tools, choice


def plan_reply(
    *,
    conversation: Conversation,
    branch: list[Message],
    info: catalog.CatalogEntry,
    options: TurnOptions | None = None,
    custom_instructions: str = "",
) -> ReplyPlan:
    """Assemble the request for a reply to `branch` (root first) and what to record of it.

    No database work: the caller read the branch, the model's catalog entry and the
    owner's custom instructions (added to the system prompt after the persona's).
    """
    options = options or TurnOptions()
    persona = conversation.persona
    model = info.model_id
    offered, choice = resolve_tools(
        persona_tools=persona.tools if persona else [],
        persona_choice=persona.tool_choice if persona else "auto",
        options=options,
    )
    unsupported = []
    if offered and not info.supports_tools:
        unsupported, offered = offered, []  # The catalog says this model cannot call tools.
    specs = registry.specs(offered)
    params = {
        "temperature": persona.temperature if persona else None,
        "top_p": persona.top_p if persona else None,
        "max_tokens": persona.max_tokens if persona else None,
    }
    system = selectors.system_message(persona, custom_instructions)
    history = [(m.pk, said) for m in branch if (said := selectors.chat_message(m)) is not None]
    reserve = budget.reply_reserve(max_tokens=params["max_tokens"], window=info.context_window)
    reserve += budget.tools_tokens(specs)
    scale = _correction(branch)
    record = {
        "persona": (
            {"id": persona.pk, "name": persona.name, "version": persona.version}
            if persona
            else None
        ),
        "system_prompt": system.content if system else "",
        # The user's own part of that system prompt (Settings), as it was then.
        "custom_instructions": custom_instructions.strip(),
        "model": model,
        "params": {k: v for k, v in params.items() if v is not None},
        "tools": offered,
        "tool_choice": choice if offered else None,
        "tools_unsupported": unsupported,
        "context_window": info.context_window,
        "reply_reserve": reserve,
    }
    error, request = "", None
    try:
        fitted = budget.fit(
            system=system, history=history, window=info.context_window, reserve=reserve, scale=scale
        )
    except budget.TooLarge as exc:
        error = (
            f"This message is too long for {info.display_name}: it needs about "
            f"{exc.needed:,} tokens and {max(exc.available, 0):,} fit beside room for the reply. "
            "Shorten it, or pick a model with a larger context window."
        )
        record |= {
            "sent": [],
            "left_out": [mid for mid, _ in history],
            "estimated_prompt_tokens": exc.needed,
        }
    else:
        record |= {
            "sent": fitted.sent,
            "left_out": fitted.left_out,
            "estimated_prompt_tokens": fitted.estimated_tokens,
            "raw_estimate": round(fitted.estimated_tokens / scale),
        }
        request = ChatRequest(
            model=model,
            messages=fitted.messages,
            tools=specs,
            tool_choice=choice if specs else None,
            **params,
        )
    return ReplyPlan(request=request, record=record, error=error, tools=offered)


def _correction(branch: list[Message]) -> float:
    """Scale our token counts by how far off they were on the latest reported reply."""
    for message in reversed(branch):
        record = message.request or {}
        if message.prompt_tokens and not message.usage_estimated and record.get("raw_estimate"):
            return budget.correction(
                estimated=record["raw_estimate"], reported=message.prompt_tokens
            )
    return 1.0
