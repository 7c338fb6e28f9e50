"""Reads of the review app. Every query it makes is in one of these modules:

- access: which conversations staff may find and open;
- users: users' own feedback and reports, and what staff may read of theirs;
- queue: the review queue's counts and items, and who may be given them;
- transcript: what the transcript view shows beside each message;
- datasets: what dataset exports may draw on, and what they read;
- dashboard: the daily rollups and ratings the dashboard draws;
- audit: the audit log;
- reviews: several reviewers per item: progress, disagreements, agreement's scores.
- locks: who has a queue item open.

Callers import this package (`from conversations.review import selectors`): every
public function is here by name.
"""

from .access import (
    conversation_for_review,
    conversations_for,
    message_count,
    message_with_conversation,
    reviewable_q,
)
from .audit import audit_log, audit_log_about
from .dashboard import (
    active_user_total,
    daily_active_users,
    daily_latency,
    daily_ratings,
    daily_tokens_by_model,
    daily_totals,
    first_reply_owners,
    top_models,
    top_personas,
)
from .datasets import (
    compare_choices,
    conversation_owners,
    corrections_in,
    dataset_conversations,
    dataset_opt_out_count,
    dataset_personas,
    dataset_rows,
    eligible_for_datasets,
    ended_replies,
    feedback_in,
    good_replies,
    messages_by_id,
    newest_corrections,
    notes_in,
    ratings_by_message,
    scores_in,
)
from .locks import items_locked_by_others, lock_held_by_other
from .queue import (
    assignee_get,
    assignees,
    queue_counts,
    queue_item_get,
    queue_item_in,
    queue_items_chosen,
    queue_rows,
    queue_walk,
)
from .reviews import (
    agreement_configs,
    agreement_scores,
    disagreeing_q,
    multi_review_configs,
    needing_reviews_q,
    review_progress,
)
from .transcript import (
    corrections_for_messages,
    feedback_for_messages,
    files_for_messages,
    latest_children,
    message_sizes,
    message_tree,
    notes_for_conversation,
    queue_items_for_conversation,
    score_config_active,
    score_configs_active,
    scores_for_messages,
)
from .users import (
    feedback_by_message,
    feedback_data,
    opted_out,
    own_assistant_message,
    own_feedback,
    own_report,
    readable_by_staff,
    report_data,
)

__all__ = [
    "active_user_total",
    "agreement_configs",
    "agreement_scores",
    "assignee_get",
    "assignees",
    "audit_log",
    "audit_log_about",
    "compare_choices",
    "conversation_for_review",
    "conversation_owners",
    "conversations_for",
    "corrections_for_messages",
    "corrections_in",
    "daily_active_users",
    "daily_latency",
    "daily_ratings",
    "daily_tokens_by_model",
    "daily_totals",
    "dataset_conversations",
    "dataset_opt_out_count",
    "dataset_personas",
    "dataset_rows",
    "disagreeing_q",
    "eligible_for_datasets",
    "ended_replies",
    "feedback_by_message",
    "feedback_data",
    "feedback_for_messages",
    "feedback_in",
    "files_for_messages",
    "first_reply_owners",
    "good_replies",
    "items_locked_by_others",
    "latest_children",
    "lock_held_by_other",
    "message_count",
    "message_sizes",
    "message_tree",
    "message_with_conversation",
    "messages_by_id",
    "multi_review_configs",
    "needing_reviews_q",
    "newest_corrections",
    "notes_for_conversation",
    "notes_in",
    "opted_out",
    "own_assistant_message",
    "own_feedback",
    "own_report",
    "queue_counts",
    "queue_item_get",
    "queue_item_in",
    "queue_items_chosen",
    "queue_items_for_conversation",
    "queue_rows",
    "queue_walk",
    "ratings_by_message",
    "readable_by_staff",
    "report_data",
    "review_progress",
    "reviewable_q",
    "score_config_active",
    "score_configs_active",
    "scores_for_messages",
    "scores_in",
    "top_models",
    "top_personas",
]
