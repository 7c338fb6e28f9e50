"""What users and reviewers send, checked: from JSON, only strings (and lists of strings)
are text; categories must belong to their rating; a report says what is wrong."""

import pytest

from conversations.review.forms import CorrectionForm, FeedbackForm, ReportForm


def test_feedback_takes_its_ratings_categories_and_keeps_each_once():
    form = FeedbackForm({"rating": "down", "categories": ["wrong", "wrong"], "comment": " No. "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"rating": "down", "categories": ["wrong"], "comment": "No."}


def test_categories_must_be_of_the_rating_given():
    form = FeedbackForm({"rating": "up", "categories": ["wrong"]})
    assert not form.is_valid()
    assert form.errors["categories"] == ["Not categories of a thumbs up: ['wrong']."]


@pytest.mark.parametrize(
    "data",
    [
        {"rating": ["down"]},
        {"rating": "down", "comment": {"text": "x"}},
        {"rating": "down", "comment": 5},
        {"rating": "down", "categories": "wrong"},
        {"rating": "down", "categories": ["wrong", 1]},
        {"rating": "sideways"},
    ],
)
def test_anything_but_strings_from_json_is_refused(data):
    assert not FeedbackForm(data).is_valid()


def test_a_null_is_the_same_as_leaving_a_field_out():
    form = FeedbackForm({"rating": "up", "categories": None, "comment": None})
    assert form.is_valid() and form.cleaned_data["comment"] == ""


def test_a_report_needs_a_category_or_a_comment():
    assert not ReportForm({}).is_valid()
    assert ReportForm({"comment": "It leaked a name."}).is_valid()
    assert ReportForm({"categories": ["privacy"]}).is_valid()
    assert not ReportForm({"categories": ["not_a_category"]}).is_valid()


def test_a_correction_keeps_its_spacing_but_cannot_be_blank():
    form = CorrectionForm({"content": "  indented code\n"})
    assert form.is_valid() and form.cleaned_data["content"] == "  indented code\n"
    assert not CorrectionForm({"content": " \n "}).is_valid()
