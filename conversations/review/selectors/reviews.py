"""Reads for several reviewers per item: each queue item's progress towards the reviews
its score configs ask for, reviewers' disagreements, and the scores agreement rests on.

An item's reviews for a config are the distinct reviewers who scored its reply against
that config; for an item on a whole conversation (a report, one added by hand without a
reply), those who scored any reply of the conversation. Everything the queue filters on
is one SQL expression, so the changelist's count and page are one query each, however
many items or configs there are.
"""

import datetime as dt
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from ... import selectors as conversation_selectors
from ..models import QueueItem, Score, ScoreConfig

# Numbers disagree when their spread is above this share of the config's range (on 1 to
# 5: a 3 against a 5 disagrees, a 4 against a 5 does not); yes/no and categories when
# they are not all the same.
NUMERIC_DISAGREEMENT = 0.25


def _item_scores(*, message: Any, conversation: Any) -> QuerySet[Score]:
    """Scores of an item's reply or, for an item without one (`message` null), of any reply
    of its conversation. `message` and `conversation` are expressions on the item."""
    return Score.objects.filter(
        conversation_id=conversation,
        message_id=Coalesce(message, F("message_id")),
    )


def _reviewers(*, config: Any, message: Any, conversation: Any) -> Coalesce:
    """How many distinct reviewers scored the item against the config (0 for none)."""
    counted = (
        _item_scores(message=message, conversation=conversation)
        .filter(config_id=config)
        .order_by()
        .values("config_id")
        .annotate(n=Count("author_id", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def multi_review_configs() -> list[ScoreConfig]:
    """Active configs that ask for more than one review per item, by name."""
    return list(ScoreConfig.objects.filter(active=True, reviews_required__gt=1))


def review_progress(
    *, item_ids: list[int], configs: list[ScoreConfig]
) -> dict[int, tuple[int, int] | None]:
    """Per item: (reviews, required) for the config it is least far along in, or None when
    no config asks for more than one. One query for all the items."""
    if not configs:
        return dict.fromkeys(item_ids)
    counts = (
        QueueItem.objects.filter(pk__in=item_ids)
        .order_by()
        .annotate(
            **{
                f"c{c.pk}": _reviewers(
                    config=Value(c.pk),
                    message=OuterRef("message_id"),
                    conversation=OuterRef("conversation_id"),
                )
                for c in configs
            }
        )
        .values("pk", *(f"c{c.pk}" for c in configs))
    )
    progress: dict[int, tuple[int, int] | None] = dict.fromkeys(item_ids)
    for row in counts:
        pairs = [(min(row[f"c{c.pk}"], c.reviews_required), c.reviews_required) for c in configs]
        # On a tie, the config asking for more: "0/3" says more of what is left than "0/2".
        progress[row["pk"]] = min(pairs, key=lambda pair: (pair[0] / pair[1], -pair[1]))
    return progress


def needing_reviews_q() -> Q:
    """Items that, for some active config asking for several reviews, have fewer."""
    short = (
        ScoreConfig.objects.filter(active=True, reviews_required__gt=1)
        .annotate(
            n=_reviewers(
                config=OuterRef("pk"),
                message=OuterRef(OuterRef("message_id")),
                conversation=OuterRef(OuterRef("conversation_id")),
            )
        )
        .filter(n__lt=F("reviews_required"))
    )
    return Q(Exists(short))


def disagreeing_q(*, config_id: int | None = None) -> Q:
    """Items whose reply (for an item on a whole conversation, some reply of it) has, for
    an active config (or the one given), scores from reviewers that differ: categories or
    yes/no not all the same, numbers spread over more than a quarter of the range."""
    scores = _item_scores(message=OuterRef("message_id"), conversation=OuterRef("conversation_id"))
    scores = scores.filter(config__active=True)
    if config_id is not None:
        scores = scores.filter(config_id=config_id)
    threshold = Case(
        When(
            config__kind=ScoreConfig.Kind.NUMERIC,
            then=(F("config__max_value") - F("config__min_value")) * NUMERIC_DISAGREEMENT,
        ),
        default=Value(0.0),
        output_field=FloatField(),
    )
    differing = (
        scores.order_by()
        .values("config_id", "message_id", "config__kind", "config__min_value", "config__max_value")
        .annotate(
            categories=Count("category", distinct=True),
            spread=Max("value") - Min("value"),
        )
        .filter(
            Q(config__kind=ScoreConfig.Kind.CATEGORICAL, categories__gt=1)
            | (~Q(config__kind=ScoreConfig.Kind.CATEGORICAL) & Q(spread__gt=threshold))
        )
    )
    return Q(Exists(differing))


def agreement_configs() -> list[ScoreConfig]:
    """The configs the agreement page reports on: the active ones, by name."""
    return list(ScoreConfig.objects.filter(active=True))


def agreement_scores(
    *,
    config: ScoreConfig,
    since: dt.date | None,
    until: dt.date | None,
    limit: int,
) -> tuple[list[tuple[int, int, float | None, str]], bool]:
    """(reply id, reviewer id, value, category) of the config's newest `limit` scores,
    scored (last changed) within the dates, on replies scored by at least two reviewers;
    and whether older scores were left out."""
    scores = Score.objects.filter(
        conversation_selectors.within_days("updated_at", since=since, until=until), config=config
    )
    newest = list(
        scores.order_by("-updated_at", "-id").values_list(
            "message_id", "author_id", "value", "category"
        )[: limit + 1]
    )
    truncated = len(newest) > limit
    newest = newest[:limit]
    reviewers: dict[int, int] = {}
    for message_id, *_ in newest:
        reviewers[message_id] = reviewers.get(message_id, 0) + 1
    return [row for row in newest if reviewers[row[0]] >= 2], truncated
