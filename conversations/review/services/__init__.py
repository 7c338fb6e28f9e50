"""Writes of the review app. Every change it makes to the database is in one of these
modules (the dashboard's daily rollups aside: stats.py writes those):

- queue: the review queue, and the hooks the conversations app calls as messages are
  saved;
- users: users' feedback, reports and dataset opt-outs;
- annotations: reviewers' scores, notes and corrections;
- audit: the audit log;
- locks: reviewers' locks on the queue items they have open;
- deletion: staff deleting a conversation, and the audit log's record of deletions.

Callers import this package (`from conversations.review import services`): every
public function is here by name.
"""

from .annotations import BadScore, correction_add, note_add, parse_value, score_clear, score_set
from .audit import audit_record, audit_record_many
from .deletion import conversation_delete_by_staff, deletions_log, deletions_record
from .locks import lock_release, lock_take
from .queue import (
    TRANSITIONS,
    BadTransition,
    NotQueueable,
    message_created,
    queue_add,
    queue_add_many,
    queue_assign,
    queue_auto,
    queue_drop_untouched,
    queue_set_status,
    reply_continued,
    reply_finished,
)
from .users import (
    dataset_opt_out_set,
    feedback_set,
    feedback_withdraw,
    report_set,
    report_withdraw,
)

__all__ = [
    "TRANSITIONS",
    "BadScore",
    "BadTransition",
    "NotQueueable",
    "audit_record",
    "audit_record_many",
    "conversation_delete_by_staff",
    "correction_add",
    "dataset_opt_out_set",
    "deletions_log",
    "deletions_record",
    "feedback_set",
    "feedback_withdraw",
    "lock_release",
    "lock_take",
    "message_created",
    "note_add",
    "parse_value",
    "queue_add",
    "queue_add_many",
    "queue_assign",
    "queue_auto",
    "queue_drop_untouched",
    "queue_set_status",
    "reply_continued",
    "reply_finished",
    "report_set",
    "report_withdraw",
    "score_clear",
    "score_set",
]
