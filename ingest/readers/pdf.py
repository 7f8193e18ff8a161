"""PDF files (``.pdf``) through pypdf: the text layer in reading order, lines of a paragraph
joined, paragraphs apart; the title from the document's metadata.

A PDF without a text layer (a scan) or one that needs a password is refused with a message
saying what to do; pages that are images among pages of text are a problem beside the
document."""

from __future__ import annotations

import io
import math
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from ingest.errors import ReadError
from ingest.types import Document, ReadProblem

NO_TEXT_LAYER = "no text layer: a scanned PDF needs OCR first"
# A gap between two lines wider than this many times the page's usual line spacing
# separates paragraphs; with too few lines to know the usual spacing, this many times the
# font size does.
PARAGRAPH_GAP = 1.3
PARAGRAPH_GAP_FONT_SIZES = 1.7
# Titles PDF producers fill in by themselves, which name the file, not the article.
PRODUCER_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint) - .*|untitled.*|.*\.(?:docx?|odt|rtf|pdf|txt|html?))$",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"[.!?…:;؟。！？»”\"')\]]\s*$")


class PdfReader:
    """A PDF file is one document: every page's text in order."""

    suffixes = frozenset({".pdf"})
    mime_types = frozenset({"application/pdf", "application/x-pdf"})

    def read(
        self, data: bytes, *, doc_id: str, source: str
    ) -> tuple[list[Document], list[ReadProblem]]:
        """The document's text and title, and a problem naming any pages that are images
        without text; ReadError when nothing is readable."""
        import pypdf  # imported on demand: only PDFs need it
        from pypdf.errors import DependencyError

        try:
            pdf = pypdf.PdfReader(io.BytesIO(data))
            if pdf.is_encrypted and pdf.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
                raise ReadError("encrypted PDF that needs a password: save a copy without one")
            pages, scanned, broken = [], [], []
            for number, page in enumerate(pdf.pages, start=1):
                try:
                    pages.append(_page_text(page))
                except Exception as error:  # one damaged page: the others may be fine
                    pages.append("")
                    broken.append((number, error))
                if not pages[-1] and _has_images(page):
                    scanned.append(number)
            title = _title(pdf)
        except ReadError:
            raise
        except DependencyError as error:
            raise ReadError(f"encrypted PDF that cannot be decrypted here ({error})") from error
        except Exception as error:  # a damaged file can fail anywhere in the parse
            raise ReadError(_damaged(error)) from error
        text = _join_pages(pages)
        if not text.strip():
            raise ReadError(_damaged(broken[0][1]) if broken else NO_TEXT_LAYER)
        problems = [
            ReadProblem(source, f"page {number}: text cannot be extracted ({_describe(error)})")
            for number, error in broken
        ]
        if scanned:
            listed = ", ".join(map(str, scanned))
            problems.append(
                ReadProblem(
                    source,
                    f"page{'s' if len(scanned) > 1 else ''} {listed}: {NO_TEXT_LAYER}; "
                    "the other pages were read",
                )
            )
        return [Document(doc_id=doc_id, text=text, title=title, source_path=source)], problems

    def __repr__(self) -> str:
        return "PdfReader()"


def _damaged(error: Exception) -> str:
    return f"not a readable PDF (damaged or not a PDF: {_describe(error)})"


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class _Line:
    text: str
    y: float  # the baseline, in page space (up is larger)
    size: float  # the font size, in page space


def _page_text(page) -> str:
    """The page's text: pypdf's reading order (the content stream's), lines joined into
    paragraphs by the vertical gaps between them."""
    fragments: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font, font_size: float) -> None:
        if text:
            # The text matrix times the transformation matrix places the text on the page.
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
            fragments.append((text, y, abs(font_size) * (scale or 1.0)))

    plain = page.extract_text(visitor_text=visit)
    # Should the visitor have missed text, the plain extraction, its lines kept, is next best.
    return _paragraphs(list(_lines(fragments))) or plain.strip()


def _lines(fragments: list[tuple[str, float, float]]) -> Iterator[_Line]:
    current: _Line | None = None
    for text, y, size in fragments:
        for position, piece in enumerate(text.split("\n")):
            if position and current is not None:  # a line ended
                yield current
                current = None
            if current is None:
                if not piece.strip():
                    continue
                current = _Line("", y, size)
            current.text += piece
    if current is not None:
        yield current


def _paragraphs(lines: list[_Line]) -> str:
    lines = [_Line(" ".join(line.text.split()), line.y, line.size) for line in lines]
    lines = [line for line in lines if line.text]
    if not lines:
        return ""
    gaps = [above.y - below.y for above, below in pairwise(lines)]
    down = sorted(gap for gap in gaps if gap > 0)
    usual = statistics.quantiles(down, n=5)[0] if len(down) >= 3 else None
    out = [lines[0].text]
    for gap, (previous, line) in zip(gaps, pairwise(lines), strict=True):
        if usual is not None:
            new_paragraph = gap > PARAGRAPH_GAP * usual
        else:
            new_paragraph = gap > PARAGRAPH_GAP_FONT_SIZES * max(line.size, previous.size)
        # A gap upwards is a new column or a block placed out of order: a new line only.
        out.append("\n\n" if new_paragraph else " ")
        out.append(line.text)
    return _join_soft_hyphens("".join(out))


def _join_pages(pages: list[str]) -> str:
    """Pages apart like paragraphs, except a sentence running on to the next page."""
    text = ""
    for page in filter(None, pages):
        runs_on = text and not SENTENCE_END.search(text) and page[:1].islower()
        text += (" " if runs_on else "\n\n" if text else "") + page
    return text


def _join_soft_hyphens(text: str) -> str:
    # A soft hyphen ends a line only where a word was broken: the word is whole again.
    return text.replace("\u00ad ", "").replace("\u00ad", "")


def _has_images(page) -> bool:
    try:
        objects = page.get("/Resources", {}).get("/XObject", {})
        return any(obj.get_object().get("/Subtype") == "/Image" for obj in objects.values())
    except (AttributeError, KeyError, TypeError):
        return False


def _title(pdf) -> str:
    """The metadata's title, unless the producer made it up from the file name."""
    title = " ".join(str(pdf.metadata.title or "").split()) if pdf.metadata else ""
    return "" if PRODUCER_TITLE.match(title) else title
