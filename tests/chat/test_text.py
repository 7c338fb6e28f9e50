"""A streaming reply's text: pieces appended, the unsent part taken once, the whole on demand."""

from conversations.chat.text import TextBuffer


def test_pieces_join_in_order_and_the_unsent_part_is_taken_once():
    buffer = TextBuffer()
    assert buffer.text() == "" and buffer.take_unsent() == "" and len(buffer) == 0
    for piece in ("Hel", "lo", "", ", wor"):
        buffer.append(piece)
    assert buffer.take_unsent() == "Hello, wor"
    assert buffer.take_unsent() == ""
    buffer.append("ld")
    assert buffer.text() == "Hello, world"
    assert buffer.take_unsent() == "ld"
    assert len(buffer) == len("Hello, world")


def test_reading_the_whole_text_keeps_later_appends():
    buffer = TextBuffer()
    buffer.append("a")
    buffer.append("b")
    assert buffer.text() == "ab"
    buffer.append("c")
    assert buffer.text() == "abc" and buffer.text() == "abc"
    assert buffer.take_unsent() == "abc"  # Reading the text sends nothing.
