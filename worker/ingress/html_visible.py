"""HTML → the text a mail client shows, and what it did not show (for the reviewer's flag).

The markup is parsed once with lxml (libxml2's HTML parser, what inscriptis uses too); elements
a client does not render are dropped from the tree — judged from inline styles, `<style>` rules
(selectors matched with cssselect), presentational attributes and the elements themselves —
and the rest becomes text with inscriptis: maintained, Apache-2.0, keeps paragraphs, lists and
tables readable (html2text is GPL-3.0 and writes Markdown).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass

import lxml.html
import tinycss2
from inscriptis import Inscriptis
from lxml.cssselect import CSSSelector

from worker.ingress import css_visibility as css

# A stylesheet's rules are each matched against the whole tree: bounded so a sender cannot
# make matching the work of the parse.
MAX_STYLE_RULES = 400
MAX_STYLE_CHARS = 200_000
# Hidden whatever their style: a client never renders their content as text.
_NEVER_SHOWN = {"template": "<template>", "noscript": "<noscript>", "script": "<script>",
                "object": "<object>", "iframe": "<iframe>", "select": "<select>"}
_SILENT = {"style", "head", "title", "meta", "link"}  # not text anyone wrote to the reader
_WHITE = (1.0, 1.0, 1.0, 1.0)
_BLACK = (0.0, 0.0, 0.0, 1.0)


class VisibleHtml:
    """What a reader of this HTML sees: its words (cheap, for comparing with the plain part)
    and, laid out as text, only when it is needed (inscriptis is most of the cost)."""

    def __init__(self, tree: lxml.html.HtmlElement | None, hidden: dict[str, int]) -> None:
        self._tree = tree
        self.hidden = hidden  # why text was not shown -> characters of it

    def words(self) -> str:
        return self._tree.text_content() if self._tree is not None else ""

    def text(self) -> str:
        if self._tree is None:
            return ""
        try:
            text = Inscriptis(self._tree, None).get_text()
        except Exception:  # noqa: BLE001 - markup inscriptis cannot lay out: the words alone
            text = self._tree.text_content()
        lines = [line.rstrip() for line in text.split("\n")]
        return textwrap.dedent("\n".join(lines)).strip()


def visible_html(html: str) -> VisibleHtml:
    """Parse and drop what is not shown. Markup lxml cannot parse shows nothing."""
    html = html.lstrip()
    if html.startswith("<?xml"):  # lxml refuses str input with an encoding declaration
        html = html[html.find(">") + 1 :]
    if not html.strip():
        return VisibleHtml(None, {})
    try:
        tree = lxml.html.document_fromstring(html)
    except Exception:  # noqa: BLE001 - e.g. a document of only comments: nothing to show
        return VisibleHtml(None, {})
    return VisibleHtml(tree, dict(_prune(tree)))


def visible_text(html: str) -> str:
    return visible_html(html).text()


def _prune(tree: lxml.html.HtmlElement) -> Counter[str]:
    """Drop what is not shown; returns characters of text dropped per reason."""
    rules = _style_rules(tree)
    hidden: Counter[str] = Counter()
    doomed: list[tuple[lxml.html.HtmlElement, str | None]] = []
    stack = [(tree, _BLACK, _WHITE)]
    while stack:
        element, ink, paper = stack.pop()
        if not isinstance(element.tag, str):  # comments, processing instructions
            continue
        tag = element.tag.lower()
        decls = _declarations(element, rules)
        reason = _element_reason(element, tag, decls)
        if tag == "font" or element.get("bgcolor") is not None:  # attributes, then CSS
            ink = _attr_colour(element, "color") or ink
            paper = _attr_colour(element, "bgcolor") or paper
        if decls:
            ink = css.colour(css_value(decls, "color")) or ink
            paper = _background(decls) or paper
        if reason is not None or tag in _SILENT:
            doomed.append((element, None if tag in _SILENT else reason))
            continue
        if css.unreadable(ink, paper):  # its own words only: a child may have its own colour
            size = _drop_own_text(element)
            if size:
                hidden["text colour same as background"] += size
        if tag == "details" and element.get("open") is None:
            _close_details(element, hidden)
        stack.extend((child, ink, paper) for child in reversed(element))
    for element, why in doomed:
        if why is not None:
            size = len(element.text_content().strip())
            if size:
                hidden[why] += size
        _drop(element)
    return hidden


def css_value(decls: css.Declarations, name: str) -> str:
    held = decls.get(name)
    return held[0] if held else ""


def _element_reason(element: lxml.html.HtmlElement, tag: str,
                    decls: css.Declarations) -> str | None:
    if tag in _NEVER_SHOWN:
        return _NEVER_SHOWN[tag]
    if element.get("hidden") is not None:
        return "hidden attribute"
    if tag == "input" and (element.get("type") or "").lower() == "hidden":
        return "hidden input"
    if tag == "bdo" and (element.get("dir") or "").lower() == "rtl":
        return "reversed bidi text (<bdo dir=rtl>)"
    if tag == "svg" and _zero_size_svg(element, decls):
        return "0x0 SVG"
    return css.hiding_reason(decls) if decls else None


def _zero_size_svg(element: lxml.html.HtmlElement, decls: css.Declarations) -> bool:
    for name in ("width", "height"):
        value = css_value(decls, name) or (element.get(name) or "")
        size = css._px(value) if value else None  # noqa: SLF001 - one length parser
        if size is not None and size <= 1:
            return True
    return False


def _close_details(details: lxml.html.HtmlElement, hidden: Counter[str]) -> None:
    """A closed <details> shows its <summary> only."""
    size = len((details.text or "").strip())
    details.text = None
    for child in list(details):
        if isinstance(child.tag, str) and child.tag.lower() == "summary":
            size += len((child.tail or "").strip())
            child.tail = None
            continue
        size += len(child.text_content().strip()) + len((child.tail or "").strip())
        details.remove(child)
    if size:
        hidden["closed <details>"] += size


def _drop_own_text(element: lxml.html.HtmlElement) -> int:
    """Remove the text an element holds directly (before and between its children)."""
    size = len((element.text or "").strip())
    element.text = None
    for child in element:
        size += len((child.tail or "").strip())
        child.tail = None
    return size


def _drop(element: lxml.html.HtmlElement) -> None:
    if element.getparent() is None:  # the root: keep the element, lose its content
        element.clear()
        return
    element.drop_tree()  # its tail (the parent's text after it) stays


def _declarations(element: lxml.html.HtmlElement, rules: dict) -> css.Declarations:
    """Presentational attributes, then matching <style> rules, then the inline style."""
    decls: css.Declarations = {}
    presentational = [
        (name, (element.get(name) or "").strip().lower(), False)
        for name in ("display", "visibility", "opacity", "font-size")
        if element.get(name) is not None
    ]
    if presentational:
        css.cascade(decls, tuple(presentational))
    for declarations in rules.get(element, ()):
        css.cascade(decls, declarations)
    style = element.get("style")
    if style:
        css.cascade(decls, css.parse_declarations(style))
    return decls


def _background(decls: css.Declarations):  # noqa: ANN202
    for name in ("background-color", "background"):
        value = css_value(decls, name)
        if value:
            found = css.colour(value)
            if found is not None and found[3] >= 0.5:
                return found
    return None


def _attr_colour(element: lxml.html.HtmlElement, name: str):  # noqa: ANN202
    if name == "color" and element.tag != "font":
        return None
    value = element.get(name)
    return css.colour(value) if value else None


def _style_rules(tree: lxml.html.HtmlElement) -> dict:
    """Element -> declaration lists of the <style> rules that match it, in order."""
    matched: dict = {}
    budget, count = MAX_STYLE_CHARS, 0
    for style in tree.iter("style"):
        sheet = (style.text or "")[:budget]
        budget -= len(sheet)
        for selector, declarations in _rules(tinycss2.parse_stylesheet(
            sheet, skip_comments=True, skip_whitespace=True
        )):
            count += 1
            if count > MAX_STYLE_RULES:
                return matched
            try:
                found = CSSSelector(selector, translator="html")(tree)
            except Exception:  # noqa: BLE001 - a selector cssselect cannot take matches nothing
                continue
            for element in found:
                matched.setdefault(element, []).append(declarations)
    return matched


def _rules(items: list, depth: int = 0):  # noqa: ANN001, ANN202
    """(selector, declarations) of qualified rules, also inside @media/@supports blocks."""
    for item in items:
        if item.type == "qualified-rule":
            declarations = css.parse_declarations(tinycss2.serialize(item.content))
            if declarations:
                yield tinycss2.serialize(item.prelude).strip(), declarations
        elif item.type == "at-rule" and item.content is not None and depth < 3:
            if item.lower_at_keyword in ("media", "supports", "document", "layer"):
                yield from _rules(
                    tinycss2.parse_rule_list(item.content, skip_comments=True,
                                             skip_whitespace=True), depth + 1)
