"""The model catalog: Hyperbolic's chat models built in, the provider's list, staff overrides.

Staff edits live in ModelInfo rows and always win; the built-in entries fill in what the
provider's /models list does not say (names, context windows, tool support).

Each process keeps every ModelInfo row in memory (a small table), so a turn learns its
model's facts without a database trip. A change in the admin reloads them in every
process (availability.catalog_changed, over the channel layer); the runtime also reloads
them every ROWS_REFRESH seconds, and anything older than ROWS_TTL is read again.
"""

import threading
import time
from dataclasses import dataclass

from ..access import kinds
from ..access import policy as access_policy
from ..catalog import selectors as catalog_selectors
from ..catalog.models import ModelInfo
from . import local_model

ROWS_TTL = 60.0
ROWS_REFRESH = 30.0
MAX_ROWS = 10_000

DEFAULT_CONTEXT_WINDOW = 8192


@dataclass(frozen=True)
class CatalogEntry:
    """One model's facts."""

    model_id: str
    display_name: str
    context_window: int
    supports_tools: bool
    supports_images: bool = False  # Only from a row: the provider's list at sync, or staff.

    def as_dict(self) -> dict:
        """As the model picker and request records carry it."""
        return {
            "id": self.model_id,
            "name": self.display_name,
            "family": family(self.model_id),
            "context_window": self.context_window,
            "supports_tools": self.supports_tools,
            "supports_images": self.supports_images,
        }


# Families the picker groups models by, from the publisher in a model id ("org/name").
FAMILIES = {
    "meta-llama": "Llama",
    "deepseek-ai": "DeepSeek",
    "qwen": "Qwen",
    "moonshotai": "Kimi",
    "openai": "gpt-oss",
    "nousresearch": "Hermes",
    "mistralai": "Mistral",
    "google": "Gemma",
    "microsoft": "Phi",
}


def family(model_id: str) -> str:
    """The family a model belongs to, for grouping: its publisher's, else "Other"."""
    if model_id == local_model.LOCAL_MODEL_ID or model_id.endswith(local_model.WEIGHTS_FILE):
        return "Local"
    publisher, slash, _ = model_id.partition("/")
    if not slash:
        return "Other"
    return FAMILIES.get(publisher.lower(), publisher)


def _entry(model_id: str, name: str, context: int, tools: bool) -> CatalogEntry:
    return CatalogEntry(model_id, name, context, tools)


# Context windows are the provider's published defaults; staff can override them.
BUILT_IN = {
    e.model_id: e
    for e in [
        _entry("meta-llama/Llama-3.3-70B-Instruct", "Llama 3.3 70B", 131072, True),
        _entry("meta-llama/Meta-Llama-3.1-8B-Instruct", "Llama 3.1 8B", 32768, True),
        _entry("meta-llama/Meta-Llama-3.1-70B-Instruct", "Llama 3.1 70B", 32768, True),
        _entry("meta-llama/Meta-Llama-3.1-405B-Instruct", "Llama 3.1 405B", 32768, True),
        _entry("meta-llama/Llama-3.2-3B-Instruct", "Llama 3.2 3B", 32768, True),
        _entry("deepseek-ai/DeepSeek-V3", "DeepSeek V3", 32768, True),
        _entry("deepseek-ai/DeepSeek-V3-0324", "DeepSeek V3 0324", 32768, True),
        _entry("deepseek-ai/DeepSeek-R1", "DeepSeek R1", 32768, False),
        _entry("deepseek-ai/DeepSeek-R1-0528", "DeepSeek R1 0528", 131072, False),
        _entry("Qwen/Qwen2.5-72B-Instruct", "Qwen2.5 72B", 131072, True),
        _entry("Qwen/Qwen2.5-Coder-32B-Instruct", "Qwen2.5 Coder 32B", 32768, True),
        _entry("Qwen/QwQ-32B", "QwQ 32B", 131072, False),
        _entry("Qwen/Qwen3-235B-A22B", "Qwen3 235B A22B", 131072, True),
        _entry("Qwen/Qwen3-235B-A22B-Instruct-2507", "Qwen3 235B A22B Instruct 2507", 131072, True),
        _entry("Qwen/Qwen3-Coder-480B-A35B-Instruct", "Qwen3 Coder 480B", 131072, True),
        _entry("Qwen/Qwen3-Next-80B-A3B-Instruct", "Qwen3 Next 80B", 131072, True),
        _entry("Qwen/Qwen3-Next-80B-A3B-Thinking", "Qwen3 Next 80B Thinking", 131072, True),
        _entry("moonshotai/Kimi-K2-Instruct", "Kimi K2", 131072, True),
        _entry("openai/gpt-oss-20b", "gpt-oss 20b", 131072, True),
        _entry("openai/gpt-oss-120b", "gpt-oss 120b", 131072, True),
        _entry("NousResearch/Hermes-3-Llama-3.1-70B", "Hermes 3 70B", 32768, True),
        # No tools: its chat template takes none, so llama.cpp leaves them out of the
        # prompt (tests/provider/test_local_model.py checks the server still says so).
        _entry(local_model.LOCAL_MODEL_ID, local_model.LOCAL_MODEL_NAME, 8192, False),
    ]
}

