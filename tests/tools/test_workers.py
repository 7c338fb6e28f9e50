"""Tool worker processes: whatever a tool returns comes back as bounded text, whatever it
raises is its result, and a tool that takes more memory than a worker may have fails alone."""

import json

import pytest
from django.conf import settings

from conversations.tools import workers
from tests.tools.tools_for_tests import greedy_tool, sleepy_tool


def test_a_result_is_text_bounded_in_length():
    assert workers.as_result(sleepy_tool, {"seconds": 0}) == "awake"
    assert workers.as_result(lambda: {"sum": 3, "at": 1.5}, {}) == json.dumps({"sum": 3, "at": 1.5})
    long = workers.as_result(lambda: "x" * (workers.MAX_RESULT_CHARS + 10), {})
    assert long == "x" * workers.MAX_RESULT_CHARS + "\n[truncated]"


def test_what_a_tool_raises_is_its_result():
    def stops():
        raise StopIteration("done early")

    assert workers.as_result(stops, {}) == "Error: StopIteration: done early"
    assert workers.as_result(sleepy_tool, {"nap": 1}).startswith("Error: TypeError: ")

    def says_too_much():
        raise ValueError("v" * 10**6)

    assert len(workers.as_result(says_too_much, {})) == workers.MAX_RESULT_CHARS


@pytest.mark.skipif(not settings.CHAT_TOOL_MEMORY_MB, reason="no memory limit set")
async def test_a_tool_over_the_memory_limit_fails_and_the_next_call_works():
    over = settings.CHAT_TOOL_MEMORY_MB * 2
    result = await workers.call(greedy_tool, {"megabytes": over}, timeout=30)
    assert result == "Error: MemoryError: "
    assert await workers.call(greedy_tool, {"megabytes": 1}, timeout=30) == "took 1 MB"
