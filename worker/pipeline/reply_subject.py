"""The subject of a drafted e-mail reply: one line, no control or invisible characters, and
exactly one "Re: " in front — whatever stack of reply and forward prefixes the lead's client
left, in whatever language ("RE: AW: Re[2]: Fwd: …" → "Re: …"). A header injection ("\\r\\n
Bcc: …") becomes plain words on the one line."""

from __future__ import annotations

import re

from worker.invisible_chars import strip_invisible

# Reply and forward prefixes of the common clients: Re/RE (most), AW/Antw/Antwort (de, nl),
# SV (sv, da, no), VS/VL (fi), Réf/Ref/RIF/R (fr, it), TR/ENC/RV (forward: fr, pt, es, it),
# Fwd/FW/WG/Doorst (forward), Odp/PD (pl), YNT/İLT (tr), ΑΠ/ΣΧΕΤ/ΠΡΘ (el), Отв/Пер (ru),
# 回复/回覆/答复/转发/轉寄 (zh), 返信/転送 (ja), 답장/전달 (ko).
_WORDS = (
    "re|aw|antw|antwort|antwoord|sv|svar|vs|vl|réf|ref|rif|r|tr|enc|rv|fwd|fw|wg|doorst"
    "|odp|pd|ynt|ilt|İlt|απ|σχετ|πρθ|отв|пер|回复|回覆|答复|转发|轉寄|返信|転送|답장|전달"
)
# "Re:", "RE :", "Re[2]:", "Re(3):", "Re^2:", "Re：" (full-width colon), and "[Re]" is not one.
_PREFIX = re.compile(rf"^\s*(?:{_WORDS})\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*", re.IGNORECASE)
MAX_SUBJECT_CHARS = 998  # RFC 5322's line limit


def reply_subject(subject: str | None) -> str | None:
    """The drafted reply's subject, or None when the lead's message had none."""
    if subject is None:
        return None
    line = " ".join(strip_invisible(subject)[0].split())
    if not line:
        return None
    while True:
        stripped = _PREFIX.sub("", line, count=1)
        if stripped == line:
            break
        line = stripped
    return f"Re: {line}"[:MAX_SUBJECT_CHARS].rstrip() if line else "Re:"
