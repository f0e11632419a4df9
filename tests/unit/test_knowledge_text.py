"""Knowledge-base documents: file → text, text → chunks, query → terms and snippets."""

from __future__ import annotations

import pytest

from tests.support.documents import make_docx, make_pdf
from worker.audience import Audience, Segment, Segmentation, parse_segment
from worker.text.chunking import MAX_WORDS, TARGET_WORDS, chunk_text
from worker.knowledge.errors import ExtractionFailed, InvalidInput, UnsupportedType
from worker.knowledge.extract import extract_text, kind_for
from worker.knowledge.paths import check_filename, normalize_folder
from worker.text.query_terms import make_snippet, query_terms


@pytest.mark.parametrize(
    ("filename", "content_type", "kind"),
    [
        ("Prices.MD", None, "markdown"), ("notes.txt", None, "text"), ("a.htm", None, "html"),
        ("list.csv", None, "csv"), ("policy.pdf", None, "pdf"), ("hours.docx", None, "docx"),
        ("no-suffix", "application/pdf", "pdf"), ("page", "text/html; charset=utf-8", "html"),
    ],
)
def test_kind_comes_from_the_suffix_else_the_content_type(filename, content_type, kind):
    assert kind_for(filename, content_type) == kind


def test_unsupported_files_are_refused_with_the_supported_list():
    with pytest.raises(UnsupportedType, match="Markdown/text"):
        kind_for("slides.pptx")


def test_pdf_text_from_every_page():
    pdf = make_pdf([["Opening hours (Mon-Fri 8-18)"], ["Saturday 9-13"]])
    text = extract_text("pdf", pdf)
    assert "Opening hours (Mon-Fri 8-18)" in text and "Saturday 9-13" in text


@pytest.mark.parametrize("content", [b"%PDF-1.4 this is not really a pdf", b"", b"\x00" * 64])
def test_a_corrupt_pdf_fails_with_a_reason(content):
    with pytest.raises(ExtractionFailed, match="PDF|no text"):
        extract_text("pdf", content)


def test_a_pdf_without_text_says_ocr_is_not_supported():
    with pytest.raises(ExtractionFailed, match="OCR"):
        extract_text("pdf", make_pdf([[]]))


def test_docx_headings_paragraphs_and_tables_in_order():
    content = make_docx("Service", ["Oil change: 89 EUR."], [["Model", "Price"], ["Golf", "29,990"]])
    text = extract_text("docx", content)
    assert text.index("# Service") < text.index("Oil change") < text.index("Golf | 29,990")


def test_a_corrupt_docx_fails_with_a_reason():
    with pytest.raises(ExtractionFailed, match="DOCX could not be read"):
        extract_text("docx", b"PK\x03\x04 not a zip at all")


def test_csv_rows_carry_their_column_names():
    content = "Model;Price;Note\nGolf;29.990 €;\nPolo;19.990 €;new\n".encode()
    assert extract_text("csv", content) == (
        "Model: Golf; Price: 29.990 €\n\nModel: Polo; Price: 19.990 €; Note: new"
    )


def test_html_is_turned_into_text_without_scripts():
    html = b"<html><head><script>var x = 1;</script></head><body><h1>Hours</h1><p>Mon&ndash;Fri</p>"
    text = extract_text("html", html)
    assert "Hours" in text and "Mon\u2013Fri" in text and "var x" not in text


@pytest.mark.parametrize(
    "content", ["Öffnungszeiten: Mo–Fr".encode("utf-8"), "Öffnungszeiten: Mo–Fr".encode("cp1252"),
                "\ufeffÖffnungszeiten: Mo–Fr".encode("utf-8"), "Öffnungszeiten: Mo–Fr".encode("utf-16")],
)
def test_text_encodings_office_tools_write(content):
    assert extract_text("text", content) == "Öffnungszeiten: Mo–Fr"


def test_nul_and_control_characters_are_dropped_and_blank_files_fail():
    assert extract_text("markdown", b"Opening\x00 hours\x07") == "Opening hours"
    with pytest.raises(ExtractionFailed, match="no text"):
        extract_text("markdown", b" \n\t\n")


