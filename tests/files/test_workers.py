"""Reading runs in worker processes: one past its time or its memory is killed and
replaced, and the upload is refused with words that say which."""

import time

import pytest
from PIL import Image

from conversations.files import workers
from conversations.files.reading import Refused
from tests.files import samples


@pytest.fixture
def fresh_pool():
    """A pool started with this test's limits, ended after it."""
    workers.stop()
    yield
    workers.stop()


def read(tmp_path, name: str, data: bytes) -> dict:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return workers.read(str(path), name=name, out_path=str(tmp_path / "out"))


def test_a_file_is_read_in_a_worker(tmp_path, fresh_pool):
    assert read(tmp_path, "a.txt", b"hello")["text"] == "hello"
    with pytest.raises(Refused, match="SVG"):
        read(tmp_path, "a.svg", samples.SVG)


def test_a_slow_pdf_is_stopped_at_its_time_and_the_next_file_is_read(
    tmp_path, settings, fresh_pool
):
    settings.CHAT_FILE_TIMEOUT = 1
    settings.CHAT_FILE_MAX_CHARS = 10**8
    read(tmp_path, "warm.txt", b"start the pool")
    began = time.monotonic()
    with pytest.raises(Refused, match="took longer than 1 s"):
        read(tmp_path, "slow.pdf", samples.slow_pdf(60))  # About 8 s to read whole.
    assert time.monotonic() - began < 4
    assert read(tmp_path, "after.txt", b"still here")["text"] == "still here"


def test_a_file_that_needs_more_memory_than_allowed_is_refused(tmp_path, settings, fresh_pool):
    settings.CHAT_FILE_MEMORY_MB = 400
    settings.CHAT_MAX_IMAGE_PIXELS = 200_000_000
    huge = samples.png_bomb(12_000, 12_000)  # 144 Mpixels: 432 MB once made RGB.
    with pytest.raises(Refused, match="more than 400 MB of memory"):
        read(tmp_path, "huge.png", huge)
    small = read(tmp_path, "small.png", samples.image("PNG", (20, 20)))
    assert (small["width"], small["height"]) == (20, 20)
    assert Image.open(tmp_path / "out").size == (20, 20)
