"""How fast raw e-mails are parsed, and that the cost grows linearly with their size.

Builds messages in memory (nothing is read or written):
  * a typical reply of ~20 KB: a few new lines, a long quoted "> " thread, an HTML alternative;
  * a ~10 MB message: the same reply with a longer thread and a base64 PDF-sized attachment;
  * for the scaling table, messages of 1 KB … 10 MB of three shapes: "text" (the quoted thread
    grows, with its HTML alternative), "attachment" (a short reply plus a growing file) and
    "HTML only" (an Outlook-like body of paragraphs and a table; only its first MAX_HTML_CHARS
    are converted, so its time stops growing past 1 MB).

Each is parsed with worker.ingress.email_body.parse_raw_mime until at least --seconds have passed
(and at least 3 times); the median CPU time of this process per message is reported, so other
load on the machine does not skew it (messages/s is then per core). Linear growth means the time
per KB stays flat down a column; "×20 KB" is the time relative to the 20 KB reply, which for a
10 MB message should be near 500 (its size ratio) or below, never thousands.

Run from the repository root:

    .venv/bin/python bench/email_parse.py
    .venv/bin/python bench/email_parse.py --seconds 0.5
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.ingress.email_body import parse_raw_mime  # noqa: E402

NEW_WORDS = (
    "Hi Anna,\n\nthanks for the offer. Is the blue Golf still available, and could I come for a "
    "test drive on Saturday morning? I would trade in my 2015 Polo.\n\nBest,\nLena\n"
)
QUOTED_MAIL = (
    "On Mon, 3 Mar 2025 at 10:00, Anna Seller <anna@dealer.example> wrote:\n"
    "> Dear Ms Fischer,\n>\n> thank you for your interest. Our offer for the Golf includes winter\n"
    "> tyres, a three-year warranty and free delivery within 50 km. Financing is available\n"
    "> over 24 to 60 months; the brochure is attached.\n>\n> Kind regards\n> Anna Seller\n>\n"
)


def reply(text_bytes: int, attachment_bytes: int = 0) -> bytes:
    """A Gmail-like reply: plain and HTML alternatives of ~text_bytes, plus an optional file."""
    thread = NEW_WORDS + "\n"
    while len(thread) < text_bytes // 2:
        thread += QUOTED_MAIL
    html = (
        '<div dir="ltr">'
        + thread.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>\n")
        + "</div>"
    )
    boundary_alt, boundary_mixed = "alt-7f3a", "mixed-9c2e"
    alternative = (
        f'Content-Type: multipart/alternative; boundary="{boundary_alt}"\n\n'
        f"--{boundary_alt}\nContent-Type: text/plain; charset=utf-8\n\n{thread}\n"
        f"--{boundary_alt}\nContent-Type: text/html; charset=utf-8\n\n{html}\n"
        f"--{boundary_alt}--\n"
    )
    head = (
        "From: Lena Fischer <lena@example.com>\nTo: sales@dealer.example\n"
        "Subject: Re: Your offer\nMessage-ID: <bench-1@example.com>\n"
        "In-Reply-To: <offer-1@dealer.example>\nMIME-Version: 1.0\n"
    )
    if not attachment_bytes:
        return (head + alternative).encode()
    payload = base64.encodebytes(os.urandom(attachment_bytes * 3 // 4)).decode()
    return (
        head
        + f'Content-Type: multipart/mixed; boundary="{boundary_mixed}"\n\n'
        + f"--{boundary_mixed}\n{alternative}\n"
        + f"--{boundary_mixed}\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        + f'filename="offer.pdf"\nContent-Transfer-Encoding: base64\n\n{payload}\n'
        + f"--{boundary_mixed}--\n"
    ).encode()


def html_only(size: int) -> bytes:
    para = "<p>Thank you for your interest in the <b>Golf</b>: winter tyres &amp; delivery.</p>\n"
    row = "<tr><td>Golf 1.5 TSI</td><td>24.990 &euro;</td></tr>\n"
    half = (size // 2) // len(para)
    body = (
        f"<html><body>{para * half}<table>{row * ((size // 2) // len(row))}</table></body></html>"
    )
    return (
        "From: lead@example.com\nSubject: Offer\nMIME-Version: 1.0\n"
        f"Content-Type: text/html; charset=utf-8\n\n{body}"
    ).encode()


def seconds_per_message(raw: bytes, min_seconds: float) -> float:
    times: list[float] = []
    started = time.process_time()
    while len(times) < 3 or time.process_time() - started < min_seconds:
        start = time.process_time()
        parse_raw_mime(raw)
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum time per measurement")
    args = parser.parse_args()

    typical = reply(20_000)
    big = reply(1_000_000, attachment_bytes=9_000_000)
    check = parse_raw_mime(typical)
    assert "blue Golf" in check.new_text and "winter" not in check.new_text
    print(f"python {sys.version.split()[0]}, parse_raw_mime, median CPU time of repeated runs\n")
    print(f"{'message':<34}{'size':>12}{'ms/message':>14}{'messages/s':>14}")
    base = 0.0
    for label, raw in (
        ("typical reply (text+HTML+quotes)", typical),
        ("big (1 MB text + 9 MB file)", big),
    ):
        spent = seconds_per_message(raw, args.seconds)
        base = base or spent
        print(f"{label:<34}{len(raw):>12,}{spent * 1000:>14.3f}{1 / spent:>14.1f}")
    ratio = seconds_per_message(big, args.seconds) / base
    print(f"\n10 MB / 20 KB: size ×{len(big) / len(typical):.0f}, time ×{ratio:.0f}\n")

    shapes = {
        "text": lambda size: reply(size),
        "attachment": lambda size: reply(2_000, attachment_bytes=size),
        "HTML only": html_only,
    }
    print(
        f"{'size':>10}"
        + "".join(f" | {name + ': ms':>16}{'µs/KB':>8}{'×20 KB':>8}" for name in shapes)
    )
    for size in (1_000, 10_000, 20_000, 100_000, 1_000_000, 10_000_000):
        row = f"{size:>10,}"
        for build in shapes.values():
            raw = build(size)
            spent = seconds_per_message(raw, args.seconds)
            per_kb = spent * 1e6 / (len(raw) / 1000)
            row += f" | {spent * 1000:>16.2f}{per_kb:>8.1f}{spent / base:>8.1f}"
        print(row)


if __name__ == "__main__":
    main()
