"""Long conversations and search at scale, against a fresh SQLite file.

Targets (issue: conversations people can live in):
- opening a 5,000-message conversation sends one page (CHAT_PAGE_SIZE messages) and
  takes well under 100 ms on the server;
- searching 10,000 conversations (20,000 messages) through the FTS5 index takes well
  under 50 ms.
Each figure is printed beside a baseline measured in the same run (the whole branch;
a LIKE scan of the same rows), since this machine is shared and noisy.

Run: make bench
"""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from fresh_django import timed

from conversations import selectors
from conversations.chat import pages
from conversations.models import Conversation, Message
from conversations.rendering.markdown import render_cache

WORDS = "the quick brown fox jumps over the lazy dog while planning a garden of tomatoes".split()


def long_conversation(user, size: int) -> Conversation:
    conversation = Conversation.objects.create(owner=user, title="Long", model="m")
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            role="user" if i % 2 == 0 else "assistant",
            content=f"Message {i}: " + " ".join(WORDS[(i + k) % len(WORDS)] for k in range(40)),
        )
        for i in range(size)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_message SET parent_id = id - 1 "
            "WHERE conversation_id = %s AND id > (SELECT MIN(id) FROM conversations_message WHERE conversation_id = %s)",
            [conversation.pk, conversation.pk],
        )
    leaf = conversation.messages.order_by("-id").first()
    Conversation.objects.filter(pk=conversation.pk).update(current_leaf=leaf)
    conversation.refresh_from_db()
    return conversation


def many_conversations(user, count: int) -> None:
    conversations = Conversation.objects.bulk_create(
        Conversation(owner=user, title=f"Chat {i}", model="m") for i in range(count)
    )
    Message.objects.bulk_create(
        Message(
            conversation=c,
            role=role,
            content=f"{role} note {i}: "
            + " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(30))
            + (" zanzibar" if i % 1000 == 0 else ""),
        )
        for i, c in enumerate(conversations)
        for role in ("user", "assistant")
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="bench")

    conversation = long_conversation(user, 5000)

    def open_page():
        render_cache.clear()  # Every run renders afresh, as a new server would.
        return pages.message_page(conversation, leaf_id=conversation.current_leaf_id)

    page = timed(open_page)
    whole = timed(lambda: selectors.message_branch(conversation=conversation), runs=5)
    count = len(pages.message_page(conversation, leaf_id=conversation.current_leaf_id)[0])
    print(
        f"open 5,000-message conversation: first page ({count} messages, rendered): {page:.1f} ms"
    )
    print(f"  baseline, whole branch read (5,000 rows, not rendered): {whole:.1f} ms")

    many_conversations(user, 10_000)
    search = timed(lambda: search.conversation_search(user_id=user.pk, query="zanzibar"))
    scan = timed(
        lambda: list(
            Message.objects.filter(
                conversation__owner=user, content__icontains="zanzibar"
            ).values_list("id")
        ),
        runs=5,
    )
    hits = search.conversation_search(user_id=user.pk, query="zanzibar")
    print(
        f"search 10,000 conversations (20,000 messages) via FTS5: {search:.1f} ms, {len(hits)} hits"
    )
    print(f"  baseline, LIKE scan of the same messages: {scan:.1f} ms (ratio {scan / search:.1f}x)")


if __name__ == "__main__":
    main()
