"""`manage.py serve`: when it starts the offline model, how it fails, and how it stops."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from conversations.provider import local_model


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, True),
        ({"LLM_API_KEY": "k"}, False),
        ({"HYPERBOLIC_API_KEY": "k"}, False),
        ({"LLM_BASE_URL": "http://127.0.0.1:1/v1"}, False),
        ({"LLM_API_KEY": ""}, True),
    ],
)
def test_local_model_only_without_a_provider(environ, wanted):
    """Read where every setting is read (chatsite.settings), from this environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "HYPERBOLIC_"))}
    code = "from django.conf import settings; print(settings.LLM_OFFLINE)"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "chatsite.settings_test", **environ},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(wanted)


def test_model_server_gets_none_of_our_settings():
    env = local_model.server_env(
        {"PATH": "/bin", "PORT": "8000", "HOST": "0.0.0.0", "MODEL": "x", "LC_ALL": "C"}
    )
    assert env == {"PATH": "/bin", "LC_ALL": "C"}


def test_weights_ship_in_the_package():
    if not local_model.installed():
        pytest.skip("local extra not installed")
    path = local_model.weights_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    command = local_model.server_command(port=9999, parent_pid=1)
    assert command[1:3] == ["-m", "conversations.provider.local_server"] and str(path) in command
    assert command[-2:] == ["--parent-pid", "1"]


def test_port_in_use_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(
            CommandError, match=f"Port {port} on 127.0.0.1 is already in use.*PORT={port + 1}"
        ):
            call_command("serve", host="127.0.0.1", port=port)


def test_local_port_in_use_is_a_clear_error(monkeypatch):
    if not local_model.installed():
        pytest.skip("local extra not installed")
    for name in ("LLM_API_KEY", "HYPERBOLIC_API_KEY", "LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        with pytest.raises(
            CommandError,
            match=f"Port {busy} \\(the local model server\\) is already in use.*"
            f"LOCAL_MODEL_PORT={busy + 1}",
        ):
            call_command("serve", host="127.0.0.1", port=free_port(), local_port=busy)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(*, local: bool, parent: bool = False):
    """`manage.py serve` in a process group of its own (under a stand-in for make when
    `parent`); yields (the top process, the ports). Everything left is killed after."""
    port, local_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "HYPERBOLIC_"))}
    env["DJANGO_SECRET_KEY"] = "test-only-secret"
    if not local:
        env["LLM_BASE_URL"] = "http://127.0.0.1:9/v1"
    command = [sys.executable, "manage.py", "serve", f"--port={port}", f"--local-port={local_port}"]
    if parent:
        command = [sys.executable, "-c", STAND_IN_FOR_MAKE, *command, "--exit-with-parent"]
    top = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ports = [port, local_port] if local else [port]
    try:
        deadline = time.monotonic() + 120
        while not all(listening(p) for p in ports):
            assert top.poll() is None, f"serve exited early ({top.returncode})"
            assert time.monotonic() < deadline, "serve did not start in time"
            time.sleep(0.2)
        yield top, ports
    finally:
        try:
            os.killpg(top.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        top.wait()


STAND_IN_FOR_MAKE = "import subprocess, sys; subprocess.run(sys.argv[1:])"


def wait_closed(ports: list[int], seconds: float = 15) -> list[int]:
    """The ports still listening after up to `seconds`."""
    deadline = time.monotonic() + seconds
    while any(listening(p) for p in ports) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [p for p in ports if listening(p)]


def test_ctrl_c_stops_everything():
    with serving(local=False) as (serve, ports):
        os.killpg(serve.pid, signal.SIGINT)  # What a terminal's Ctrl-C does.
        assert serve.wait(20) == 0
        assert wait_closed(ports) == []


def test_killing_serve_stops_both_servers():
    if not local_model.installed():
        pytest.skip("local extra not installed")
    with serving(local=True) as (serve, ports):
        serve.kill()  # SIGKILL to serve alone: its children must not outlive it.
        serve.wait()
        assert wait_closed(ports) == []


def test_killing_make_stops_serve_and_its_children():
    with serving(local=False, parent=True) as (make, ports):
        make.kill()
        make.wait()
        assert wait_closed(ports) == []


def test_a_child_whose_parent_is_already_gone_does_not_start():
    not_its_parent = os.getppid()  # Its parent is this test process.
    result = subprocess.run(
        [sys.executable, "-m", "conversations.management.supervision", str(not_its_parent), "this"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"Parent process {not_its_parent} is gone" in result.stderr
    assert "The Zen of Python" not in result.stdout  # The module never ran.