def test_chunks_follow_headings_and_remember_them():
    text = "Intro line.\n\n# Service\n\n## Opening hours\n\nMon-Fri 8-18.\n\n## Prices\n\nOil 89 EUR.\n"
    chunks = chunk_text(text)
    assert [(c.heading, c.text) for c in chunks] == [
        ("", "Intro line."),
        ("Service › Opening hours", "Mon-Fri 8-18."),
        ("Service › Prices", "Oil 89 EUR."),
    ]


def test_long_sections_are_cut_into_chunks_of_a_few_hundred_words_without_losing_any():
    paragraphs = [" ".join(f"w{p}_{i}." for i in range(70)) for p in range(20)]
    giant = " ".join(f"x{i}" for i in range(1000))  # one "sentence" of 1000 words
    chunks = chunk_text("# Big\n\n" + "\n\n".join(paragraphs) + "\n\n" + giant)
    counts = [len(c.text.split()) for c in chunks]
    assert all(n <= MAX_WORDS for n in counts) and max(counts) >= TARGET_WORDS - 70
    assert sum(counts) == 20 * 70 + 1000
    assert all(c.heading == "Big" for c in chunks)


def test_a_document_of_headings_only_is_still_one_chunk():
    assert [c.text for c in chunk_text("# Opening hours\n## Saturday")] == [
        "Opening hours Saturday"]


def test_query_terms_drop_stop_words_of_five_languages_and_repeats():
    assert query_terms("What are your opening hours on Saturday? Opening!") == [
        "opening", "hours", "saturday"]
    assert query_terms("Wie sind die Öffnungszeiten am Samstag?") == ["öffnungszeiten", "samstag"]
    assert query_terms("? ! the and") == []


def test_snippet_is_short_and_around_the_first_match():
    text = "filler " * 200 + "Saturday we open at 9 and close at 13. " + "tail " * 200
    snippet = make_snippet(text, ["saturday"])
    assert "Saturday we open at 9" in snippet and len(snippet) <= 310
    assert make_snippet("short text", ["x"]) == "short text"


def test_a_leads_audience_comes_from_metadata_and_junk_is_ignored():
    audience = Audience.from_metadata({
        "userId": 42,
        "segments": [{"groupId": "brand", "itemId": "vw"}, {"groupId": "x"}, "junk",
                     {"groupId": "", "itemId": "y"}, {"groupId": ["a"], "itemId": "b"}],
    })
    assert audience == Audience(user_id="42", segments=frozenset({Segment("brand", "vw")}))
    assert Audience.from_metadata(None) == Audience()
    assert Audience.from_metadata({"segments": "brand:vw", "userId": True}) == Audience()


def test_a_documents_segmentation_is_validated_strictly():
    seg = Segmentation.parse({"segments": [{"groupId": "brand", "itemId": 7}], "userIds": ["u1"]})
    assert seg.to_json() == {"segments": [{"groupId": "brand", "itemId": "7"}], "userIds": ["u1"]}
    assert Segmentation.parse({}).is_everyone
    for bad in ({"segments": [{"groupId": "a"}]}, {"userIds": [""]}, {"tags": []}, [],
                {"segments": "a:b"}, {"userIds": ["a\x00b"]}):
        with pytest.raises(InvalidInput):
            Segmentation.parse(bad)
    assert parse_segment("brand:vw:golf") == Segment("brand", "vw:golf")
    with pytest.raises(InvalidInput):
        parse_segment("brand")


def test_folder_paths_and_file_names():
    assert normalize_folder(" /prices//2026/ ") == "prices/2026"
    assert normalize_folder("/") == normalize_folder(None) == ""
    for bad in ("a/../b", "a/./b", "a\\b", "x" * 256):
        with pytest.raises(InvalidInput):
            normalize_folder(bad)
    assert check_filename(" prices.pdf ") == "prices.pdf"
    for bad in ("", "a/b.pdf", "..", "a\x00.pdf"):
        with pytest.raises(InvalidInput):
            check_filename(bad)
