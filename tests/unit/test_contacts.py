"""Contact details blanked out of another lead's approved reply before recall shows it."""

from __future__ import annotations

import pytest

from worker.text.contacts import redact


@pytest.mark.parametrize("text, expected", [
    ("Call Anna on +49 30 1234 5678.", "Call Anna on [phone]."),
    ("mobile 0170-5550199, office (030) 555 01 99", "mobile [phone], office [phone]"),
    ("write to anna.k+cars@mail.example.de", "write to [e-mail]"),
    ("IBAN DE89 3704 0044 0532 0130 00 or GB33BUKB20201555555555.", "IBAN [IBAN] or [IBAN]."),
])
def test_contacts_are_replaced_by_what_they_were(text, expected):  # noqa: ANN001
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "The Golf costs 24.990 EUR, 1.250.000 km would be a lot.",
    "Delivery on 24.12.2026 or 2026-12-31, model 320i, 150 PS, 7 seats.",
])
def test_prices_dates_and_model_numbers_stay(text):  # noqa: ANN001
    assert redact(text) == text
