"""Dataset lines, straight from the exports: a good reply after the messages exactly as
sent (earlier replies not trained on), a correction in place of the reply it corrects,
preference pairs from a reply's versions and from compare choices, and every annotation
as one flat line."""

import pytest

from conversations.review import exports
from conversations.review import services as review
from tests.compare.builders import compare
from tests.review.builders import chat, rate, reply

pytestmark = pytest.mark.django_db


def test_a_good_reply_follows_what_was_sent_and_only_it_is_trained_on(user):
    conversation = chat(user, turns=2)
    second = conversation.current_leaf
    rate(second, "up")
    [(cid, line)] = list(exports.finetune([conversation.pk]))
    assert cid == conversation.pk
    assert line["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "question 0"},
        {"role": "assistant", "content": "answer 0", "weight": 0},
        {"role": "user", "content": "question 1"},
        {"role": "assistant", "content": "answer 1"},
    ]
    assert "tools" not in line


def test_a_correction_takes_the_place_of_the_reply(user, reviewer):
    conversation = chat(user)
    answer = conversation.current_leaf
    rate(answer, "up")
    review.correction_add(author=reviewer, message=answer, content="A better answer.")
    [(_, line)] = list(exports.finetune([conversation.pk]))
    assert line["messages"][-1] == {"role": "assistant", "content": "A better answer."}


def test_a_reply_without_a_record_of_what_was_sent_is_left_out(user):
    conversation = chat(user)
    unrecorded = reply(conversation, conversation.current_leaf.parent, "again", sent=[])
    rate(unrecorded, "up")
    assert list(exports.finetune([conversation.pk])) == []


def test_versions_of_a_reply_make_preference_pairs(user):
    conversation = chat(user)
    first = conversation.current_leaf
    second = reply(conversation, first.parent, "a better one", sent=[first.parent_id])
    rate(first, "down")
    rate(second, "up")
    [(_, line)] = list(exports.preference([conversation.pk]))
    assert line["preferred_output"] == [{"role": "assistant", "content": "a better one"}]
    assert line["non_preferred_output"] == [{"role": "assistant", "content": "answer 0"}]
    assert line["input"]["messages"][-1] == {"role": "user", "content": "question 0"}


def test_annotations_are_flat_lines(user, reviewer):
    conversation = chat(user)
    answer = conversation.current_leaf
    rate(answer, "down", comment="Too short.")
    review.note_add(author=reviewer, conversation=conversation, message=answer, text="Agreed.")
    lines = [line for _, line in exports.annotations([conversation.pk])]
    assert [(line["type"], line["message"], line["model"]) for line in lines] == [
        ("note", answer.pk, "m"),
        ("feedback", answer.pk, "m"),
    ]
    assert lines[0]["text"] == "Agreed." and lines[0]["author"] == "rita"


def test_a_compare_choice_pairs_the_winner_with_each_other_reply(user):
    chosen = compare(user, ["m/a", "m/b", "m/c"], chosen=1, texts=["A", "B", "C"])
    lines = [line for _, line in exports.preference([chosen.conversation_id])]
    pairs = [
        (x["preferred_output"][0]["content"], x["non_preferred_output"][0]["content"])
        for x in lines
    ]
    assert sorted(pairs) == [("B", "A"), ("B", "C")]
    question = chosen.group.prompt
    assert lines[0]["input"]["messages"][-1] == {"role": "user", "content": question.content}


def test_a_tie_an_all_bad_or_no_choice_yet_gives_no_pair(user):
    tie = compare(user, ["m/a", "m/b"], verdict="tie", texts=["A", "B"])
    bad = compare(user, ["m/a", "m/b"], verdict="both_bad", texts=["C", "D"])
    undecided = compare(user, ["m/a", "m/b"], texts=["E", "F"])
    undecided.delete()  # The compare stands; its user has not chosen yet.
    ids = [tie.conversation_id, bad.conversation_id, undecided.conversation_id]
    assert list(exports.preference(ids)) == []


def test_thumbs_on_compared_replies_still_pair_and_a_pair_goes_once(user):
    chosen = compare(user, ["m/a", "m/b"], chosen=0, texts=["A", "B"])
    winner, loser = (r.message for r in chosen.group.replies.all())
    rate(winner, "up")
    rate(loser, "down")
    lines = [line for _, line in exports.preference([chosen.conversation_id])]
    assert [
        (x["preferred_output"][0]["content"], x["non_preferred_output"][0]["content"])
        for x in lines
    ] == [("A", "B")]
