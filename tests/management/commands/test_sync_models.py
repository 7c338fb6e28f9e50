"""`manage.py sync_models`: the provider's chat models into the catalog, and a provider
that fails is an error that says why."""

import socket

import pytest
from django.core.management import CommandError, call_command

from conversations.catalog.models import ModelInfo

pytestmark = pytest.mark.django_db(transaction=True)  # The command runs its own loop.


def test_listed_models_are_added_and_missing_ones_marked(fake_upstream, capsys):
    ModelInfo.objects.create(model_id="org/retired", available=True)
    fake_upstream.list_models("org/new-model", "org/other-model")
    call_command("sync_models")
    out = capsys.readouterr().out
    assert out.endswith(" no longer listed by the provider.\n")
    rows = {row.model_id: row.available for row in ModelInfo.objects.all()}
    assert rows["org/new-model"] and rows["org/other-model"]
    assert rows["org/retired"] is False
    added = int(out.split(" models added")[0])
    call_command("sync_models")
    assert capsys.readouterr().out.startswith("0 models added")  # Nothing new the second time.
    assert added >= 2


def test_a_provider_that_cannot_be_reached_is_an_error_that_says_so(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # Nothing listens on it once closed.
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(CommandError, match="Could not reach the model provider"):
        call_command("sync_models")
    assert not ModelInfo.objects.filter(available=False).exists()  # Nothing marked gone.
