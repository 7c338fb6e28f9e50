"""The configured completions provider: its shared client and its model list."""

import asyncio
import logging
import time

from django.conf import settings

from . import local_model
from .llm import LLMClient, LLMError

logger = logging.getLogger(__name__)

MODELS_TTL = 600.0
FALLBACK_TTL = 60.0  # A failed list is retried after a minute, not on every page.
# Entries of a provider's /models list that are not chat models.
NON_CHAT_MARKERS = ("flux", "stable-diffusion", "sdxl", "sd1.5", "sd2", "tts", "whisper", "melo")

_client: tuple[tuple, LLMClient] | None = None
_models: tuple[float, list[dict]] | None = None  # (expires at, models)


def get_client() -> LLMClient:
    """The one shared client for the running event loop and current settings."""
    global _client
    key = (
        asyncio.get_running_loop(),
        settings.LLM_BASE_URL,
        settings.LLM_API_KEY,
        settings.LLM_READ_TIMEOUT,
        settings.LLM_TURN_TIMEOUT,
    )
    if _client is None or _client[0] != key:
        _client = (
            key,
            LLMClient(
                base_url=settings.LLM_BASE_URL,
                api_key=settings.LLM_API_KEY,
                read_timeout=settings.LLM_READ_TIMEOUT,
                deadline=settings.LLM_TURN_TIMEOUT,
            ),
        )
    return _client[1]


def is_chat_model(entry: dict) -> bool:
    """Whether a /models entry looks like a chat model."""
    if entry.get("supports_chat") is False:
        return False
    model_id = str(entry.get("id", "")).lower()
    return not any(marker in model_id for marker in NON_CHAT_MARKERS)


def display_name(model_id: str) -> str:
    """A readable name for a model id: its last path part."""
    if model_id == local_model.LOCAL_MODEL_ID or model_id.endswith(local_model.WEIGHTS_FILE):
        return local_model.LOCAL_MODEL_NAME
    return model_id.rsplit("/", 1)[-1].removesuffix(".gguf")


async def available_models() -> list[dict]:
    """Chat models for the picker as `{id, name}`, cached; the default model when the list fails."""
    global _models
    now = time.monotonic()
    if _models and now < _models[0]:
        return _models[1]
    default = settings.LLM_DEFAULT_MODEL
    try:
        entries = [e for e in await get_client().list_models() if is_chat_model(e)]
    except LLMError as exc:
        logger.warning("Model list unavailable: %s", exc.detail)
        fallback = [{"id": default, "name": display_name(default)}]
        _models = (now + FALLBACK_TTL, fallback)
        return fallback
    ids = sorted({str(e["id"]) for e in entries}, key=str.lower)
    if default not in ids:
        ids.insert(0, default)
    models = [{"id": model_id, "name": display_name(model_id)} for model_id in ids]
    _models = (now + MODELS_TTL, models)
    return models


def forget_models() -> None:
    """Drop the cached model list (settings changed, or a test wants a fresh one)."""
    global _models
    _models = None
