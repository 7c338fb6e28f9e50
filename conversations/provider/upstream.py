"""The configured completions provider: its shared client and its model list."""

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from ..llm import LLMClient, LLMError
from . import catalog

logger = logging.getLogger(__name__)

MODELS_TTL = 600.0
FALLBACK_TTL = 60.0  # A failed list is retried after a minute, not on every page.

_client: tuple[tuple, LLMClient] | None = None
_models: tuple[float, list[str]] | None = None  # (expires at, chat model ids)
_listed: frozenset[str] | None = None  # The provider's latest list that did not fail.


def get_client() -> LLMClient:
    """The one shared client for the running event loop and current settings."""
    global _client
    key = (
        asyncio.get_running_loop(),
        settings.LLM_BASE_URL,
        settings.LLM_API_KEY,
        settings.LLM_READ_TIMEOUT,
        settings.LLM_TURN_TIMEOUT,
        settings.LLM_MAX_CONNECTIONS,
        settings.LLM_MAX_RETRY_AFTER,
    )
    if _client is None or _client[0] != key:
        _client = (
            key,
            LLMClient(
                base_url=settings.LLM_BASE_URL,
                api_key=settings.LLM_API_KEY,
                read_timeout=settings.LLM_READ_TIMEOUT,
                deadline=settings.LLM_TURN_TIMEOUT,
                max_connections=settings.LLM_MAX_CONNECTIONS,
                max_retry_after=settings.LLM_MAX_RETRY_AFTER,
            ),
        )
    return _client[1]


async def close_client() -> None:
    """Close the running loop's client, if it made one (its loop is stopping)."""
    global _client
    if _client is not None and _client[0][0] is asyncio.get_running_loop():
        client, _client = _client[1], None
        await client.aclose()


async def provider_model_ids() -> list[str]:
    """The provider's chat model ids, cached; just the default model when the list fails."""
    global _models, _listed
    now = time.monotonic()
    if _models and now < _models[0]:
        return _models[1]
    default = settings.LLM_DEFAULT_MODEL
    try:
        entries = await get_client().list_models()
    except LLMError as exc:
        logger.warning("Model list unavailable: %s", exc.detail)
        _models = (now + FALLBACK_TTL, [default])
        return [default]
    ids = sorted({str(e["id"]) for e in entries if catalog.is_chat_model(e)}, key=str.lower)
    _listed = frozenset(ids)
    if default not in ids:
        ids.insert(0, default)
    _models = (now + MODELS_TTL, ids)
    return ids


def listed_model_ids() -> frozenset[str] | None:
    """The provider's chat models as last listed (however long ago); None when this process
    has never had a list from it. Never asks the provider."""
    return _listed


def models_stale() -> bool:
    """Whether the next provider_model_ids() asks the provider."""
    return _models is None or time.monotonic() >= _models[0]


async def available_models(*, user_id: int | None = None) -> list[dict]:
    """The model picker: the provider's chat models with the catalog's facts; given a user,
    only those their groups may use (access rules)."""
    ids = await provider_model_ids()
    entries = await sync_to_async(catalog.merge)(ids, user_id=user_id)
    return [entry.as_dict() for entry in entries]


def forget_models() -> None:
    """Drop the cached model list (settings changed, or a test wants a fresh one)."""
    global _models, _listed
    _models = _listed = None
