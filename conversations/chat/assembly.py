"""What each reply sends upstream: persona, branch, model, tools and the context budget.

The reply's placeholder is saved with a record of exactly what went into its request,
so the user (and staff) can see what was sent, and later persona edits change nothing.
"""

from dataclasses import dataclass, field

from django.conf import settings

from .. import model_input, selectors
from ..access import kinds
from ..access import policy as access_policy
from ..llm import TOOL_CHOICE_KEYWORDS, ChatMessage, ChatRequest
from ..models import Conversation, Message
from ..provider import catalog
from ..tools import external, registry
from ..tools.external import ExternalTool
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
    # The external tools among them, as the plan found them (their specs and servers).
    external: dict[str, ExternalTool] = field(default_factory=dict)
    text_only: bool = False  # Tool calls in the reply are ignored (a continuation).


def resolve_tools(
    *,
    persona_tools: list[str],
    persona_choice: str,
    options: TurnOptions,
    allowed: frozenset[str] | set[str] | None = None,
) -> tuple[list[str], str]:
    """The tools to offer and the tool_choice to send, per message over per persona; only
    tools that exist and, given `allowed`, that the user may use.

    `allowed` is every tool the user may use now, built-in and external (usable_tools);
    without it, every name asked for counts (what was wanted, for the record).
    """
    tools = options.tools if options.tools is not None else list(persona_tools or [])
    tools = [name for name in dict.fromkeys(tools) if allowed is None or name in allowed]
    choice = options.tool_choice or persona_choice or "auto"
    if choice not in TOOL_CHOICES:
        if allowed is not None and choice not in allowed:
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
    extra_tokens: int = 0,
) -> ReplyPlan:
    """Assemble the request for a reply to `branch` (root first) and what to record of it.

    No database work: the caller read the branch, the model's catalog entry and the
    owner's custom instructions (added to the system prompt after the conversation's or
    persona's). `extra_tokens` is room for what the caller adds to the request after this
    (a continuation's instruction).
    """
    options = options or TurnOptions()
    persona = conversation.persona
    model = info.model_id
    outside = external.for_user(conversation.owner_id)
    allowed = usable_tools(user_id=conversation.owner_id, outside=outside)
    default_tools = _default_tools(conversation)
    wanted, _ = resolve_tools(
        persona_tools=default_tools,
        persona_choice=persona.tool_choice if persona else "auto",
        options=options,
    )
    offered, choice = resolve_tools(
        persona_tools=default_tools,
        persona_choice=persona.tool_choice if persona else "auto",
        options=options,
        allowed=allowed,
    )
    unsupported = []
    if offered and not info.supports_tools:
        unsupported, offered = offered, []  # The catalog says this model cannot call tools.
    offered_outside = {name: outside[name] for name in offered if name in outside}
    specs = [
        outside[name].spec() if name in outside else registry.REGISTRY[name].spec()
        for name in offered
    ]
    params, own = _parameters(conversation)
    system = model_input.conversation_system_message(conversation, custom_instructions)
    history = [(m.pk, said) for m in branch if (said := model_input.chat_message(m)) is not None]
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
        "model_source": selectors.conversation_model(conversation)[1],
        "params": {k: v for k, v in params.items() if v is not None},
        "conversation_settings": own,
        "tools": offered,
        "tool_choice": choice if offered else None,
        "tools_unsupported": unsupported,
        "context_window": info.context_window,
        "reply_reserve": reserve,
    }
    project = _project_record(conversation)
    if project:  # Recorded only in a project (every reply's record travels in its frames).
        record["project"] = project
    if offered_outside:
        # Where each external tool offered lives, and whether its calls ask the user first.
        record["tools_external"] = {
            name: {
                "source": tool.source,
                "server": tool.server,
                "remote_name": tool.remote_name,
                "needs_approval": tool.needs_approval,
            }
            for name, tool in offered_outside.items()
        }
    # Asked for (by the persona or the message) but kept to other groups than the user's,
    # or no longer offered by any server; recorded only when there are some (every reply's
    # record travels in its frames).
    kept = [name for name in wanted if name not in allowed and name in registry.REGISTRY]
    if kept:
        record["tools_not_allowed"] = kept
    gone = [name for name in wanted if name not in allowed and name not in registry.REGISTRY]
    if gone:
        record["tools_unavailable"] = gone
    error, request = "", None
    try:
        fitted = budget.fit(
            system=system,
            history=history,
            window=info.context_window,
            reserve=reserve + extra_tokens,
            scale=scale,
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
            "estimated_prompt_tokens": fitted.estimated_tokens + extra_tokens,
            "raw_estimate": round(fitted.estimated_tokens / scale),
        }
        sent_files = _files_sent(branch, fitted.sent)
        if sent_files:  # Recorded only when there are some, and never their bytes.
            record["files"] = sent_files
        request = ChatRequest(
            model=model,
            messages=fitted.messages,
            tools=specs,
            tool_choice=choice if specs else None,
            **params,
        )
    return ReplyPlan(
        request=request, record=record, error=error, tools=offered, external=offered_outside
    )


