"""Stage: guardrail flags on a finished draft. Pure and deterministic: the reply and what the
draft was written from in, a list of `Flag(code, detail)` out, for the reviewer to see.

Nothing here blocks a draft: a flag tells the reviewer where to look before sending it. Each
check is a cheap scan of the reply (regular expressions, set look-ups, one small language
model), so every draft gets every check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from worker.once import once
from worker.text.contacts import EMAIL, phones

# Codes, as they appear in the outbound payload, the review API and the metrics.
IMAGE = "image"  # any markdown or HTML image: it loads a URL the moment the reply is shown
LINK_QUERY = "link_query"  # a link carrying a query string (the EchoLeak exfiltration path)
LINK_DOMAIN = "link_domain"  # a link to a domain outside the client's allowlist
UNSUPPORTED_NUMBER = "unsupported_number"  # a number, price or date neither the lead nor the context gave
DONT_PHRASE = "dont_phrase"  # a phrase of the client's don't-list
HUMAN_CLAIM = "human_claim"  # "I am a human", "not a bot", in a few languages
UNKNOWN_CONTACT = "unknown_contact"  # an e-mail address or phone number from nowhere known
LANGUAGE_MISMATCH = "language_mismatch"  # the reply is not in the lead's language
# Inbound flags are raised by the ingress cleaning and carried onto the draft as they are;
# their codes start with "inbound_" (e.g. inbound_hidden_text, inbound_parts_disagree).
INBOUND_PREFIX = "inbound_"

_DETAIL_MAX = 300


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail[:_DETAIL_MAX]}


@dataclass(frozen=True)
class Sources:
    """What the draft may legitimately repeat: the lead's own words, the recalled context and
    the client's config. `is_lead_email` tells whether an address is the lead's own (the lead
    key is an HMAC of it, so the address itself is never stored)."""

    lead_text: str
    context: tuple[str, ...] = ()
    config_text: str = ""
    is_lead_email: Callable[[str], bool] = field(default=lambda _address: False)

    def known_text(self) -> str:
        return "\n".join((self.lead_text, *self.context, self.config_text))


@dataclass(frozen=True)
class Policy:
    """The client's side: domains links may point to, and the don't-list."""

    link_allowlist: tuple[str, ...] = ()
    donts: tuple[str, ...] = ()


def check(
    reply: str,
    sources: Sources,
    policy: Policy,
    quick_replies: Iterable[str] = (),
    detect: Callable[[str], str | None] | None = None,
) -> list[Flag]:
    """Every flag the reply raises, each (code, detail) once, in a stable order."""
    text = "\n".join((reply, *quick_replies))
    known = sources.known_text()
    flags: list[Flag] = []
    flags += _links(text, policy.link_allowlist)
    contacts, contact_spans = _contacts(text, known, sources.is_lead_email)
    flags += contacts
    flags += _numbers(_blank(text, contact_spans), known)
    flags += _donts(text, policy.donts)
    flags += _human_claims(text)
    flags += _language(reply, sources.lead_text, detect or detect_language)
    seen: set[tuple[str, str]] = set()
    unique = []
    for flag in flags:
        if (flag.code, flag.detail) not in seen:
            seen.add((flag.code, flag.detail))
            unique.append(flag)
    return unique


# --- links and images ----------------------------------------------------------------------

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_HTML_IMAGE = re.compile(r"<\s*img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.I)
_URL = re.compile(r"\b((?:https?|ftp)://[^\s<>\"'()\[\]]+|www\.[^\s<>\"'()\[\]]+)", re.I)
_HTML_LINK = re.compile(r"<\s*a\b[^>]*?\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.I)


def _links(text: str, allowlist: tuple[str, ...]) -> list[Flag]:
    flags = [Flag(IMAGE, url) for url in _MD_IMAGE.findall(text) + _HTML_IMAGE.findall(text)]
    for url in {*(u.rstrip(".,;:!?") for u in _URL.findall(text)), *_HTML_LINK.findall(text)}:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.query:
            flags.append(Flag(LINK_QUERY, url))
        host = (parts.hostname or "").lower()
        if not _allowed(host, allowlist):
            flags.append(Flag(LINK_DOMAIN, host or url))
    return sorted(flags, key=lambda f: (f.code, f.detail))


def _allowed(host: str, allowlist: tuple[str, ...]) -> bool:
    for domain in allowlist:
        domain = domain.lower().strip().lstrip("*.").rstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


# --- e-mail addresses and phone numbers ----------------------------------------------------

def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _contacts(
    text: str, known: str, is_lead_email: Callable[[str], bool]
) -> tuple[list[Flag], list[tuple[int, int]]]:
    flags, spans = [], []
    known_lower = known.lower()
    for match in EMAIL.finditer(text):
        spans.append(match.span())
        address = match.group(0).strip(".").lower()
        if address not in known_lower and not is_lead_email(address):
            flags.append(Flag(UNKNOWN_CONTACT, f"e-mail {address}"))
    known_digits = _digit_runs(known)
    for match in phones(text):
        spans.append(match.span())
        digits = _digits(match.group(0)).removeprefix("00")
        if not any(digits[-7:] in run for run in known_digits):
            flags.append(Flag(UNKNOWN_CONTACT, f"phone {match.group(0).strip()}"))
    return flags, spans


def _digit_runs(text: str) -> list[str]:
    return [_digits(m.group(0)) for m in phones(text)]


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# --- numbers, prices and dates -------------------------------------------------------------

# A number as written: 25,000 · 25.000 · 1'200 · 19.99 · 24.12.2026 · 10:30 · 2026-12-24.
_NUMBER = re.compile(r"(?<![\w])\d+(?:[.,:'/-]\d+)*(?![\w])")
# Small counts ("2 options", "1 step") are language, not facts; a price or date is longer.
_SMALL = 10


def _parts(token: str) -> list[str]:
    return [p.lstrip("0") or "0" for p in re.split(r"[.,:'/-]", token) if p]


def _whole(token: str) -> str:
    """25,000 · 25.000 · 25000.00 are one number: decimal zeros off, then the digits."""
    return _digits(re.sub(r"[.,]0{1,2}$", "", token)).lstrip("0") or "0"


def _numbers(text: str, known: str) -> list[Flag]:
    known_tokens = _NUMBER.findall(known)
    known_whole = {_whole(t) for t in known_tokens}
    known_parts = {"0", *(p for t in known_tokens for p in _parts(t))}
    flags = []
    for token in _NUMBER.findall(text):
        parts = _parts(token)
        if len(parts) == 1 and int(parts[0]) <= _SMALL:
            continue
        if _whole(token) in known_whole:
            continue
        if len(parts) > 1 and all(p in known_parts for p in parts):
            continue  # a date or a time whose every part the sources gave
        flags.append(Flag(UNSUPPORTED_NUMBER, token))
    return flags


# --- the client's don't-list ---------------------------------------------------------------

_QUOTED = re.compile(r"[\"“”„«»‘’']([^\"“”„«»‘’']{2,80})[\"“”„«»‘’']")
_INSTRUCTION = re.compile(
    r"^(?:please\s+)?(?:do\s+not|don'?t|never|avoid|no)\s+(?:say|use|write|mention|promise|"
    r"call\s+it|offer)?\s*(?:the\s+(?:word|phrase)s?\s+)?", re.I,
)
_MAX_PHRASE_WORDS = 4


def dont_phrases(donts: Iterable[str]) -> list[str]:
    """The literal phrases a don't-list names: quoted ones ("Never say 'no problem'"), or the
    whole item once the instruction words are off, when it is short enough to be a phrase
    ("cheap", "Don't say guaranteed approval"). A long instruction ("Do not invent prices …")
    is the model's to follow, not a phrase to match."""
    phrases = []
    for item in donts:
        quoted = _QUOTED.findall(item)
        if quoted:
            phrases += [q.strip() for q in quoted if q.strip()]
            continue
        rest = _INSTRUCTION.sub("", item.strip()).strip(" .!:;")
        if rest and len(rest.split()) <= _MAX_PHRASE_WORDS:
            phrases.append(rest)
    return phrases


