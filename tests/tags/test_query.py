"""`tag:` in a search query, taken apart from its words."""

from conversations.tags import query


def test_a_tag_alone_with_words_and_quoted():
    assert query.split("tag:work") == (["work"], "")
    assert query.split("tag:work budget  plan") == (["work"], "budget plan")
    assert query.split('budget tag:"two words" tag:x') == (["two words", "x"], "budget")
    assert query.split("TAG:Work") == (["Work"], "")


def test_only_at_a_word_start_and_bounded():
    assert query.split("mytag:work") == ([], "mytag:work")
    many = " ".join(f"tag:t{i}" for i in range(20))
    assert query.split(many)[0] == [f"t{i}" for i in range(query.MAX_TAGS_IN_QUERY)]
