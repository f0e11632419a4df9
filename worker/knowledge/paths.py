"""Folder paths and file names as admins type them, checked and put in one canonical form."""

from __future__ import annotations

import re

from worker.knowledge.errors import InvalidInput

MAX_NAME_CHARS = 255
MAX_PATH_CHARS = 1000
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def normalize_folder(path: str | None) -> str:
    """"/prices//2026/" → "prices/2026"; "" or "/" is the root."""
    parts = [p.strip() for p in (path or "").split("/")]
    parts = [p for p in parts if p]
    for part in parts:
        _check_name(part, "folder name")
    joined = "/".join(parts)
    if len(joined) > MAX_PATH_CHARS:
        raise InvalidInput(f"a folder path has at most {MAX_PATH_CHARS} characters")
    return joined


def check_filename(name: str) -> str:
    name = (name or "").strip()
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
