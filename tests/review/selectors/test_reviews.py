"""Several reviewers per item: each item's progress, reviewers' disagreements and the
scores agreement rests on, each in SQL (review/selectors/reviews.py)."""

import pytest

from conversations.review import selectors
from conversations.review import services as review
from conversations.review.models import QueueItem, Score, ScoreConfig
from tests.review.builders import chat, config, queries, reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewers(django_user_model):
    return [
        django_user_model.objects.create_user(username=f"r{i}", is_staff=True) for i in range(4)
    ]


def score(author, message, name: str, raw: str) -> Score:
    message.conversation.refresh_from_db()
    return review.score_set(author=author, message=message, config=config(name), raw=raw)


def tone() -> ScoreConfig:
    return ScoreConfig.objects.create(
        name="tone", kind="categorical", categories=["terse", "chatty"], reviews_required=2
    )


def items(q) -> set[int]:
    return set(QueueItem.objects.filter(q).values_list("pk", flat=True))


def test_progress_counts_reviewers_of_the_reply_or_of_the_whole_conversation(user, reviewers):
    ScoreConfig.objects.filter(name="helpfulness").update(reviews_required=3)
    tone()
    conversation = chat(user, turns=2)
    first, second = conversation.messages.filter(role="assistant").order_by("id")
    on_reply = review.queue_auto(conversation=conversation, message=first, reason="thumbs_down")
    whole = review.queue_auto(conversation=conversation, message=None, reason="report")
    untouched = review.queue_auto(conversation=chat(user), message=None, reason="report")
    score(reviewers[0], first, "helpfulness", "4")
    score(reviewers[1], first, "helpfulness", "5")
    score(reviewers[0], first, "helpfulness", "3")  # Again: still one reviewer.
    score(reviewers[2], second, "helpfulness", "2")  # Another reply: the whole item's.
    score(reviewers[0], first, "tone", "terse")
    score(reviewers[3], second, "tone", "terse")
    configs = selectors.multi_review_configs()
    assert [c.name for c in configs] == ["helpfulness", "tone"]
    ids = [on_reply.pk, whole.pk, untouched.pk]
    progress, count = queries(lambda: selectors.review_progress(item_ids=ids, configs=configs))
    assert count == 1
    # The reply: helpfulness 2/3, tone 1/2 (the least far along).
    # The conversation: helpfulness 3/3, tone 2/2 (both replies' reviewers).
    assert progress == {on_reply.pk: (1, 2), whole.pk: (3, 3), untouched.pk: (0, 3)}
    assert items(selectors.needing_reviews_q()) == {on_reply.pk, untouched.pk}
    score(reviewers[1], first, "tone", "chatty")
    assert items(selectors.needing_reviews_q()) == {on_reply.pk, untouched.pk}  # 2/3 left.
    score(reviewers[3], first, "helpfulness", "4")
    assert items(selectors.needing_reviews_q()) == {untouched.pk}


def test_configs_asking_for_one_review_or_inactive_ones_show_no_progress(user, reviewers):
    ScoreConfig.objects.create(
        name="old", kind="boolean", reviews_required=5, active=False
    )  # Not active: not counted.
    item = review.queue_auto(conversation=chat(user), message=None, reason="report")
    assert selectors.multi_review_configs() == []
    assert selectors.review_progress(item_ids=[item.pk], configs=[]) == {item.pk: None}
    assert items(selectors.needing_reviews_q()) == set()


def test_disagreements_by_kind(user, reviewers):
    tone()
    conversations = [chat(user) for _ in range(6)]
    replies = [c.current_leaf for c in conversations]
    queued = [
        review.queue_auto(conversation=c, message=r, reason="thumbs_down")
        for c, r in zip(conversations, replies, strict=True)
    ]
    a, b, c = reviewers[:3]
    # 0: numbers 2 and 3 on 1 to 5 (spread 1, not above a quarter of 4): agree.
    score(a, replies[0], "helpfulness", "2")
    score(b, replies[0], "helpfulness", "3")
    # 1: numbers 2, 3 and 4 (spread 2): disagree.
    for author, raw in ((a, "2"), (b, "3"), (c, "4")):
        score(author, replies[1], "helpfulness", raw)
    # 2: yes and no: disagree. 3: yes and yes: agree.
    score(a, replies[2], "hallucination", "yes")
    score(b, replies[2], "hallucination", "no")
    score(a, replies[3], "hallucination", "yes")
    score(b, replies[3], "hallucination", "yes")
    # 4: two categories: disagree. 5: one reviewer alone never disagrees.
    score(a, replies[4], "tone", "terse")
    score(b, replies[4], "tone", "chatty")
    score(a, replies[5], "tone", "terse")
    score(a, replies[5], "tone", "chatty")
    pks = [item.pk for item in queued]
    assert items(selectors.disagreeing_q()) == {pks[1], pks[2], pks[4]}
    assert items(selectors.disagreeing_q(config_id=config("hallucination").pk)) == {pks[2]}
    assert items(selectors.disagreeing_q(config_id=config("helpfulness").pk)) == {pks[1]}
    # A conversation's item: some reply of it has disagreeing scores.
    whole = review.queue_auto(conversation=conversations[2], message=None, reason="report")
    assert whole.pk in items(selectors.disagreeing_q())
    # Scores on different replies of one conversation are not compared with each other.
    other = reply(conversations[3], replies[3].parent, "again", sent=[])
    score(c, other, "hallucination", "no")
    assert queued[3].pk not in items(selectors.disagreeing_q())
    # An inactive config's disagreements no longer count.
    ScoreConfig.objects.filter(name="tone").update(active=False)
    assert items(selectors.disagreeing_q()) == {pks[1], pks[2], whole.pk}


def test_agreement_reads_the_newest_scores_of_replies_with_two_reviewers(user, reviewers):
    conversation = chat(user, turns=3)
    first, second, third = conversation.messages.filter(role="assistant").order_by("id")
    score(reviewers[0], first, "helpfulness", "1")
    score(reviewers[1], first, "helpfulness", "2")
    score(reviewers[0], second, "helpfulness", "3")  # Alone on its reply.
    score(reviewers[0], third, "helpfulness", "4")
    score(reviewers[1], third, "helpfulness", "5")
    helpfulness = config("helpfulness")
    rows, truncated = selectors.agreement_scores(
        config=helpfulness, since=None, until=None, limit=10
    )
    assert not truncated
    assert sorted((m, v) for m, _, v, _ in rows) == [
        (first.pk, 1.0),
        (first.pk, 2.0),
        (third.pk, 4.0),
        (third.pk, 5.0),
    ]
    # The newest four: the first reply's older score is cut, so it has one reviewer left.
    rows, truncated = selectors.agreement_scores(
        config=helpfulness, since=None, until=None, limit=4
    )
    assert truncated
    assert sorted(v for _, _, v, _ in rows) == [4.0, 5.0]
