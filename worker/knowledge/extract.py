"""File bytes → plain text with Markdown-style headings (`# …`), which chunking follows.

Every reader turns whatever goes wrong with an untrusted file into ExtractionFailed with a
reason a person can act on; the document is then `failed` with that reason.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import PurePosixPath

from worker.knowledge.bounds import Limits, sniff_text
from worker.knowledge.errors import ExtractionFailed, UnsupportedType

KIND_BY_SUFFIX = {
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
    ".html": "html", ".htm": "html", ".csv": "csv", ".pdf": "pdf", ".docx": "docx",
}
KIND_BY_CONTENT_TYPE = {
    "text/markdown": "markdown", "text/x-markdown": "markdown", "text/plain": "text",
    "text/html": "html", "text/csv": "csv", "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
# Characters Postgres text cannot hold or that only confuse search: NUL and other controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def kind_for(filename: str, content_type: str | None = None) -> str:
    """The document kind, from the file name's suffix, else from the declared content type."""
    kind = KIND_BY_SUFFIX.get(PurePosixPath(filename).suffix.lower())
    if kind is None and content_type:
        kind = KIND_BY_CONTENT_TYPE.get(content_type.split(";")[0].strip().lower())
    if kind is None:
        raise UnsupportedType(
            f"{filename!r}: unsupported file type; upload Markdown/text (.md, .txt), HTML, "
            "CSV, PDF or DOCX"
        )
    return kind


def extract_text(kind: str, content: bytes, limits: Limits | None = None) -> str:
    """The text of a file, within `limits` (page and column caps); the memory and time caps
    are the child process's (worker/knowledge/sandbox.py), which is how the worker calls it."""
    reader = _READERS.get(kind)
    if reader is None:
        raise ExtractionFailed(f"unknown document kind {kind!r}")
    sniff_text(kind, content)
    text = _CONTROL.sub("", reader(content, limits or Limits())).strip()
    if not text:
        hint = " (a scanned PDF needs OCR, which is not supported)" if kind == "pdf" else ""
        raise ExtractionFailed(f"no text found in the document{hint}")
    return text


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 — what office
    tools write. Latin-1 as the last resort never fails."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16", errors="replace")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def _text(content: bytes, _limits: Limits | None = None) -> str:
    return decode_text(content).replace("\r\n", "\n").replace("\r", "\n")


def _html(content: bytes, _limits: Limits) -> str:
    from inscriptis import get_text

    try:
        return get_text(decode_text(content))
    except RecursionError as exc:
        raise ExtractionFailed("the HTML is nested too deeply to be read") from exc
    except MemoryError:
        raise
    except Exception as exc:  # inscriptis/lxml on untrusted markup: the reason is kept
        raise ExtractionFailed(f"HTML could not be read: {exc}") from exc


def _csv(content: bytes, limits: Limits) -> str:
    """Each row becomes a paragraph of "Header: value" pairs, so a price-list row is found by
    its model name and carries its column names into the snippet."""
    text = _text(content)
    first_line = text[: text.find("\n") if "\n" in text else len(text)]
    if max(first_line.count(d) for d in ",;\t|") >= limits.max_csv_columns:
        raise _too_many_columns(limits)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = []
        for row in csv.reader(io.StringIO(text), dialect):
            if len(row) > limits.max_csv_columns:
                raise _too_many_columns(limits)
            if any(c.strip() for c in row):
                rows.append(row)
    except csv.Error as exc:
        raise ExtractionFailed(f"CSV could not be read: {exc}") from exc
    if not rows:
        return ""
    header, body = (rows[0], rows[1:]) if len(rows) > 1 else ([], rows)
    lines = []
    for row in body:
        pairs = [
            f"{header[i].strip()}: {cell.strip()}" if i < len(header) and header[i].strip()
            else cell.strip()
            for i, cell in enumerate(row)
            if cell.strip()
        ]
        lines.append("; ".join(pairs))
    return "\n\n".join(lines)


def _too_many_columns(limits: Limits) -> ExtractionFailed:
    return ExtractionFailed(f"the CSV has a row of more than {limits.max_csv_columns:,} "
                            "columns; at most that many are read")


def _pdf(content: bytes, limits: Limits) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionFailed("the PDF is password-protected")
        pages = len(reader.pages)
        if pages > limits.max_pdf_pages:
            raise ExtractionFailed(f"the PDF has {pages:,} pages; at most "
                                   f"{limits.max_pdf_pages:,} are read (split it)")
        return "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except (ExtractionFailed, MemoryError, RecursionError):
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files; all mean "unreadable"
        raise ExtractionFailed(f"PDF could not be read: {exc}") from exc


def _docx(content: bytes, _limits: Limits) -> str:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(content))
        parts: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                parts.extend(_docx_row(row) for row in block.rows)
            elif block.text.strip():
                parts.append(_heading_prefix(block.style.name if block.style else "") + block.text)
        return "\n\n".join(p for p in parts if p)
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # not a zip, not a Word document, broken XML
        raise ExtractionFailed(f"DOCX could not be read: {exc}") from exc


def _heading_prefix(style: str) -> str:
    if style == "Title":
        return "# "
    match = re.fullmatch(r"Heading (\d)", style)
    return "#" * min(int(match.group(1)), 6) + " " if match else ""


def _docx_row(row) -> str:  # noqa: ANN001
    cells: list[str] = []
    for cell in row.cells:  # a merged cell repeats: keep it once
        value = cell.text.strip()
        if value and (not cells or cells[-1] != value):
            cells.append(value)
    return " | ".join(cells)


_READERS = {
    "markdown": _text, "text": _text, "html": _html, "csv": _csv, "pdf": _pdf, "docx": _docx,
}
