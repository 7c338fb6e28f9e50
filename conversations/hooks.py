"""What the core announces, for the apps built on it (review) to act on, without knowing
them: Django signals, each sent at one moment of the core's life and documented here.

Receivers connect in their app's `ready()`. A receiver runs where the signal is sent, in
the sender's transaction if it is in one, and what it raises reaches the sender.
"""

from django.dispatch import Signal

# A reply ended and was saved (inside the transaction of its save): `message`, the saved
# Message. Review counts it for the dashboard and queues it if it failed.
reply_finished = Signal()

# A running turn added a message beside its replies (a tool's result, a closing note),
# inside the transaction that saved it: `message` and `conversation`. Review counts it and
# queues a tool's error for review.
message_added = Signal()

# A reply was continued and ended again: `message`, and `added_tokens`, the (prompt,
# completion) tokens of its last request alone.
reply_continued = Signal()

# An account is about to be deleted: `user`. A receiver that must keep something the
# account wrote raises django.db.models.ProtectedError, and nothing is deleted.
account_deleting = Signal()

# Conversations are about to be deleted, inside the transaction that deletes them (whoever
# asked: deletion/services.py): `conversations`, their (id, owner id) pairs; `reason` (user,
# staff, account, retention); `actor`, the staff member who asked (else None); `path`, the
# request's; `messages`, how many messages go with them. Review keeps tombstones of staff's
# deletions and a count of each batch a rule deleted.
conversations_deleting = Signal()

# Deletion by a rule (retention) is about to choose conversations: each receiver returns a
# query of the `conversation_id`s it holds (review: those with an unresolved queue item),
# which stay until it lets them go. Asked again, with the rows locked, before each batch.
deletion_holds = Signal()

# Sessions ended by the server, not by a request of theirs, after the transaction that
# deleted them committed: `user_id`, and `session_keys` (None: all of the account's, as
# staff's "sign out everywhere"; else those the provider's back-channel logout named).
# The sockets opened with them close (conversations/signals.py).
sessions_ended = Signal()

# What other apps show beside the assistant messages of a page for their owner: `user_id`
# and `message_ids`. A receiver returns {field: {message_id: value}}; each message of the
# page gets every field (None where a receiver gave no value).
page_extras = Signal()

# A share link was made or revoked by its owner, inside the transaction that saved it:
# `link` (sharing.models.ShareLink), `action` ("create" or "revoke"), `actor` and `request`.
# Review records it in the audit log.
share_changed = Signal()

# Counts kept in memory are due to be written (about every five seconds, by the runtime's
# save loop, inside one of its transactions).
counts_due = Signal()


def extras_for_page(*, user_id: int, message_ids: list[int]) -> dict[str, dict[int, object]]:
    """Every receiver's fields for these messages, merged."""
    extras: dict[str, dict[int, object]] = {}
    for _receiver, fields in page_extras.send(
        sender=None, user_id=user_id, message_ids=message_ids
    ):
        extras |= fields or {}
    return extras


def held_conversations() -> list:
    """Every receiver's query of conversation ids held from deletion by a rule."""
    return [held for _receiver, held in deletion_holds.send(sender=None) if held is not None]


def write_counts() -> None:
    """Ask every receiver to write the counts it keeps (runs in the caller's transaction)."""
    counts_due.send(sender=None)


# Someone who does not own a file asks for it: `user`, `attachment`, `conversations` (the
# conversations whose messages carry it) and `request`. A receiver that lets this user
# see it returns True, having recorded the showing (review: reviewers, for conversations
# in its queue, audited); with no such answer the asker is told it does not exist.
file_requested = Signal()


def may_see_file(*, user, attachment, conversations: list, request) -> bool:
    """Whether any receiver lets this user, who does not own it, see the file."""
    return any(
        allowed is True
        for _receiver, allowed in file_requested.send(
            sender=None,
            user=user,
            attachment=attachment,
            conversations=conversations,
            request=request,
        )
    )
