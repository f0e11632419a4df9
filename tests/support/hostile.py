"""Hostile files, generated small: what an abuse probe uploads to take a worker down.

Each is built in memory in well under a second and is small on disk, yet truthful: the zip bomb
really inflates to what its directory says (its deflate stream repeats one fully flushed
segment, so it is written without ever holding the inflated text), the nested HTML really
nests, the CSV really has a million columns.
"""

from __future__ import annotations

import io
import struct
import zlib

from tests.support.documents import make_docx, make_pdf

MB = 1024 * 1024
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_PARAGRAPH = b"<w:p><w:r><w:t>Winter tyres fitted while you wait. </w:t></w:r></w:p>"


def _deflate_repeated(head: bytes, unit: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """(raw deflate stream, crc32, size) of head + unit * times + tail, built from one
    compressed copy of `unit` (a full flush makes each copy independent of the one before)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    segment = comp.compress(unit) + comp.flush(zlib.Z_FULL_FLUSH)
    last = comp.compress(tail) + comp.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    return first + segment * times + last, crc, len(head) + len(unit) * times + len(tail)


def _zip_entry(name: str, deflated: bytes, crc: int, size: int, offset: int) -> tuple[bytes, bytes]:
    """(local header + data, central directory record) of one deflated entry (ZIP64 when the
    entry is 4 GiB or more, which these are not)."""
    raw = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated), size,
                        len(raw), 0) + raw
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                          len(deflated), size, len(raw), 0, 0, 0, 0, 0, offset) + raw
    return local + deflated, central


def docx_bomb(inflated_bytes: int) -> bytes:
    """A DOCX (the parts python-docx needs) whose word/document.xml inflates to about
    `inflated_bytes` of paragraphs: ~1,000-fold, so 2 GiB is a ~2 MB file."""
    template = make_docx("Tyres", ["placeholder"])
    parts: dict[str, bytes] = {}
    with io.BytesIO(template) as f, __import__("zipfile").ZipFile(f) as z:
        for info in z.infolist():
            parts[info.filename] = z.read(info)
    unit = _PARAGRAPH * (MB // len(_PARAGRAPH))
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body>'.encode()
    tail = b"</w:body></w:document>"
    out, directory = bytearray(), []
    for name, data in parts.items():
        if name == "word/document.xml":
            deflated, crc, size = _deflate_repeated(head, unit, max(1, inflated_bytes // len(unit)), tail)
        else:
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            deflated, crc, size = comp.compress(data) + comp.flush(), zlib.crc32(data), len(data)
        local, central = _zip_entry(name, deflated, crc, size, len(out))
        out += local
        directory.append(central)
    start = len(out)
    for record in directory:
        out += record
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(directory), len(directory),
                       len(out) - start, start, 0)
    return bytes(out)


def nested_html(depth: int = 200_000) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>"


def nested_docx(depth: int = 100_000) -> bytes:
    """A DOCX whose document.xml nests elements `depth` deep (an XML parser's stack bomb)."""
    return _replace_document(make_docx("Tyres", ["x"]), (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body><w:p><w:r><w:t>'
        + "<w:x>" * depth + "deep" + "</w:x>" * depth + "</w:t></w:r></w:p></w:body></w:document>"
    ).encode())


def _replace_document(docx: bytes, document_xml: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = document_xml if info.filename == "word/document.xml" else src.read(info)
            dst.writestr(info.filename, data)
    return out.getvalue()


def many_pages_pdf(pages: int = 5_000) -> bytes:
    return make_pdf([["page"] for _ in range(pages)])


def malformed_pdf() -> bytes:
    """A PDF header, a broken cross-reference table and objects that point at themselves."""
    return (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\n"
            b"2 0 obj << /Length 999999999 >> stream\n" + b"\x00\xff" * 4096
            + b"\nxref\n0 99999999\ntrailer << /Root 1 0 R /Size -5 >>\nstartxref\n12\n%%EOF\n")


def pdf_stream_bomb(inflated_bytes: int = 1024 * MB) -> bytes:
    """A one-page PDF whose content stream inflates ~1,000-fold to `inflated_bytes` of text
    operators."""
    unit = b"BT /F1 12 Tf 72 720 Td (Winter tyres fitted while you wait) Tj ET\n" * 16384
    comp = zlib.compressobj(9, zlib.DEFLATED, 15)  # zlib framing, as /FlateDecode wants
    segment = comp.compress(unit) + comp.flush(zlib.Z_FULL_FLUSH)
    header = segment[:2]
    body = segment[2:] * max(1, inflated_bytes // len(unit)) + comp.flush(zlib.Z_FINISH)[:-4]
    stream = header + body + b"\x00\x00\x00\x00"  # a wrong Adler-32: pypdf reads on regardless
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R"
        b" >> >> /Contents 5 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body_ in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body_ + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def wide_csv(columns: int = 1_000_000) -> bytes:
    return b",".join(b"c%d" % i for i in range(columns)) + b"\n" + b",".join([b"1"] * columns) + b"\n"


def executable_as_text() -> bytes:
    """The first bytes of an x86-64 ELF executable, then code-like noise."""
    return (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00"
            + bytes(range(256)) * 64)


HOSTILE = {
    # name: (file name, builder, what it is)
    "docx_bomb_2gib": ("bomb.docx", lambda: docx_bomb(2048 * MB), "DOCX, document.xml inflates to 2 GiB"),
    "docx_bomb_300mb": ("paragraphs.docx", lambda: docx_bomb(300 * MB), "DOCX, ~300 MB of paragraphs"),
    "docx_nested_xml": ("nested.docx", nested_docx, "DOCX, XML nested 100,000 deep"),
    "html_nested": ("nested.html", nested_html, "HTML, <div> nested 200,000 deep"),
    "pdf_5000_pages": ("pages.pdf", many_pages_pdf, "PDF, 5,000 pages"),
    "pdf_malformed": ("broken.pdf", malformed_pdf, "PDF, broken xref and stream lengths"),
    "pdf_stream_bomb": ("stream.pdf", pdf_stream_bomb, "PDF, content stream inflates to 1 GiB"),
    "csv_1e6_columns": ("wide.csv", wide_csv, "CSV, 1,000,000 columns"),
    "exe_named_txt": ("notes.txt", executable_as_text, "ELF executable named .txt"),
}
