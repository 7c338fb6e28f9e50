"""The deletion tests' fixtures."""

import pytest

from conversations.deletion import registry
from conversations.models import Conversation


@pytest.fixture(name="cleanups")
def cleanups_fixture():
    """Register test cleanups for conversations and accounts; each call is recorded, in
    the transaction (`collected`) and after its commit (`committed`)."""

    class Recorder:
        def __init__(self) -> None:
            self.collected: list[tuple[str, object]] = []
            self.committed: list[tuple[str, object]] = []

        def conversations(self, name: str, *, fail: bool = False):
            @registry.on_conversations_deleted(name)
            def collect(conversation_ids: list[int]):
                self.collected.append((name, sorted(conversation_ids)))

                def after() -> None:
                    if fail:
                        raise RuntimeError("the disk is gone")
                    self.committed.append((name, sorted(conversation_ids)))

                return after

            return collect

        def account(self, name: str):
            @registry.on_account_deleted(name)
            def collect(user_id: int):
                remaining_rows = Conversation.objects.filter(owner_id=user_id).count()
                self.collected.append((name, (user_id, remaining_rows)))
                return lambda: self.committed.append((name, user_id))

            return collect

    before = (dict(registry.CONVERSATION_CLEANUPS), dict(registry.ACCOUNT_CLEANUPS))
    yield Recorder()
    registry.CONVERSATION_CLEANUPS.clear()
    registry.CONVERSATION_CLEANUPS.update(before[0])
    registry.ACCOUNT_CLEANUPS.clear()
    registry.ACCOUNT_CLEANUPS.update(before[1])
