"""Reading an uploaded file: what it is (by its bytes, never its name), its text, or its
pixels re-encoded. Runs in a worker process (files/workers.py) under a time and memory
limit, so it imports nothing of Django and takes every limit as an argument.

Accepted: UTF-8 text with no NUL (plain text, Markdown, CSV, JSON, code), PDF (its text
layer, through pypdf), and PNG, JPEG, WebP and GIF (its first frame) images. SVG and
everything else are refused. A file is taken for what its bytes are: a PDF named
`photo.png` is read as a PDF, a program named `notes.txt` is refused.
"""

import io
import json
import math
import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

# Images sent upstream fit in this square: vision models scale larger ones down anyway
# (OpenAI's rule, which the token estimate follows), and it bounds the data URL.
MAX_IMAGE_SIDE = 2048
JPEG_QUALITY = 90
HEAD_BYTES = 4096
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
# Text files' types, from their extension once the content is known to be text: a label
# for the model (`<file type=…>`), never a reason to accept a file.
TEXT_TYPES = {".md": "text/markdown", ".markdown": "text/markdown", ".csv": "text/csv"}
SVG = re.compile(rb"<svg[\s>/]", re.IGNORECASE)


class Refused(Exception):
    """The file is not taken; the message is fit to show, with the numbers."""


@dataclass
class Read:
    """What was read of a file (sent back from the worker as a dict)."""

    kind: str  # "text" | "image"
    content_type: str
    text: str = ""
    pages: int | None = None
    note: str = ""
    width: int | None = None
    height: int | None = None


def detect(head: bytes) -> str:
    """The file's type from its first bytes: a MIME type, or "text" (to be checked whole)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    # The PDF header may follow a little junk (the spec allows it within the first 1 KB).
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if SVG.search(head):
        raise Refused("SVG images are not accepted (they can carry scripts).")
    return "text"


def read_file(
    path: str,
    *,
    name: str,
    out_path: str,
    max_pixels: int,
    max_pages: int,
    max_chars: int,
) -> dict:
    """Read the file at `path`; an image's clean bytes are written to `out_path`.

    Returns Read as a dict, or raises Refused.
    """
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    kind = detect(head)
    if kind == "application/pdf":
        read = _pdf(path, max_pages=max_pages, max_chars=max_chars)
    elif kind.startswith("image/"):
        read = _image(path, out_path=out_path, max_pixels=max_pixels)
    else:
        read = _text(path, name=name, max_chars=max_chars)
    return asdict(read)


def _text(path: str, *, name: str, max_chars: int) -> Read:
    data = Path(path).read_bytes()  # Bounded by the upload's size cap.
    if b"\x00" in data:
        raise Refused("This file is not text, a PDF or an image of a kind accepted here.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(
            "This file is not text (UTF-8), a PDF or an image of a kind accepted here."
        ) from None
    if SVG.search(data[:65536]):
        raise Refused("SVG images are not accepted (they can carry scripts).")
    if len(text) > max_chars:
        raise Refused(f"This file has {len(text):,} characters; at most {max_chars:,} are taken.")
    content_type = TEXT_TYPES.get(Path(name).suffix.lower(), "text/plain")
    try:
        json.loads(text)
    except ValueError:
        pass
    else:
        content_type = "application/json"
    return Read(kind="text", content_type=content_type, text=text)


def _pdf(path: str, *, max_pages: int, max_chars: int) -> Read:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Refused("This PDF is protected by a password.")
        pages = len(reader.pages)
    except Refused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise Refused(f"This PDF could not be read ({type(exc).__name__}).") from None
    if pages > max_pages:
        raise Refused(f"This PDF has {pages:,} pages; at most {max_pages:,} are taken.")
    parts = []
    total = 0
    for number, page in enumerate(reader.pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - a broken page of a hostile file
            raise Refused(
                f"Page {number} of this PDF could not be read ({type(exc).__name__})."
            ) from None
        total += len(text)
        if total > max_chars:
            raise Refused(
                f"This PDF has more than {max_chars:,} characters of text "
                f"(reached by page {number} of {pages:,}); at most {max_chars:,} are taken."
            )
        parts.append(text.strip())
    text = "\n\n".join(part for part in parts if part)
    note = "" if text.strip() else "This PDF has no text layer."
    return Read(kind="text", content_type="application/pdf", text=text, pages=pages, note=note)


def _image(path: str, *, out_path: str, max_pixels: int) -> Read:
    from PIL import Image, ImageOps, UnidentifiedImageError

    # Set before anything is decoded: Pillow checks the header's size against it, warns
    # past it and raises past twice it; the warning is made an error too.
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(path, formats=list(IMAGE_TYPES)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise Refused(_too_many_pixels(width, height, max_pixels))
            image.seek(0)  # A GIF's (or animated WebP's) first frame only.
            image.load()
            source_format = image.format or "PNG"
            image = ImageOps.exif_transpose(image)  # Upright, before EXIF goes.
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        # Raised by open() from the header alone; Pillow's words carry the count.
        found = re.search(r"\((\d+) pixels\)", str(bomb))
        count = f"{int(found.group(1)):,}" if found else f"more than {max_pixels:,}"
        raise Refused(f"This image has {count} pixels; at most {max_pixels:,}.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Refused(f"This image could not be read ({type(exc).__name__}).") from None
    note = ""
    if max(image.size) > MAX_IMAGE_SIDE:
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
        note = f"Scaled to {image.width}x{image.height} from {width}x{height}."
    # A new image from the pixels alone: no EXIF, ICC profile, text chunks or comments.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    buffer = io.BytesIO()
    if source_format == "JPEG" and not has_alpha:
        clean.save(buffer, "JPEG", quality=JPEG_QUALITY)
        content_type = "image/jpeg"
    else:
        clean.save(buffer, "PNG", optimize=False)
        content_type = "image/png"
    Path(out_path).write_bytes(buffer.getvalue())
    return Read(
        kind="image", content_type=content_type, width=clean.width, height=clean.height, note=note
    )


def _too_many_pixels(width: int, height: int, most: int) -> str:
    return f"This image has {width * height:,} pixels ({width:,}x{height:,}); at most {most:,}."


def image_tokens(width: int, height: int) -> int:
    """Tokens an image is counted as (OpenAI's documented estimate for detail "high"):
    scaled to fit 2048x2048, then its shorter side to 768; 170 per 512-pixel tile, plus 85."""
    if not width or not height:
        return 85
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)
