"""The bounds a document must stay within to be read, checked before anything is inflated.

Cheap checks on what a file declares (zip directory sizes and ratios, PDF page count, CSV
columns, what a "text" file really holds); the extraction itself then runs in a child process
with a memory and time limit (worker/knowledge/sandbox.py), so a file that lies about itself
still cannot take the worker down. Every refusal is ExtractionFailed with a reason a person can
act on: the document ends `failed` at its first attempt, and retrying would not help.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from worker.knowledge.errors import ExtractionFailed
from worker.settings import Settings

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_inflated_bytes: int = 200 * MB  # all zip entries of a DOCX together, uncompressed
    max_ratio: int = 100  # uncompressed : compressed, per entry (past 1 MB uncompressed)
    max_zip_entries: int = 5_000
    max_pdf_pages: int = 2_000
    max_csv_columns: int = 1_000
    max_text_chars: int = 50 * MB  # what extraction may hand back (= a plain upload's limit)
    memory_mb: int = 768  # address space of the extraction child
    timeout_seconds: float = 120.0  # wall clock of the extraction child

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        # Extracted text is bounded by what a plain-text upload may hold, so a compressed
        # format never yields more than an upload could.
        return cls(memory_mb=settings.kb_extract_memory_mb,
                   timeout_seconds=settings.kb_extract_timeout_seconds,
                   max_text_chars=settings.kb_max_upload_bytes)


# First bytes of files that are never text: executables, archives, images, office files.
_BINARY_MAGIC = (
    b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"PK\x03\x04", b"%PDF", b"\x1f\x8b", b"BZh",
    b"7z\xbc\xaf", b"Rar!", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0",
    b"\x00asm",
)
TEXT_KINDS = frozenset({"markdown", "text", "html", "csv"})


def sniff_text(kind: str, content: bytes) -> None:
    """A file declared as text (by its name or content type) must hold text: an executable or
    any binary named `.txt` is refused, never indexed."""
    if kind not in TEXT_KINDS:
        return
    head = content[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM: NULs are expected
        return
    magic = next((m for m in _BINARY_MAGIC if head.startswith(m)), None)
    if magic is not None or _mostly_control(head):
        what = "an executable or binary file" if magic else "binary data"
        raise ExtractionFailed(f"the file is named as {kind} but holds {what}, not text")


def _mostly_control(head: bytes) -> bool:
    """Binary data (NULs throughout, as in any binary format, or mostly control bytes), not a
    text file with a stray control character (those are dropped from the text)."""
    if head.count(0) >= 4:  # text has no NULs; random bytes have one in 256
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32 or b == 127)
    return control > 8 and control > len(head) * 0.3


def precheck(kind: str, content: bytes, limits: Limits) -> None:
    """Refuse, before parsing, a file whose declared shape is past the bounds."""
    sniff_text(kind, content)
    if kind == "docx":
        check_zip(content, limits)


def check_zip(content: bytes, limits: Limits) -> None:
    """Per entry and in total, what the zip directory says each member inflates to. Python's
    zipfile never inflates past an entry's declared size, so the declared sizes bound what
    the DOCX reader can be made to hold."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractionFailed(f"DOCX could not be read: not a valid zip file ({exc})") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise ExtractionFailed(
                f"the DOCX holds {len(entries):,} files; at most {limits.max_zip_entries:,} "
                "are read")
        total = 0
        for entry in entries:
            total += entry.file_size
            ratio = entry.file_size / max(entry.compress_size, 1)
            if entry.file_size > MB and ratio > limits.max_ratio:
                raise ExtractionFailed(
                    f"the DOCX looks like a zip bomb: {entry.filename[:100]!r} inflates "
                    f"{ratio:,.0f}-fold to {entry.file_size:,} bytes (at most "
                    f"{limits.max_ratio}-fold is read)")
            if total > limits.max_inflated_bytes:
                raise ExtractionFailed(
                    f"the DOCX inflates to more than {limits.max_inflated_bytes // MB} MB "
                    "uncompressed; split it into smaller documents")
