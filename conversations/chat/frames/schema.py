"""docs/protocol.schema.json, made from the models: `python -m conversations.chat.frames`
writes it, and a test fails when the file and the code differ.

Validation-mode schemas throughout: a field that may be left out (a default, or MISSING)
is not required, whatever the direction of the frame.
"""

import json
from pathlib import Path

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from .registry import ClientFrame, ProcessMessage, ServerFrame

PATH = Path(__file__).resolve().parents[3] / "docs" / "protocol.schema.json"


class _Schema(GenerateJsonSchema):
    def field_title_should_be_set(self, schema) -> bool:
        return False  # "title": "Conversation" beside "conversation" says nothing.


class _Protocol(BaseModel):
    client: ClientFrame  # type: ignore[valid-type]
    server: ServerFrame  # type: ignore[valid-type]
    process: ProcessMessage  # type: ignore[valid-type]


def protocol_schema() -> dict:
    """The whole protocol as one JSON Schema (draft 2020-12)."""
    made = _Protocol.model_json_schema(schema_generator=_Schema)
    defs = made["$defs"]
    unions = {
        "ClientFrame": ("client", "A frame a browser sends the server."),
        "ServerFrame": ("server", "A frame the server sends a browser."),
        "ProcessMessage": ("process", "A message between server processes (never to a browser)."),
    }
    for name, (field, description) in unions.items():
        defs[name] = {"description": description, **made["properties"][field]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Chat websocket protocol, version 1",
        "description": (
            "Every frame on /ws/chat/, and every message between server processes. Made from "
            "conversations/chat/frames by `python -m conversations.chat.frames`; do not edit. "
            "docs/protocol.md says what each frame and field means."
        ),
        "oneOf": [{"$ref": "#/$defs/ClientFrame"}, {"$ref": "#/$defs/ServerFrame"}],
        "$defs": dict(sorted(defs.items())),
    }


def render() -> str:
    """The schema as the file holds it."""
    return json.dumps(protocol_schema(), indent=2, ensure_ascii=False) + "\n"
