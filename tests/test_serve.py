"""`manage.py serve`: when it starts the offline model, and how it fails."""

import socket

import pytest
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
    assert local_model.wanted(environ) is wanted


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
    command = local_model.server_command(port=9999)
    assert command[1:3] == ["-m", "llama_cpp.server"] and str(path) in command


def test_port_in_use_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(
            CommandError, match=f"Port {port} on 127.0.0.1 is already in use.*PORT={port + 1}"
        ):
            call_command("serve", host="127.0.0.1", port=port)
