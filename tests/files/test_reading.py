"""Reading a file by its bytes, never its name: text, PDFs and images accepted; SVG,
programs and disguised files refused or taken for what they are; images re-encoded clean,
bombs refused before they are decoded."""

import io

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from conversations.files import reading
from tests.files import samples

LIMITS = {"max_pixels": 1_000_000, "max_pages": 5, "max_chars": 10_000}


def read(tmp_path, name: str, data: bytes, **limits) -> dict:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return reading.read_file(
        str(path), name=name, out_path=str(tmp_path / "out"), **(LIMITS | limits)
    )


def test_text_of_every_kind_is_taken_and_labelled(tmp_path):
    assert read(tmp_path, "a.py", "print('héllo')\n".encode())["text"] == "print('héllo')\n"
    assert read(tmp_path, "a.csv", b"a,b\n")["content_type"] == "text/csv"
    assert read(tmp_path, "data.txt", b'{"a": 1}')["content_type"] == "application/json"
    assert read(tmp_path, "bom.txt", b"\xef\xbb\xbfhi")["text"] == "hi"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("logo.svg", samples.SVG, "SVG"),
        ("logo.txt", b"\n\n<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        ("run.txt", samples.EXE, "not text"),
        ("latin1.txt", "café".encode("latin-1"), "not text"),
        ("a.zip", b"PK\x03\x04" + b"\x00" * 40, "not text"),
    ],
)
def test_svg_programs_and_other_bytes_are_refused(tmp_path, name, data, words):
    with pytest.raises(reading.Refused, match=words):
        read(tmp_path, name, data)


def test_a_disguised_file_is_taken_for_what_its_bytes_are(tmp_path):
    as_png = read(tmp_path, "photo.png", samples.pdf(["Quarterly numbers"]))
    assert as_png["content_type"] == "application/pdf" and "Quarterly" in as_png["text"]
    as_txt = read(tmp_path, "notes.txt", samples.image("PNG"))
    assert as_txt["kind"] == "image" and as_txt["content_type"] == "image/png"


def test_text_past_its_characters_is_refused_with_the_numbers(tmp_path):
    with pytest.raises(reading.Refused, match="10,001 characters; at most 10,000"):
        read(tmp_path, "a.txt", b"x" * 10_001)


def test_a_pdf_past_its_pages_or_characters_is_refused(tmp_path):
    with pytest.raises(reading.Refused, match="6 pages; at most 5"):
        read(tmp_path, "a.pdf", samples.pdf(["p"] * 6))
    with pytest.raises(reading.Refused, match="more than 20 characters"):
        read(tmp_path, "a.pdf", samples.pdf(["twelve chars", "twelve chars"]), max_chars=20)


def test_a_pdf_without_text_says_so_and_a_broken_one_is_refused(tmp_path):
    scan = read(tmp_path, "scan.pdf", samples.pdf(["", ""]))
    assert (scan["text"], scan["pages"], scan["note"]) == ("", 2, "This PDF has no text layer.")
    with pytest.raises(reading.Refused, match="could not be read"):
        read(tmp_path, "bad.pdf", b"%PDF-1.7\n garbage that is not a PDF")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_images_of_each_kind_are_re_encoded(tmp_path, fmt):
    result = read(tmp_path, f"a.{fmt.lower()}", samples.image(fmt, (64, 48)))
    assert (result["kind"], result["width"], result["height"]) == ("image", 64, 48)
    stored = Image.open(tmp_path / "out")
    assert stored.format == ("JPEG" if fmt == "JPEG" else "PNG")
    assert result["content_type"] == f"image/{stored.format.lower()}"


def test_metadata_is_stripped(tmp_path):
    read(tmp_path, "a.jpg", samples.jpeg_with_exif())
    stored = (tmp_path / "out").read_bytes()
    assert b"SecretCam" not in stored and b"Exif" not in stored
    png = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "where-I-live")
    Image.new("RGB", (8, 8)).save(png, "PNG", pnginfo=info)
    read(tmp_path, "a.png", png.getvalue())
    assert b"where-I-live" not in (tmp_path / "out").read_bytes()
    # A colour profile (which can name its maker and machine) goes too.
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with_profile = io.BytesIO()
    Image.new("RGB", (8, 8)).save(with_profile, "PNG", icc_profile=profile)
    read(tmp_path, "b.png", with_profile.getvalue())
    assert "icc_profile" not in Image.open(tmp_path / "out").info


def test_only_a_gifs_first_frame_is_kept(tmp_path):
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    read(tmp_path, "a.gif", gif.getvalue())
    stored = Image.open(tmp_path / "out")
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_an_image_past_its_pixels_is_refused_before_it_is_decoded(tmp_path):
    bomb = samples.png_bomb(2000, 1000)  # 2,000,000 pixels, a few KB.
    assert len(bomb) < 20_000
    with pytest.raises(reading.Refused, match="has 2,000,000 pixels; at most 1,000,000"):
        read(tmp_path, "bomb.png", bomb)
    # Past twice the limit Pillow raises rather than warns as it opens: the same words.
    with pytest.raises(reading.Refused, match="has 2,000,000 pixels; at most 100,000"):
        read(tmp_path, "bomb.png", bomb, max_pixels=100_000)
    assert not (tmp_path / "out").exists()


def test_a_large_image_is_scaled_to_fit_and_says_so(tmp_path):
    result = read(tmp_path, "wide.png", samples.image("PNG", (4096, 1024)), max_pixels=10**7)
    assert (result["width"], result["height"]) == (2048, 512)
    assert result["note"] == "Scaled to 2048x512 from 4096x1024."


def test_image_tokens_follow_the_published_estimate():
    assert reading.image_tokens(1024, 1024) == 85 + 170 * 4  # 768 x 768: four tiles.
    assert reading.image_tokens(512, 512) == 85 + 170  # Never scaled up: one tile.
    assert reading.image_tokens(4096, 2048) == 85 + 170 * 6  # 2048x1024, then 1536x768.
