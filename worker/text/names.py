"""When two file names are one name: the comparison key the knowledge base and its store share."""

from __future__ import annotations

import unicodedata


def name_key(name: str) -> str:
    """What two names must differ in to be two files in one folder (Unicode's NFKC_Casefold,
    near enough: NFKC, casefold, NFKC again)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
