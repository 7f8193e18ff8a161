"""PDF and DOCX files made by the tests themselves: pypdf writes the PDFs (text drawn with
the standard Helvetica font, WinAnsi-encoded, so Latin-1 text only), python-docx the
DOCX files."""

from __future__ import annotations

import textwrap
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
)

LINE_CHARS = 70  # wrapped like a typeset page, so paragraphs span several lines
FONT_SIZE = 11
LINE_SPACING = 14
PARAGRAPH_SPACING = 24  # from the last line of a paragraph to the first of the next
TOP = 740
LEFT = 72


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def _text_page(paragraphs: list[str]) -> bytes:
    """A content stream drawing paragraphs, each wrapped into lines at LINE_CHARS."""
    commands, y = [b"BT", f"/F1 {FONT_SIZE} Tf".encode()], TOP
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, LINE_CHARS):
            commands.append(f"1 0 0 1 {LEFT} {y} Tm ".encode() + _pdf_string(line) + b" Tj")
            y -= LINE_SPACING
        y -= PARAGRAPH_SPACING - LINE_SPACING
    commands.append(b"ET")
    return b"\n".join(commands)


def _image_page() -> tuple[bytes, DecodedStreamObject]:
    """A content stream painting a grey 8x8 image, as a scanner makes (no text)."""
    image = DecodedStreamObject()
    image.set_data(bytes(range(0, 256, 4)))
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(8),
            NameObject("/Height"): NumberObject(8),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(8),
        }
    )
    return b"q 468 0 0 648 72 72 cm /Im1 Do Q", image


def make_pdf(
    path: Path,
    pages: list[list[str] | None],
    *,
    title: str | None = None,
    password: str | None = None,
    owner_password: str | None = None,
) -> Path:
    """A PDF of ``pages``: each a list of paragraphs, or None for a scanned page (an image
    without text). Encrypted (AES) when given a ``password`` (needed to open it) or only an
    ``owner_password`` (needed to edit it: anyone may read it)."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    for paragraphs in pages:
        page = writer.add_blank_page(612, 792)
        resources = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        if paragraphs is None:
            content, image = _image_page()
            resources[NameObject("/XObject")] = DictionaryObject(
                {NameObject("/Im1"): writer._add_object(image)}
            )
        else:
            content = _text_page(paragraphs)
        stream = DecodedStreamObject()
        stream.set_data(content)
        page[NameObject("/Resources")] = resources
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/MediaBox")] = ArrayObject(
            [NumberObject(0), NumberObject(0), NumberObject(612), NumberObject(792)]
        )
    if title:
        writer.add_metadata({"/Title": title})
    if password or owner_password:
        writer.encrypt(
            user_password=password or "",
            owner_password=owner_password or password,
            algorithm="AES-128",
        )
    with path.open("wb") as file:
        writer.write(file)
    return path


def make_docx(
    path: Path,
    paragraphs: list[str],
    *,
    title: str | None = None,
    heading: str | None = None,
    table: list[list[str]] | None = None,
) -> Path:
    """A Word document: an optional heading, the paragraphs, then an optional table."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    if heading:
        document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        cells = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(cells.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    document.save(str(path))
    return path
