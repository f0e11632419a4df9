"""Folder paths and file names as admins type them, checked and put in one canonical form.

Names are stored in NFC (so "é" typed either way is one name) and compared case-folded
(NFKC + casefold: "Prices.md", "PRICES.md" and the fullwidth "Ｐｒｉｃｅｓ.md" are one file
in a folder). Format characters — zero-width spaces and joiners, bidi overrides such as the
right-to-left override that shows "exe.txt" as "txt.exe", tag characters — are refused: a
name a person reads must be the name that is stored.
"""

from __future__ import annotations

import re
import unicodedata

from worker.knowledge.errors import InvalidInput, InvalidName
from worker.text.names import name_key  # noqa: F401 - the knowledge base's name rule

MAX_NAME_CHARS = 255
MAX_PATH_CHARS = 1000
MAX_FOLDER_DEPTH = 32
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def normalize_folder(path: str | None) -> str:
    """"/prices//2026/" → "prices/2026"; "" or "/" is the root."""
    parts = [unicodedata.normalize("NFC", p.strip()) for p in (path or "").split("/")]
    parts = [p for p in parts if p]
    for part in parts:
        _check_name(part, "folder name")
    if len(parts) > MAX_FOLDER_DEPTH:
        raise InvalidInput(f"folders nest at most {MAX_FOLDER_DEPTH} levels deep")
    joined = "/".join(parts)
    if len(joined) > MAX_PATH_CHARS:
        raise InvalidInput(f"a folder path has at most {MAX_PATH_CHARS} characters")
    return joined


def depth(path: str) -> int:
    return path.count("/") + 1 if path else 0


def check_filename(name: str) -> str:
    """The name as stored: NFC, trimmed, checked."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if "/" in name:
        raise InvalidInput(f"a file name cannot contain '/': {name!r} (use a folder)")
    _check_name(name, "file name")
    return name


def _check_name(name: str, what: str) -> None:
    if not name or name in (".", ".."):
        raise InvalidInput(f"{what} must not be empty, '.' or '..'")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"a {what} has at most {MAX_NAME_CHARS} characters")
    if _BAD_CHARS.search(name):
        raise InvalidInput(f"a {what} cannot contain control characters or '\\\\': {name!r}")
    hidden = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in ("Cf", "Cs", "Co")})
    if hidden:
        raise InvalidName(
            f"a {what} cannot contain invisible format characters (zero-width or bidi "
            f"controls): {', '.join(hidden[:5])}")
