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

# Sessions ended without a request of theirs (the provider's back-channel logout), after
# their rows are deleted: `user_id` and `session_keys`. The sockets opened with them close.
sessions_ended = Signal()

# What other apps show beside the assistant messages of a page for their owner: `user_id`
# and `message_ids`. A receiver returns {field: {message_id: value}}; each message of the
# page gets every field (None where a receiver gave no value).
page_extras = Signal()

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


def write_counts() -> None:
    """Ask every receiver to write the counts it keeps (runs in the caller's transaction)."""
    counts_due.send(sender=None)
