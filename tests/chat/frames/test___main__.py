"""`python -m conversations.chat.frames`: writes docs/protocol.schema.json, and with
`--check` says whether it is up to date."""

from conversations.chat.frames import __main__ as command
from conversations.chat.frames import schema


def test_check_passes_on_the_committed_schema(capsys):
    assert command.main(["--check"]) == 0


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "protocol.schema.json"
    stale.write_text("{}")
    monkeypatch.setattr(command, "PATH", stale)
    assert command.main(["--check"]) == 1
    assert command.main([]) == 0
    assert stale.read_text() == schema.render()
    assert command.main(["--check"]) == 0
