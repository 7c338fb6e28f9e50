"""A conversation worth sharing: a question with a file, a tool's step, and a reply."""

from conversations.files import services as file_services
from conversations.llm import ToolCall
from conversations.models import Conversation, Message
from tests.factories import message_append, message_finish
from tests.files.helpers import attach

HOSTILE = (
    'Look: <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script> '
    "![tracker](https://evil.example/leak.png) [click](javascript:alert(1)) "
    "$\\href{javascript:alert(1)}{x}$ **bold**"
)


def shared_conversation(
    user, tmp_path=None, *, reply: str = "The answer is **42**."
) -> Conversation:
    conversation = Conversation.objects.create(
        owner=user, title="Deep thought", system_prompt="Be terse."
    )
    question = message_append(
        conversation=conversation, role=Message.Role.USER, content="What is it?", parent=None
    )
    if tmp_path is not None:
        note = attach(user, "notes.txt", b"secret notes\n", tmp_path)
        file_services.attachments_link(message=question, attachments=[note])
    call = message_append(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        parent=question,
        status=Message.Status.STREAMING,
        request={"messages": [{"role": "system", "content": "Be terse."}]},
    )
    message_finish(
        message_id=call.pk,
        status=Message.Status.COMPLETE,
        content="",
        tool_calls=[ToolCall(id="c1", name="calculator", arguments='{"expression": "6*7"}')],
    )
    result = message_append(
        conversation=conversation,
        role=Message.Role.TOOL,
        content="42",
        parent=call,
        tool_call_id="c1",
        tool_name="calculator",
    )
    answer = message_append(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=reply,
        parent=result,
        model="test-model",
    )
    conversation.refresh_from_db()
    assert conversation.current_leaf_id == answer.pk
    return conversation
