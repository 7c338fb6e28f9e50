"""What every frame model shares: strict types, and a `type` every frame carries.

Strict: an integer field takes no `true` and no `"3"`, a string field no number, as the
protocol always said (JSON's types, never coerced). Every model's `type` is a literal
with a default, so code builds a frame without naming its type twice; the schema still
lists it as required, since a frame without one is no frame of ours.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict


def _type_required(schema: dict[str, Any], model: type[BaseModel]) -> None:
    required = schema.setdefault("required", [])
    if "type" in model.model_fields and "type" not in required:
        required.insert(0, "type")


class Frame(BaseModel):
    """Any frame or message of the protocol."""

    @classmethod
    def build(cls, **fields: Any) -> dict[str, Any]:
        """This frame as the dict that is sent, every field checked by the model.

        Straight through pydantic-core's validator and serializer: the same checks and
        output as `cls(**fields).model_dump()`, in half the time (bench/bench_frames.py).
        """
        frame = cls.__pydantic_validator__.validate_python(fields)
        return cls.__pydantic_serializer__.to_python(frame)


class Built(Frame):
    """A frame the server builds for a browser (or a part of one): a field not declared is
    refused, so nothing reaches a client that the models, and so the schema, do not
    describe."""

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra=_type_required)


class Received(Frame):
    """A frame from a browser, or a message from another server process: fields this
    process does not know are ignored, so a newer page or process still talks to an older
    one while a deployment rolls out."""

    model_config = ConfigDict(strict=True, extra="ignore", json_schema_extra=_type_required)


def frame_type(model: type[BaseModel]) -> str:
    """The `type` a frame model carries."""
    return model.model_fields["type"].default