# Entries of a provider's /models list that are not chat models.
NON_CHAT_MARKERS = ("flux", "stable-diffusion", "sdxl", "sd1.5", "sd2", "tts", "whisper", "melo")


def is_chat_model(entry: dict) -> bool:
    """Whether a /models entry looks like a chat model."""
    if entry.get("supports_chat") is False:
        return False
    model_id = str(entry.get("id", "")).lower()
    return not any(marker in model_id for marker in NON_CHAT_MARKERS)


# Where a provider's /models entry may say the model takes images: Hyperbolic's flag,
# others' flags, and OpenRouter's and LiteLLM's lists of input modalities.
IMAGE_FLAGS = ("supports_image_input", "supports_vision", "supports_images", "vision")


def takes_images(entry: dict) -> bool:
    """Whether a /models entry says the model takes images as input."""
    if any(entry.get(flag) is True for flag in IMAGE_FLAGS):
        return True
    architecture = entry.get("architecture")
    modalities = [
        entry.get("input_modalities"),
        architecture.get("input_modalities") if isinstance(architecture, dict) else None,
    ]
    return any(isinstance(m, list) and "image" in m[:20] for m in modalities)


def display_name(model_id: str) -> str:
    """A readable name for a model id without a catalog entry: its last path part."""
    return model_id.rsplit("/", 1)[-1].removesuffix(".gguf")


def built_in(model_id: str) -> CatalogEntry:
    """The built-in facts for a model, or defaults for one we do not know.

    An unknown model gets a modest window, and tools are left to the provider to accept.
    """
    return BUILT_IN.get(model_id) or CatalogEntry(
        model_id, display_name(model_id), DEFAULT_CONTEXT_WINDOW, True
    )


def _from_row(row: ModelInfo) -> CatalogEntry:
    return CatalogEntry(
        row.model_id,
        row.display_name or built_in(row.model_id).display_name,
        row.context_window,
        row.supports_tools,
        row.supports_images,
    )


_rows_lock = threading.Lock()
_rows: tuple[float, dict[str, ModelInfo]] | None = None  # (loaded at, rows by model id)


def load_rows() -> dict[str, ModelInfo]:
    """Read every ModelInfo row into this process's memory (one query); return them."""
    global _rows
    rows = catalog_selectors.model_info_all(limit=MAX_ROWS)
    with _rows_lock:
        _rows = (time.monotonic(), rows)
    return rows


def rows(*, max_age: float = ROWS_TTL) -> dict[str, ModelInfo]:
    """Staff's model rows by id, from memory; read again when older than `max_age`."""
    cached = _rows
    if cached is None or time.monotonic() - cached[0] > max_age:
        return load_rows()
    return cached[1]


def cached_rows() -> dict[str, ModelInfo] | None:
    """The rows in memory, however old, or None before the first load (never a query)."""
    cached = _rows
    return cached[1] if cached else None


def forget_rows() -> None:
    """Drop the rows in memory (tests; each starts from an empty database)."""
    global _rows
    with _rows_lock:
        _rows = None


def model_info(model_id: str) -> CatalogEntry:
    """Everything known of one model: staff's row first, then the built-in catalog."""
    row = rows().get(model_id)
    return _from_row(row) if row else built_in(model_id)


def merge(provider_ids: list[str], *, user_id: int | None = None) -> list[CatalogEntry]:
    """Catalog entries for the provider's models, less those staff disabled and, given a
    user, those kept to groups they are not in."""
    known = rows()
    rows_by_id = {model_id: known[model_id] for model_id in provider_ids if model_id in known}
    access = access_policy.current().user(user_id) if user_id is not None else None
    entries = []
    for model_id in provider_ids:
        row = rows_by_id.get(model_id)
        if row is not None and not row.enabled:
            continue
        if access is not None and not access.may(kinds.MODEL, model_id):
            continue
        entries.append(_from_row(row) if row else built_in(model_id))
    return entries
