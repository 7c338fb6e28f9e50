"""A prompt's variables: `{{name}}` or `{{name:default}}`, bounded, filled in one pass."""

import time

import pytest
from django.core.exceptions import ValidationError

from conversations.prompts.variables import (
    MAX_TEXT_CHARS,
    MAX_VARIABLES,
    Variable,
    fill,
    validate_text,
    variables,
)


def test_names_and_defaults_in_order_of_first_use():
    text = "Summarise {{ topic }} for {{audience:a new hire}}, again {{topic:ignored}} {{date}}"
    assert variables(text) == [
        Variable("topic"),
        Variable("audience", "a new hire"),
        Variable("date"),
    ]
    assert variables(text)[2].built_in and not variables(text)[0].built_in


@pytest.mark.parametrize(
    "text",
    [
        "{{}}",
        "{{ 1abc }}",
        "{{a b}}",
        "{single}",
        "{{name:with {brace}}}",
        "{{name:line\nbreak}}",
        "{{" + "a" * 33 + "}}",
        "{{name:" + "d" * 201 + "}}",
    ],
)
def test_anything_else_between_braces_is_plain_text(text):
    assert variables(text) == []
    assert fill(text, {"a": "X", "name": "X"}) == text


def test_filling_is_one_pass_a_value_is_never_read_for_variables():
    text = "{{a}} and {{b:two}}"
    assert fill(text, {"a": "{{b}}"}) == "{{b}} and two"
    assert fill(text, {}) == " and two"


def test_the_number_of_variables_and_the_length_are_bounded():
    many = " ".join(f"{{{{v{i}}}}}" for i in range(MAX_VARIABLES + 5))
    assert len(variables(many)) == MAX_VARIABLES + 1  # Enough to say there are too many.
    with pytest.raises(ValidationError, match="at most 20 variables"):
        validate_text(many)
    validate_text(" ".join(f"{{{{v{i}}}}}" for i in range(MAX_VARIABLES)))
    with pytest.raises(ValidationError, match="at most"):
        validate_text("x" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(ValidationError, match="NUL"):
        validate_text("a\x00b")


def test_hostile_text_is_read_in_linear_time():
    hostile = "{{" + " " * 5 + "a" * 31 + ":" + "x" * 199 + "{" * 10_000
    start = time.perf_counter()
    variables(hostile * 2)
    fill(hostile * 2, {"a": "b"})
    assert time.perf_counter() - start < 0.5
