"""The lead's new words in an e-mail body: quoted history, reply headers and signatures removed.

Used on MIME bodies and on the plain `message` of e-mail events alike.

Quoted ("> …") fragments, interleaved answers and "--"/"__"/"-Name" signatures at the bottom are
left to email-reply-parser (the Python port of GitHub's reply parser), chosen by results on the
24 real reply bodies in shared/datasets/email-replies: 23 right, against 20 for mail-parser-reply
used at its best (16 through its own parse_reply); a file is right when its new words survive
and none of its quoted or signature words do. email-reply-parser knows only English headers,
mail-parser-reply misses Gmail's Spanish and Dutch ones, and both are superlinear on hostile
text (measured on 5 KB: 14 s for email-reply-parser on lines of "On x", 64 s for
mail-parser-reply on "Am x schrieb"). So reply and forward headers and mobile signatures are
found here, line by line with bounded look-ahead, and the library's header regexes are switched
off: it only classifies single lines, which is linear. Together: 24 of 24.
"""

from __future__ import annotations

import re

from email_reply_parser import EmailMessage as _GitHubReplyParser

# Only the start of a body is searched: the new words come first, anything past 200 KB is quoted
# history or a paste, and this bounds the work per message whatever the body's size.
MAX_STRIP_CHARS = 200_000
# "On <date>, <name> <address>\nwrote:" wraps onto at most three lines in the clients seen.
MAX_HEADER_LINES = 3
# A longer "On … wrote:" candidate is prose, not a client's attribution line.
MAX_ATTRIBUTION_CHARS = 400
# Signature and header lines are short; longer lines are never tested against their patterns.
MAX_MARKER_CHARS = 160
# How far past an attribution line a quote may start ("wrote:" then a few blank lines).
QUOTE_LOOKAHEAD_LINES = 6

_NEVER = re.compile(r"(?!)")


class _QuoteFragments(_GitHubReplyParser):
    """The library's fragment walk with its header regexes off: headers are dropped beforehand,
    and its DOTALL "On … wrote:" regex is what goes cubic on text with many "On"s."""

    MULTI_QUOTE_HDR_REGEX_MULTILINE = _NEVER
    QUOTE_HDR_REGEX = _NEVER
    HEADER_REGEX = _NEVER
    # "Sent from my …" is judged below on the whole line, so "Sent from my desk, …" stays.
    SIG_REGEX = re.compile(r"--|__|-\w")


# "On … wrote:" in en, de, fr, es, nl: (opening word, words the header ends with, or None when
# the verb sits before the name: "Am 3. März schrieb Max <max@example.de>:").
_ATTRIBUTIONS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("On ", ("wrote",), None),
    ("Am ", ("schrieb",), " schrieb "),
    ("Le ", ("a écrit",), None),
    ("El ", ("escribió",), None),
    ("Op ", ("schreef", "het volgende geschreven"), " schreef "),
)
# "Maria wrote:" with no opening word counts only when a quote follows it.
_BARE_ENDINGS = ("wrote", "schrieb", "a écrit", "escribió", "schreef", "geschreven")

_LABEL = re.compile(
    r"[*_]{0,2}(from|von|de|van|sent|gesendet|envoyé|enviado|verzonden|date|datum|fecha"
    r"|to|an|à|a|para|aan|cc|bcc|subject|betreff|objet|asunto|onderwerp|reply-to)[*_]{0,2}"
    r"[ \t\u00a0]?:",
    re.IGNORECASE,
)
_FROM_LABELS = {"from", "von", "de", "van"}
_DATE_LABELS = {"sent", "gesendet", "envoyé", "enviado", "verzonden", "date", "datum", "fecha"}
_SUBJECT_LABELS = {"subject", "betreff", "objet", "asunto", "onderwerp"}

_SEPARATOR = re.compile(
    r"(?:-{2,}|_{2,}|={2,})[ \t]*(?:original message|ursprüngliche nachricht|message d'origine"
    r"|mensaje original|oorspronkelijk bericht|forwarded message|weitergeleitete nachricht"
    r"|message transféré|mensaje reenviado|doorgestuurd bericht)[ \t]*(?:-{2,}|_{2,}|={2,})"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:"
    r"|début du message réexpédié\s?:|inicio del mensaje reenviado:|begin doorgestuurd bericht:",
    re.IGNORECASE,
)
_WORDS = r"(?: [\w'’&+.-]+){1,5}"
_MOBILE_SIGNATURE = re.compile(
    rf"sent from my{_WORDS}|sent (?:from|with|via) (?:outlook|mail|yahoo mail|gmail|aol)"
    rf"(?: (?:for|on) \w+(?: \w+)?)?|get outlook for \w+(?: ?<[^<>\s]+>)?"
    rf"|von meinem{_WORDS} gesendet|gesendet von(?: meinem)?{_WORDS}|outlook für \w+ herunterladen"
    rf"|envoyé (?:de|depuis) (?:mon|ma){_WORDS}|télécharger outlook pour \w+"
    rf"|enviado desde (?:mi|mí){_WORDS}|obtener outlook para \w+"
    rf"|(?:verstuurd|verzonden) (?:vanaf|met|van)(?: mijn)?{_WORDS}|outlook voor \w+ downloaden",
    re.IGNORECASE,
)
_ONLY_RULES = re.compile(r"[-_=*~—– \t]*")


