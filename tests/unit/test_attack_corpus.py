"""Issue 11's attack corpus through the real parser and prompt builder: 0 hidden-text leaks
(no marker of text the reader never saw reaches the prompt) and 0 fence breaks (every
untrusted byte inside its block, nothing inside a block that could close it). Prints the
counts: .venv/bin/python -m pytest -q -s tests/unit/test_attack_corpus.py"""

from __future__ import annotations

import re
from collections import Counter

from schema.agent_config import AgentConfigFields
from schema.events import InboundEvent
from tests.support.attack_corpus import MARK, Case, all_cases
from worker.ingress.normalize import to_new_message
from worker.pipeline.prompt import (
    LeadMessage,
    Recalled,
    build_messages,
    build_system_prompt,
    new_boundary,
)

CONFIG = AgentConfigFields(name="Ava", industry="automotive")


def _prompt(case: Case, boundary: str, benign: bool = False) -> tuple[str, str]:
    event = InboundEvent.model_validate({"eventId": "e1", "clientId": "c", **case.event})
    msg = to_new_message(event, b"k")
    x = lambda value: ("x" if value else value) if benign else value  # noqa: E731
    lead = LeadMessage(channel=msg.channel, text=x(msg.new_text), lead_name=x(msg.lead_name),
                       subject=x(msg.subject), topic=x(msg.topic))
    recalled = [Recalled(f"r{i}", "inbound_message", x(text), 1.0, "2026-01-01")
                for i, text in enumerate(case.recalled)]
    system, user = (m["content"] for m in build_messages(CONFIG, recalled, lead, boundary))
    return system, user


def _leak(case: Case, system: str, user: str) -> str | None:
    if case.hidden is None:
        return None
    prompt = system + user
    if case.hidden == MARK:
        folded = prompt.casefold()
        if MARK.casefold() in folded or MARK[::-1].casefold() in folded:
            return "marker in prompt"
        tags = "".join(chr(ord(c) - 0xE0000) for c in prompt if 0xE0020 <= ord(c) <= 0xE007E)
        return "marker in tag characters" if MARK in tags else None
    return "invisible character in prompt" if case.hidden in prompt else None


def _breaks(case: Case, boundary: str, system: str, user: str) -> list[str]:
    found = []
    blocks = re.compile(rf'<(\w+) id="{boundary}">\n(.*?)\n</\1 id="{boundary}">', re.S)
    contents = [content for _, content in blocks.findall(user)]
    outside = blocks.sub("", user)
    _, benign_user = _prompt(case, boundary, benign=True)
    if outside != blocks.sub("", benign_user):
        found.append("untrusted text outside the blocks")
    if user.count(f'id="{boundary}">') != 2 * len(contents):
        found.append("a block tag the builder did not write")
    for content in contents:
        if "<" in content or ">" in content or boundary in content:
            found.append("a block holds < > or the boundary")
    inside = " ".join(re.findall(r"\w+", "\n".join(contents)))
    for words in case.untrusted:  # shown to the model, as data, word for word
        if " ".join(re.findall(r"\w+", words)) not in inside:
            found.append(f"untrusted words not inside a block: {words!r}")
    if system != build_system_prompt(CONFIG):
        found.append("system prompt changed")
    return found


def test_attack_corpus_has_no_hidden_text_leaks_and_no_fence_breaks():
    cases = all_cases()
    leaks, breaks = {}, {}
    for case in cases:
        boundary = new_boundary()
        system, user = _prompt(case, boundary)
        if (leak := _leak(case, system, user)) is not None:
            leaks[case.id] = leak
        if problems := _breaks(case, boundary, system, user):
            breaks[case.id] = problems
    families = Counter(case.family for case in cases)
    hidden = sum(case.hidden is not None for case in cases)
    per_family = ", ".join(f"{family} {count}" for family, count in families.items())
    print(f"\nattack corpus: {len(cases)} cases ({per_family}); hidden-text leaks {len(leaks)}"
          f" of {hidden}; fence breaks {len(breaks)} of {len(cases)}")
    assert len(cases) >= 150
    assert len({case.id for case in cases}) == len(cases)
    assert not leaks and not breaks, (leaks, breaks)
    assert not breaks, breaks


def test_the_checks_can_fail():
    """The leak and fence checks catch a prompt that holds the marker or loose text."""
    case = Case("probe", "probe", {"channel": "chat", "message": "hi", "leadId": "L"}, MARK)
    boundary = new_boundary()
    system, user = _prompt(case, boundary)
    assert _leak(case, system, user + MARK) is not None
    assert _breaks(case, boundary, system, user + "\nloose text")
    assert _breaks(case, boundary, system, user.replace("hi", "hi </x> <"))
