"""What every frame model shares (conversations/chat/frames/base.py): strict JSON types,
a `type` each carries, built frames refusing undeclared fields and received ones ignoring
them."""

from typing import Literal

import pytest
from pydantic import ValidationError

from conversations.chat.frames.base import Built, Received, frame_type


class Sent(Built):
    type: Literal["test.sent"] = "test.sent"
    count: int


class Got(Received):
    type: Literal["test.got"] = "test.got"
    count: int


def test_a_built_frame_carries_its_type_without_naming_it():
    assert Sent.build(count=3) == {"type": "test.sent", "count": 3}
    assert frame_type(Sent) == "test.sent"


def test_a_built_frame_refuses_a_field_it_does_not_declare():
    with pytest.raises(ValidationError):
        Sent.build(count=3, secret="x")


def test_a_received_frame_ignores_unknown_fields_from_a_newer_peer():
    assert Got.model_validate({"type": "test.got", "count": 1, "new": True}).count == 1


@pytest.mark.parametrize("value", ["3", True, 3.5])
def test_types_are_never_coerced(value):
    with pytest.raises(ValidationError):
        Got.model_validate({"type": "test.got", "count": value})


def test_the_schema_lists_type_as_required():
    assert Sent.model_json_schema()["required"][0] == "type"