def extract_new_text(body: str) -> str:
    """What the lead wrote this time: no quoted history, reply headers or signature.

    Returns "" when nothing new is left (an all-quoted body); the caller decides whether to fall
    back to the full text."""
    text = body[:MAX_STRIP_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    kept = _drop_headers_and_signatures(text.split("\n"))
    reply = _QuoteFragments("\n".join(kept)).read().reply
    return re.sub(r"\n{3,}", "\n\n", reply).strip()


def _drop_headers_and_signatures(lines: list[str]) -> list[str]:
    """Cut at the first reply header, forward separator or signature that follows the lead's own
    words. A header directly above a "> " quote is only dropped: the lead may answer between the
    quoted lines. A header with nothing new above it (a forward) is dropped and reading goes on."""
    kept: list[str] = []
    seen_text = False
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith(">"):
            kept.append(lines[i])
            i += 1
            continue
        size = _attribution_size(lines, i)
        if size and _quote_follows(lines, i + size):
            i += size
            continue
        size = size or _outlook_block_size(lines, i) or _marker_size(stripped)
        if size:
            if seen_text:
                break
            i += size
            continue
        kept.append(lines[i])
        seen_text = seen_text or not _ONLY_RULES.fullmatch(stripped)
        i += 1
    while kept and _ONLY_RULES.fullmatch(kept[-1].strip()):
        kept.pop()
    return kept


def _attribution_size(lines: list[str], start: int) -> int:
    """Lines taken by an "On … wrote:" header starting at `start` (0 if none there)."""
    first = lines[start].strip()
    if len(first) > MAX_ATTRIBUTION_CHARS:
        return 0
    if _ends_with(first, _BARE_ENDINGS) and _quote_follows(lines, start + 1):
        return 1
    rule = next((rule for rule in _ATTRIBUTIONS if first.startswith(rule[0])), None)
    if rule is None:
        return 0
    _, endings, inner = rule
    joined = ""
    for size in range(1, MAX_HEADER_LINES + 1):
        if start + size > len(lines):
            return 0
        line = lines[start + size - 1].strip()
        if not line or (size > 1 and (line.startswith(">") or _opens_header(line))):
            return 0
        joined = f"{joined} {line}" if joined else line
        if len(joined) > MAX_ATTRIBUTION_CHARS:
            return 0
        if _ends_with(joined, endings) or (inner and joined.endswith(":") and inner in joined):
            return size
    return 0


def _ends_with(text: str, words: tuple[str, ...]) -> bool:
    """True for "… wrote:" and "… a écrit :" (any space before the colon)."""
    return text.endswith(":") and text[:-1].rstrip().endswith(words)


def _opens_header(line: str) -> bool:
    return any(line.startswith(rule[0]) for rule in _ATTRIBUTIONS)


def _quote_follows(lines: list[str], start: int) -> bool:
    for line in lines[start : start + QUOTE_LOOKAHEAD_LINES]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _outlook_block_size(lines: list[str], start: int) -> int:
    """Lines taken by an Outlook-style "From: … Sent: … To: … Subject: …" block (0 if none).
    With an address on the From line two labels are enough; without one ("From: Watson, Dan")
    a date and a subject label are needed too, so "From: Berlin / To: Hamburg" stays text."""
    first = lines[start].strip()
    label = _LABEL.match(first[:MAX_MARKER_CHARS])
    if label is None or label.group(1).lower() not in _FROM_LABELS:
        return 0
    labels = {"from"}
    end = start + 1
    for index in range(start + 1, min(len(lines), start + 10)):
        line = lines[index].strip()
        if not line:
            continue
        found = _LABEL.match(line[:MAX_MARKER_CHARS])
        if found is None:
            break
        labels.add(found.group(1).lower())
        end = index + 1
    has_address = "@" in first or "mailto:" in first.lower()
    has_date = bool(labels & _DATE_LABELS)
    if (has_address and len(labels) >= 2) or (has_date and labels & _SUBJECT_LABELS):
        return end - start
    return 0


def _marker_size(stripped: str) -> int:
    """1 for a one-line forward separator, "-- " delimiter or mobile signature, else 0."""
    if stripped == "--":
        return 1
    if len(stripped) > MAX_MARKER_CHARS:
        return 0
    candidate = stripped.rstrip(".!")
    if _SEPARATOR.fullmatch(stripped) or _MOBILE_SIGNATURE.fullmatch(candidate):
        return 1
    return 0
