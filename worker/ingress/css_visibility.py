"""Does a set of CSS declarations hide what it styles? Parsed with tinycss2 (maintained, BSD);
each answer names the rule that hid the text, for the reviewer's flag.

Only what a mail client applies is judged: a declaration list (an inline `style`, the body of a
`<style>` rule, or presentational attributes turned into declarations), later ones winning and
`!important` winning over plain ones, as in the cascade.
"""

from __future__ import annotations

import re
from functools import lru_cache

import tinycss2
from tinycss2.color3 import parse_color

# Below these a glyph is a dot at most: no reader can read it.
_MIN_FONT_PX = 2.0
_MIN_OPACITY = 0.1
# Pushed this far out of the box, text is off the screen of any mail client.
_OFFSCREEN_PX = -100.0
# Text colour this close to its background (WCAG contrast ratio) is not readable.
_MIN_CONTRAST = 1.25
_LENGTH = re.compile(r"(-?\d*\.?\d+)\s*(px|pt|em|rem|%|ex|ch|vw|vh|cm|mm|in|pc)?")
_PX_PER = {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0, "ex": 8.0, "ch": 8.0, "%": 0.16,
           "vw": 10.0, "vh": 10.0, "cm": 37.8, "mm": 3.78, "in": 96.0, "pc": 16.0, None: 1.0}
MAX_DECLARATIONS_CHARS = 8 * 1024  # one style attribute; the rest is ignored

Declarations = dict[str, tuple[str, bool]]  # name -> (lower-cased value, important)


@lru_cache(maxsize=4096)
def parse_declarations(css: str) -> tuple[tuple[str, str, bool], ...]:
    """(name, value, important) of a declaration list, in order; malformed ones skipped."""
    found = []
    for item in tinycss2.parse_declaration_list(
        css[:MAX_DECLARATIONS_CHARS], skip_comments=True, skip_whitespace=True
    ):
        if item.type == "declaration":
            value = tinycss2.serialize(item.value).strip().lower()
            found.append((item.lower_name, value, bool(item.important)))
    return tuple(found)


def cascade(into: Declarations, declarations: tuple[tuple[str, str, bool], ...]) -> None:
    """Apply declarations over those already there: an important one is kept against a later
    plain one."""
    for name, value, important in declarations:
        held = into.get(name)
        if held is not None and held[1] and not important:
            continue
        into[name] = (value, important)


def _value(decls: Declarations, name: str) -> str:
    held = decls.get(name)
    return held[0] if held else ""


def _px(value: str) -> float | None:
    found = _LENGTH.match(value.strip())
    if not found:
        return None
    return float(found.group(1)) * _PX_PER.get(found.group(2), 1.0)


def hiding_reason(decls: Declarations) -> str | None:
    """Why text under these declarations is not shown, or None when it may be."""
    display, visibility = _value(decls, "display"), _value(decls, "visibility")
    if display.startswith("none"):
        return "display:none"
    if visibility.startswith(("hidden", "collapse")):
        return f"visibility:{visibility.split()[0]}"
    if _value(decls, "mso-hide").startswith("all"):
        return "mso-hide:all"
    opacity = _LENGTH.match(_value(decls, "opacity"))
    if opacity:
        amount = float(opacity.group(1)) / (100 if opacity.group(2) == "%" else 1)
        if amount < _MIN_OPACITY:
            return "opacity 0"
    size = _px(_value(decls, "font-size")) if "font-size" in decls else None
    if size is not None and size < _MIN_FONT_PX:
        return "zero font size"
    return _box_reason(decls) or _clip_reason(decls) or _bidi_reason(decls)


def _box_reason(decls: Declarations) -> str | None:
    overflow = _value(decls, "overflow")
    if overflow.startswith(("hidden", "clip")):
        for name in ("height", "max-height", "width", "max-width"):
            amount = _px(_value(decls, name)) if name in decls else None
            if amount is not None and amount <= 1:
                return f"{name}:0 with overflow hidden"
    if _value(decls, "position").startswith(("absolute", "fixed")):
        for name in ("left", "top", "right", "bottom"):
            amount = _px(_value(decls, name)) if name in decls else None
            if amount is not None and amount <= _OFFSCREEN_PX:
                return "positioned off-screen"
    for name in ("text-indent", "margin-left", "margin-top"):
        amount = _px(_value(decls, name)) if name in decls else None
        if amount is not None and amount <= 10 * _OFFSCREEN_PX:
            return f"off-screen ({name})"
    transform = _value(decls, "transform")
    if re.search(r"scale[xy]?\(\s*0*\.?0+\s*[,)]", transform):
        return "transform: scale(0)"
    moved = re.search(r"translate[xy]?\(\s*(-\d+\.?\d*\s*\w*)", transform)
    if moved and (_px(moved.group(1)) or 0) <= 10 * _OFFSCREEN_PX:
        return "translated off-screen"
    return None


def _clip_reason(decls: Declarations) -> str | None:
    clip = _value(decls, "clip")
    if clip.startswith("rect("):
        numbers = [_px(n) for n in re.split(r"[\s,]+", clip[5:].rstrip(") ")) if n]
        if len(numbers) == 4 and None not in numbers:
            top, right, bottom, left = numbers  # type: ignore[misc]
            if bottom - top <= 1 or right - left <= 1:  # type: ignore[operator]
                return "clip: rect with no area"
    path = _value(decls, "clip-path")
    inset = re.match(r"inset\(\s*(\d+\.?\d*)%", path)
    if inset and float(inset.group(1)) >= 50:
        return "clip-path: inset"
    if re.match(r"(circle|ellipse)\(\s*0*\.?0+(px|%)?\s*[)a]", path):
        return f"clip-path: {path.split('(')[0]}(0)"
    if path.startswith("polygon("):
        points = {p.strip() for p in path[8:].rstrip(")").split(",")}
        if len(points) == 1:
            return "clip-path: polygon of one point"
    return None


def _bidi_reason(decls: Declarations) -> str | None:
    if _value(decls, "unicode-bidi").startswith("bidi-override") and _value(
        decls, "direction"
    ).startswith("rtl"):
        return "reversed bidi text (bidi-override)"
    return None


@lru_cache(maxsize=1024)
def colour(value: str) -> tuple[float, float, float, float] | None:
    """RGBA (0–1) of a CSS colour, or None when it is not one we can tell (system colours)."""
    value = value.replace("!important", "").strip()
    if not value:
        return None
    first = value.split()[0] if not value.startswith(("rgb", "hsl")) else value
    try:
        parsed = parse_color(first)
    except Exception:  # noqa: BLE001 - any odd value is "unknown", never an error
        return None
    if parsed is None or isinstance(parsed, str):
        return None
    return (parsed.red, parsed.green, parsed.blue, parsed.alpha)


@lru_cache(maxsize=1024)
def unreadable(text: tuple[float, float, float, float],
               background: tuple[float, float, float, float]) -> bool:
    """Text this colour on that background cannot be read (transparent, or contrast ~1:1)."""
    if text[3] < _MIN_OPACITY:
        return True
    return _contrast(text, background) < _MIN_CONTRAST


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def luminance(c: tuple[float, ...]) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])

    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