def _default_tools(conversation: Conversation) -> list[str]:
    """The tools a reply offers when its message names none: the project's, if it has
    any, else the persona's."""
    project = conversation.project if conversation.project_id is not None else None
    if project is not None and project.default_tools:
        return list(project.default_tools)
    persona = conversation.persona
    return list(persona.tools) if persona else []


def _project_record(conversation: Conversation) -> dict | None:
    """The project a reply was made in, and its instructions as they were then."""
    project = conversation.project if conversation.project_id is not None else None
    if project is None:
        return None
    return {"id": project.pk, "name": project.name, "instructions": project.instructions.strip()}


def _files_sent(branch: list[Message], sent: list[int]) -> list[dict]:
    """The files the request carried: each message's, by id, name and kind."""
    sent_ids = set(sent)
    return [
        {"message": m.pk, "id": str(f.pk), "name": f.name, "kind": f.kind}
        for m in branch
        if m.pk in sent_ids
        for f in getattr(m, "files", ())
    ]


def usable_tools(
    *, user_id: int, outside: dict[str, external.ExternalTool] | None = None
) -> frozenset[str]:
    """The tools this user may use: the registered ones their access rules allow (in this
    process's memory) and the external ones their sources offer them (`outside`, else
    asked for now: from memory too)."""
    access = access_policy.cached() or access_policy.current()
    builtin = access.user(user_id).only_allowed(kinds.TOOL, sorted(registry.REGISTRY))
    if outside is None:
        outside = external.for_user(user_id)
    return frozenset(builtin) | frozenset(outside)


def _parameters(conversation: Conversation) -> tuple[dict, list[str]]:
    """Sampling parameters, each the conversation's own else its persona's; and the names
    of those that are the conversation's own."""
    persona = conversation.persona
    params, own = {}, []
    for name in ("temperature", "top_p", "max_tokens"):
        value = getattr(conversation, name)
        if value is not None:
            own.append(name)
        else:
            value = getattr(persona, name) if persona else None
        params[name] = value
    if conversation.system_prompt.strip():
        own.append("system_prompt")
    return params, own


# How a continuation asks the model for more of its reply (see plan_continuation).
CONTINUE_INSTRUCTION = (
    "Continue your last reply exactly where it stopped, even in the middle of a word or "
    "sentence. Do not repeat any of it, and add no preface."
)


def plan_continuation(
    *,
    conversation: Conversation,
    branch: list[Message],
    info: catalog.CatalogEntry,
    custom_instructions: str = "",
) -> ReplyPlan:
    """Assemble the request for more of the reply that ends `branch`.

    The reply goes upstream as the last assistant message, as it stands. With
    LLM_CONTINUE_METHOD "prefill" the provider is asked to continue that message itself
    (vLLM's `continue_final_message`; llama.cpp does so on its own); by default an
    instruction follows it, sent upstream but never saved or shown as the user's words.
    No tools are offered: a continuation is text. The record says which was done.
    """
    reply = branch[-1]
    method = settings.LLM_CONTINUE_METHOD
    instruction = ChatMessage("user", CONTINUE_INSTRUCTION)
    plan = plan_reply(
        conversation=conversation,
        branch=branch,
        info=info,
        options=TurnOptions(tools=[], tool_choice="none"),
        custom_instructions=custom_instructions,
        extra_tokens=0 if method == "prefill" else budget.message_tokens(instruction),
    )
    continuation = {"method": method, "from": len(reply.content)}
    if method != "prefill":
        continuation["instruction"] = CONTINUE_INSTRUCTION
    earlier = reply.request or {}
    plan.record["continuation"] = continuation
    plan.record["model_source"] = "reply"  # A reply goes on with the model that began it.
    plan.record["first_request"] = earlier.get("first_request") or (
        {k: v for k, v in earlier.items() if k != "continuation"} or None
    )
    plan.text_only = True
    if plan.request is None:
        return plan
    if method == "prefill":
        plan.request.continue_final_message = True
    else:
        plan.request.messages.append(instruction)
    return plan


def _correction(branch: list[Message]) -> float:
    """Scale our token counts by how far off they were on the latest reported reply."""
    for message in reversed(branch):
        record = message.request or {}
        if message.prompt_tokens and not message.usage_estimated and record.get("raw_estimate"):
            return budget.correction(
                estimated=record["raw_estimate"], reported=message.prompt_tokens
            )
    return 1.0
