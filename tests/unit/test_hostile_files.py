"""Hostile files are refused with a reason a person can act on, and reading one never grows the
worker: the cheap bounds refuse what a file declares, the limited child catches what it hides."""

from __future__ import annotations

import resource
import time

import pytest

from tests.support.hostile import (
    MB, docx_bomb, executable_as_text, malformed_pdf, many_pages_pdf, nested_docx, nested_html,
    pdf_stream_bomb, wide_csv,
)
from worker.knowledge.bounds import Limits, precheck
from worker.knowledge.errors import ExtractionFailed
from worker.knowledge.extract import extract_text
from worker.knowledge.sandbox import extract_bounded

NO_CHEAP_BOUNDS = dict(max_ratio=10**9, max_inflated_bytes=10**13)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1]) / 1024


@pytest.mark.parametrize("inflated", [300 * MB, 2048 * MB])
def test_a_docx_zip_bomb_is_refused_before_a_byte_is_inflated(inflated):
    bomb = docx_bomb(inflated)
    assert len(bomb) < 8 * MB
    before, started = rss_mb(), time.perf_counter()
    with pytest.raises(ExtractionFailed, match=r"zip bomb: 'word/document.xml' inflates"):
        extract_bounded("docx", bomb, Limits())
    assert time.perf_counter() - started < 1
    assert rss_mb() - before < 20


def test_a_bomb_past_the_cheap_bounds_dies_in_the_child_not_in_the_worker():
    before = rss_mb()
    with pytest.raises(ExtractionFailed, match="needs more than 256 MB of memory"):
        extract_bounded("docx", docx_bomb(300 * MB), Limits(memory_mb=256, **NO_CHEAP_BOUNDS))
    assert rss_mb() - before < 20  # the worker never held the inflated text


def test_a_child_past_its_time_is_stopped_with_the_reason():
    started = time.perf_counter()
    with pytest.raises(ExtractionFailed, match=r"took longer than 0.5 s"):
        extract_bounded("pdf", many_pages_pdf(5_000), Limits(timeout_seconds=0.5,
                                                              max_pdf_pages=10**6))
    assert time.perf_counter() - started < 3


def test_deeply_nested_xml_in_a_docx_is_refused_by_the_parser_in_the_child():
    with pytest.raises(ExtractionFailed, match="DOCX could not be read"):
        extract_bounded("docx", nested_docx(100_000), Limits(**NO_CHEAP_BOUNDS))


def test_deeply_nested_html_ends_without_text_or_recursion():
    with pytest.raises(ExtractionFailed, match="no text found|nested too deeply"):
        extract_bounded("html", nested_html(200_000), Limits())


@pytest.mark.parametrize("builder, reason", [
    (malformed_pdf, "PDF could not be read"),
    (pdf_stream_bomb, "PDF could not be read: Limit reached while decompressing"),
    (lambda: many_pages_pdf(2_500), "the PDF has 2,500 pages; at most 2,000 are read"),
])
def test_hostile_pdfs_fail_with_their_reason(builder, reason):
    with pytest.raises(ExtractionFailed, match=reason):
        extract_bounded("pdf", builder(), Limits())


def test_a_csv_of_a_million_columns_is_refused_by_its_first_line():
    started = time.perf_counter()
    with pytest.raises(ExtractionFailed, match="more than 1,000 columns"):
        extract_text("csv", wide_csv(1_000_000))
    assert time.perf_counter() - started < 1
    with pytest.raises(ExtractionFailed, match="more than 1,000 columns"):  # a later row too
        extract_text("csv", b"a,b\n1,2\n" + b",".join([b"x"] * 5_000) + b"\n")


@pytest.mark.parametrize("kind", ["text", "markdown", "csv", "html"])
def test_an_executable_named_as_text_is_refused(kind):
    with pytest.raises(ExtractionFailed, match=f"named as {kind} but holds an executable"):
        precheck(kind, executable_as_text(), Limits())
    with pytest.raises(ExtractionFailed, match="holds binary data"):
        precheck(kind, bytes(range(256)) * 40, Limits())


def test_text_with_a_stray_control_character_or_utf16_is_still_text():
    assert extract_text("text", b"Opening\x00 hours") == "Opening hours"
    assert extract_text("text", "Öffnungszeiten".encode("utf-16")) == "Öffnungszeiten"


def test_normal_documents_still_read_in_the_child():
    from tests.support.documents import make_docx, make_pdf

    assert "Winter tyres" in extract_bounded("pdf", make_pdf([["Winter tyres 49 EUR"]]), Limits())
    docx = make_docx("Service", ["Winter tyres fitted while you wait."])
    assert "# Service" in extract_bounded("docx", docx, Limits())
    assert "Model: Golf" in extract_bounded("csv", b"Model,Price\nGolf,30000\n", Limits())
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY  # ours untouched