def _donts(text: str, donts: tuple[str, ...]) -> list[Flag]:
    flags = []
    for phrase in dont_phrases(donts):
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)"
        if re.search(pattern, text, re.I):
            flags.append(Flag(DONT_PHRASE, phrase))
    return flags


# --- claims to be human --------------------------------------------------------------------

_HUMAN = [
    # English
    r"\bI(?:'m|\s+am)\s+(?:a\s+|an\s+)?(?:real\s+|actual\s+)?(?:human|person|human\s+being)\b",
    r"\b(?:I(?:'m|\s+am)\s+)?not\s+(?:a\s+|an\s+)?(?:bot|robot|AI|machine|chatbot|computer)\b",
    r"\bno\s+bot\s+here\b",
    # German
    r"\bich\s+bin\s+(?:ein\s+)?(?:echter\s+)?Mensch\b",
    r"\bich\s+bin\s+kein(?:e)?\s+(?:Bot|Roboter|KI|Maschine|Chatbot)\b",
    # French
    r"\bje\s+suis\s+(?:un\s+|une\s+)?(?:vrai(?:e)?\s+)?(?:humain(?:e)?|personne|être\s+humain)\b",
    r"\bje\s+ne\s+suis\s+pas\s+(?:un\s+|une\s+)?(?:robot|bot|IA|machine)\b",
    # Spanish
    r"\bsoy\s+(?:un\s+|una\s+)?(?:humano|humana|persona(?:\s+real)?|ser\s+humano)\b",
    r"\bno\s+soy\s+(?:un\s+|una\s+)?(?:bot|robot|IA|máquina)\b",
    # Dutch
    r"\bik\s+ben\s+(?:een\s+)?(?:echt(?:e)?\s+)?(?:mens|persoon)\b",
    r"\bik\s+ben\s+geen\s+(?:bot|robot|AI|machine)\b",
    # Italian
    r"\bsono\s+(?:un\s+|una\s+)?(?:essere\s+umano|persona\s+reale|umano|umana)\b",
    r"\bnon\s+sono\s+(?:un\s+)?(?:bot|robot|IA|macchina)\b",
]
_HUMAN_RE = [re.compile(p, re.I) for p in _HUMAN]


def _human_claims(text: str) -> list[Flag]:
    return [Flag(HUMAN_CLAIM, m.group(0)) for r in _HUMAN_RE for m in [r.search(text)] if m]


# --- language ------------------------------------------------------------------------------

# The languages a dealer's leads write in here; a closed set makes short texts far more
# reliable than choosing among ninety-odd.
LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "pt", "pl", "sv", "da", "no", "fi", "cs", "tr")
_MIN_WORDS = 3
_MIN_PROBABILITY = 0.9


def _language(reply: str, lead_text: str, detect: Callable[[str], str | None]) -> list[Flag]:
    """Only when both texts are long enough to tell: "ok" or "Price?" say nothing."""
    if len(reply.split()) < _MIN_WORDS or len(lead_text.split()) < _MIN_WORDS:
        return []
    lead, ours = detect(lead_text), detect(reply)
    if lead and ours and lead != ours:
        return [Flag(LANGUAGE_MISMATCH, f"lead wrote {lead}, reply is {ours}")]
    return []


@once
def _identifier():  # noqa: ANN202 - loaded once per process, on first use (about a second)
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when py3langid is not sure."""
    language, probability = _identifier().classify(text[:2000])
    return language if probability >= _MIN_PROBABILITY else None
