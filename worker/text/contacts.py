"""What a person's contact details look like in text: e-mail addresses, phone numbers, IBANs.

One definition for the two places that look for them: the guardrails (a draft naming contacts
that are not the lead's own is flagged) and recall (another lead's contact details are blanked
out of the dealer's approved replies before they are shown to the model as examples).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of at least 7 digits, allowing one separator (space, dot, dash, slash) or brackets
# between them and a leading + or 00: what a phone number looks like in most of Europe.
_PHONE = re.compile(r"(?<![\w.])(?:\+|00)?\(?\d(?:[\s./-]?\(?\d\)?){6,}(?![\w])")
# What a phone-shaped run of digits may really be: a date (24.12.2026, 2026-12-31) or a
# number grouped by thousands (1.250.000).
_NOT_PHONE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}|\d{1,3}(?:[.,']\d{3})+")
# Country code, check digits, then 11-30 letters and digits, often in groups of four.
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")


def phones(text: str) -> Iterable[re.Match[str]]:
    return (m for m in _PHONE.finditer(text) if not _NOT_PHONE.fullmatch(m.group(0).strip()))


def redact(text: str) -> str:
    """The text with every e-mail address, IBAN and phone number replaced by a placeholder that
    says what was there ("[e-mail]", "[IBAN]", "[phone]")."""
    text = EMAIL.sub("[e-mail]", text)
    text = IBAN.sub("[IBAN]", text)
    spans = [m.span() for m in phones(text)]
    for start, end in reversed(spans):
        text = text[:start] + "[phone]" + text[end:]
    return text
