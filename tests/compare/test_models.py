from conversations.compare.models import CompareReply


def test_a_reply_is_named_by_its_persona_and_model_or_its_model_alone():
    assert CompareReply(model="m/one").label == "m/one"
    assert CompareReply(model="m/one", persona_name="Editor").label == "Editor · m/one"
