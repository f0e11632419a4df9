"""The drafted reply's subject: one line, clean, one "Re: " whatever the incoming stack."""

from __future__ import annotations

import pytest

from worker.pipeline.reply_subject import reply_subject


@pytest.mark.parametrize(
    ("incoming", "drafted"),
    [
        ("Financing", "Re: Financing"),
        ("RE: Financing", "Re: Financing"),
        ("Re: AW: Probefahrt", "Re: Probefahrt"),
        ("Re: RE: Re: Question", "Re: Question"),
        ("AW: WG: Angebot Golf", "Re: Angebot Golf"),
        ("SV: Provkörning", "Re: Provkörning"),
        ("VS: Koeajo", "Re: Koeajo"),
        ("Antw: Proefrit", "Re: Proefrit"),
        ("Réf : Essai", "Re: Essai"),
        ("TR: Essai routier", "Re: Essai routier"),
        ("RIF: Prova su strada", "Re: Prova su strada"),
        ("Fwd: FW: Trade-in", "Re: Trade-in"),
        ("Re[2]: Offer", "Re: Offer"),
        ("Re(3): Offer", "Re: Offer"),
        ("RE： 试驾", "Re: 试驾"),
        ("回复：试驾", "Re: 试驾"),
        ("Отв: Тест-драйв", "Re: Тест-драйв"),
        ("re:re:re:re: loop", "Re: loop"),
        ("  Re:   spaced   out  ", "Re: spaced out"),
        ("Regarding the X5", "Re: Regarding the X5"),  # a word, not a prefix
        ("Review: the X5", "Re: Review: the X5"),
        ("[EXTERNAL] RE: Quote", "Re: [EXTERNAL] RE: Quote"),
    ],
)
def test_one_re_prefix_whatever_the_stack(incoming, drafted):
    assert reply_subject(incoming) == drafted


@pytest.mark.parametrize(
    "incoming",
    [
        "Quote\r\nBcc: attacker@example.com",
        "Quote\n Topic: injected",
        "Quote\u2028Bcc: x@example.com",
        "Quote\x00\x1b[31m\x7f",
        "Quo\u200bte\u202e\U000e0041",
    ],
)
def test_the_subject_is_one_line_without_control_characters(incoming):
    subject = reply_subject(incoming)
    assert subject.startswith("Re: Quo")
    assert all(ch.isprintable() for ch in subject), repr(subject)
    assert "\n" not in subject and "\r" not in subject


def test_no_subject_gives_none_and_a_bare_prefix_stays_a_reply():
    assert reply_subject(None) is None
    assert reply_subject("  \u200b ") is None
    assert reply_subject("RE:") == "Re:"
