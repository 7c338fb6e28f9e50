"""The offline model's server as `manage.py serve` starts it: its options, no start when
its parent is already gone, and a model it cannot load said plainly."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from conversations.provider import local_model, local_server


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "conversations.provider.local_server", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_its_options_and_their_defaults():
    args = local_server.parse_args(["--model", "m.gguf", "--alias", "small", "--port", "8081"])
    assert (args.model, args.alias, args.port, args.ctx, args.parallel) == (
        "m.gguf",
        "small",
        8081,
        8192,
        2,
    )
    assert args.threads == max(1, (os.cpu_count() or 2) - 1)  # A core left to the app.
    assert args.parent_pid is None
    with pytest.raises(SystemExit):
        local_server.parse_args(["--alias", "small", "--port", "8081"])  # No model.


def test_a_server_whose_parent_is_gone_does_not_start(tmp_path):
    not_its_parent = os.getppid()  # Its parent is this test process.
    result = run(
        "--model", str(tmp_path / "m.gguf"), "--alias", "x", "--port", "1",
        "--parent-pid", str(not_its_parent),
    )  # fmt: skip
    assert result.returncode == 1
    assert f"Parent process {not_its_parent} is gone" in result.stderr
    assert "Serving" not in result.stdout


def test_a_model_it_cannot_load_is_a_clear_error(tmp_path):
    if not local_model.installed():
        pytest.skip("local extra not installed")
    weights = tmp_path / "broken.gguf"
    weights.write_text("not a model")
    result = run("--model", str(weights), "--alias", "x", "--port", "1", "--threads", "1")
    assert result.returncode == 1
    assert f"Could not serve {weights} on 127.0.0.1:1: " in result.stderr
