"""Raw e-mails → what reaches the prompt: decoded text, the lead's new words only, thread and
sender headers, recipients, attachments, auto-replies; hostile input ends in BadEvent, fast."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from worker.errors import BadEvent
from worker.ingress.email_body import (
    MAX_DEPTH,
    MAX_HEADER_BYTES,
    MAX_PARTS,
    MAX_RAW_BYTES,
    Attachment,
    EmailParts,
    parse_raw_mime,
)
from tests.conftest import SHARED_DIR, shared_dataset
from worker.ingress.mime_bounds import MAX_HTML_CHARS
from worker.ingress.reply_text import MAX_STRIP_CHARS, extract_new_text

CORPUS = Path(__file__).parents[1] / "data" / "emails"


def parse(name: str) -> EmailParts:
    return parse_raw_mime((CORPUS / name).read_bytes())


def reason_of(raw: str | bytes) -> str:
    with pytest.raises(BadEvent) as caught:
        parse_raw_mime(raw)
    return str(caught.value)


def elapsed(fn, *args) -> float:
    """CPU seconds of this process: other load on the machine does not count."""
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


# --- the project's corpus: what survives into new_text, what must not -----------------------------

# file: (new words that must reach the prompt, quoted/signature words that must not)
CORPUS_REPLIES = {
    "gmail_reply_alternative.eml": (
        ["Is the blue Golf still available?", "test drive on Saturday morning"],
        ["red Polo", "financing", "trade-in checklist", "Anna Seller", "wrote:"],
    ),
    "html_only_phone.eml": (
        ["Can I bring my dog to the test drive? He is very calm & quiet."],
        ["Sent from my Galaxy", "Original message", "Tom Verkauf", "showroom", "Hamburg-Altona"],
    ),
    "outlook_reply.eml": (
        ["the 36 month lease works for us", "send the contract to our fleet manager"],
        ["Tom Verkauf", "Sent: Monday", "winter tyres", "trade-in valuation", "_____"],
    ),
    "original_message.eml": (
        ["Tuesday at 9 works, I will drop the car off before work."],
        ["Original Message", "Service Team", "inspection is due", "courtesy vehicle"],
    ),
    "german_reply.eml": (
        ["Vielen Dank! Passt mir der Donnerstag um 15 Uhr für die Probefahrt?"],
        ["schrieb", "Anna Verkauf", "Silbermetallic"],
    ),
    "french_reply.eml": (
        ["Est-ce que l'essai est possible samedi matin ?"],
        ["a écrit", "Anna Vente", "offre de reprise"],
    ),
    "spanish_reply.eml": (
        ["¿Puedo pasar el viernes por la tarde para verlo?"],
        ["escribió", "Anna Ventas", "garantía de dos años"],
    ),
    "dutch_reply.eml": (
        ["Kan ik woensdag langskomen voor een proefrit?"],
        ["schreef", "Anna Verkoop", "trekhaak"],
    ),
    "iphone_signature.eml": (
        ["Perfect, see you at 4 pm."],
        ["Sent from my iPhone", "handover of the cabriolet", "Tom Verkauf"],
    ),
    "outlook_android.eml": (
        ["Can you include floor mats in the price?"],
        ["Get Outlook for Android", "aka.ms", "Tom Verkauf", "hybrid SUV", "panorama roof"],
    ),
    "sig_delimiter.eml": (
        ["We need twelve electric vans for our delivery fleet by June. Can you quote?"],
        ["Max Mustermann", "Head of Logistics", "+49 40 1234567"],
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS_REPLIES))
def test_only_the_leads_new_words_reach_new_text(name):
    keep, drop = CORPUS_REPLIES[name]
    parts = parse(name)
    for words in keep:
        assert words in parts.new_text
    for words in drop:
        assert words not in parts.new_text, f"{words!r} leaked into new_text of {name}"
    # The full text keeps the history (it is stored), so the two really differ.
    assert any(words in parts.text for words in drop)


def test_plain_part_is_preferred_and_the_html_alternative_is_not_appended():
    parts = parse("gmail_reply_alternative.eml")
    assert parts.text.startswith("Hi Anna,\n\nIs the blue Golf still available?")
    assert parts.text.count("blue Golf") == 1
    assert "<div" not in parts.text and "&lt;" not in parts.text


def test_html_only_body_becomes_readable_text():
    parts = parse("html_only_phone.eml")
    assert "calm & quiet" in parts.text  # entities decoded
    assert "<div" not in parts.text and "=3D" not in parts.text  # no markup, QP decoded
    assert "meeting you on Thursday" in parts.text  # the full text keeps what was quoted


def test_empty_plain_alternative_falls_back_to_html():
    raw = (
        'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\n   \n"
        "--b\nContent-Type: text/html\n\n<html><head><style>p {color: red}</style>"
        "<script>alert(1)</script></head><body><p>Price &euro; 9.990?</p>"
        "<ul><li>winter tyres</li><li>tow bar</li></ul></body></html>\n--b--\n"
    )
    parts = parse_raw_mime(raw)
    assert "Price € 9.990?" in parts.text
    assert "winter tyres" in parts.text and "tow bar" in parts.text
    assert parts.text.index("winter tyres") < parts.text.index("tow bar")
    assert "color: red" not in parts.text and "alert" not in parts.text


# --- decoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "quoted_printable_utf8.eml",
            "Grüß Gott! Ich interessiere mich für den Kombi zum Preis von 24.990 € – ist eine "
            "Finanzierung über 48 Monate möglich?",
        ),
        (
            "base64_utf8.eml",
            "Our budget is 30.000 € and we need a tow bar for our caravan. Danke schön, Zoë",
        ),
        (
            "iso_8859_1_8bit.eml",
            "Bonjour, la voiture “Clio” est-elle encore disponible à 12\u00a0500 € ? "
            "Je passe prendre un café jeudi. Grüße aus Köln, Renée",
        ),
        (
            "windows_1252_qp.eml",
            "I’d like the “Premium” package for € 1.200 – can you do it?\nRegards, Seán",
        ),
        ("lying_charset.eml", "Is “déjà vu” the final price of 9.990 €? Merci."),
        ("unknown_charset.eml", "Hej! Kan jeg prøvekøre elbilen på lørdag?"),
    ],
)
def test_every_charset_and_transfer_encoding_is_decoded(name, expected):
    parts = parse(name)
    assert expected in parts.text
    assert "\ufffd" not in parts.text and "=C3" not in parts.text and "Ã" not in parts.text


def test_undecodable_bytes_become_replacement_characters_not_errors():
    raw = b"Content-Type: text/plain; charset=utf-8\n\nprice \x81\x8d\x8f\x90 ok\n"
    assert parse_raw_mime(raw).text == "price \ufffd\ufffd\ufffd\ufffd ok"


def test_nul_bytes_never_reach_the_text():  # Postgres text columns refuse NUL
    parts = parse_raw_mime(b"Subject: a\x00b\n\nhello\x00world\n")
    assert "\x00" not in parts.text and "\x00" not in (parts.subject or "")
    assert parts.text.startswith("hello")


def test_text_input_and_byte_input_give_the_same_result():
    for name in ("gmail_reply_alternative.eml", "rfc2047_headers.eml", "german_reply.eml"):
        raw = (CORPUS / name).read_bytes()
        assert parse_raw_mime(raw.decode("utf-8")) == parse_raw_mime(raw)


# --- headers --------------------------------------------------------------------------------------


def test_rfc2047_subject_and_sender_name_are_decoded():
    parts = parse("rfc2047_headers.eml")
    assert parts.subject == "Probefahrt 🚗 für den Tiguan am Samstag (übermorgen)"
    assert parts.sender_name == "Анна Смирнова"
    assert parts.sender_email == "anna.smirnova@example.ru"
    latin = parse("iso_8859_1_8bit.eml")
    assert (latin.subject, latin.sender_name) == ("Café et voiture à l'essai", "Renée Lefèvre")


def test_thread_headers():
    parts = parse("rfc2047_headers.eml")
    assert parts.message_id == "<rfc2047-1@example.ru>"  # folded onto a second line
    assert parts.in_reply_to == "<thread-root@autohaus-sued.example>"  # comment dropped
    assert parts.references == (
        "<thread-root@autohaus-sued.example>",
        "<reply-2@example.ru>",
        "<reply-3@autohaus-sued.example>",
    )
    gmail = parse("gmail_reply_alternative.eml")
    assert gmail.in_reply_to == "<offer-17@autohaus-nord.example>"
    assert gmail.references == (
        "<enquiry-1@mail.gmail.example>",
        "<offer-17@autohaus-nord.example>",
    )


def test_recipients_from_every_routing_field_lower_cased_once_each():
    assert parse("rfc2047_headers.eml").recipients == (
        "verkauf@autohaus-sued.example",
        "info@autohaus-sued.example",
        "boss@autohaus-sued.example",
        "leads-tenant42@inbound.agentruntime.example",  # Delivered-To and X-Original-To: once
    )
    assert parse("gmail_reply_alternative.eml").recipients == (
        "anna.seller@autohaus-nord.example",
        "lena.fischer@gmail.example",
        "partner@family.example",
        "sales+leads@autohaus-nord.example",
    )


def test_missing_and_malformed_headers_give_none_not_errors():
    parts = parse_raw_mime("From: ((((((((((((((((((((\nTo: ,,,;<>\nSubject:\n\nHello\n")
    assert parts.text == "Hello"
    assert (parts.sender_email, parts.subject, parts.message_id, parts.in_reply_to) == (
        None,
        None,
        None,
        None,
    )
    assert parts.recipients == () and parts.references == ()
    bare = parse_raw_mime("\nJust a body")
    assert bare.text == "Just a body" and bare.sender_email is None


def test_long_headers_are_cut_to_what_the_columns_hold():
    parts = parse_raw_mime(
        "Subject: " + "=?utf-8?q?a?= " * 10_000 + "\nMessage-ID: <" + "x" * 5000 + "@y>\n\nhi"
    )
    assert len(parts.subject) <= 1000 and len(parts.message_id) <= 1000


def test_many_references_keep_the_thread_root_and_the_latest():
    ids = [f"<m{i}@x.example>" for i in range(300)]
    parts = parse_raw_mime("References: " + "\n ".join(ids) + "\n\nhi")
    assert len(parts.references) == 100
    assert parts.references[0] == "<m0@x.example>" and parts.references[-1] == "<m299@x.example>"


# --- attachments ----------------------------------------------------------------------------------


def test_attachments_are_recorded_with_name_type_and_decoded_size():
    parts = parse("attachments_pdf_image.eml")
    assert parts.attachments == (
        Attachment("Zulassung.pdf", "application/pdf", 1040),
        Attachment("Fahrzeug vorne grün.jpg", "image/jpeg", 2011),
    )
    assert parts.text == (
        "Please find attached the registration and a photo of my current car for the trade-in."
    )
    assert "JVBERi" not in parts.text  # no base64 of the PDF in the text


def test_an_attached_text_file_is_not_taken_for_the_body():
    raw = (
        'Content-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nSee file.\n"
        '--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename="notes.txt"\n\n'
        "secret internal notes\n--b--\n"
    )
    parts = parse_raw_mime(raw)
    assert parts.text == "See file."
    # The line break before a boundary belongs to the boundary (RFC 2046).
    assert parts.attachments == (
        Attachment("notes.txt", "text/plain", len("secret internal notes")),
    )


# --- auto-replies and bounces ---------------------------------------------------------------------


def test_auto_reply_is_reported():
    parts = parse("auto_reply.eml")
    assert parts.auto_reply is True
    assert parts.auto_reply_reason == "Auto-Submitted: auto-replied"


def test_bounce_is_reported_and_the_returned_message_is_not_the_body():
    parts = parse("bounce.eml")
    assert parts.auto_reply is True
    assert "multipart/report" in parts.auto_reply_reason
    assert "could not\nbe delivered" in parts.text
    assert "convertible" not in parts.text  # the returned original stays an attachment
    assert [a.content_type for a in parts.attachments] == [
        "message/delivery-status",
        "message/rfc822",
    ]
    assert parts.attachments[1].size > len("Here is the offer for the convertible you asked about.")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
        ("X-Autoreply: yes", "X-Autoreply: yes"),
        ("X-Autorespond: Out of office", "X-Autorespond: Out of office"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: JUNK", "Precedence: junk"),
        ("Precedence: auto_reply", "Precedence: auto_reply"),
        ("X-Failed-Recipients: a@b.example", "bounce (X-Failed-Recipients)"),
        ("From: postmaster@mail.example", "bounce (sender postmaster@mail.example)"),
        ("From: Mailer-Daemon@mail.example", "bounce (sender Mailer-Daemon@mail.example)"),
    ],
)
def test_machine_senders_are_detected(headers, reason):
    parts = parse_raw_mime(f"{headers}\nSubject: x\n\nbody\n")
    assert (parts.auto_reply, parts.auto_reply_reason) == (True, reason)


@pytest.mark.parametrize(
    "headers", ["Auto-Submitted: no", "Precedence: list", "From: daemon-fan@example.com", ""]
)
def test_people_are_not_taken_for_machines(headers):
    parts = parse_raw_mime(f"{headers}\nSubject: x\n\nbody\n")
    assert (parts.auto_reply, parts.auto_reply_reason) == (False, None)


# --- bounds: BadEvent naming the bound, quickly ---------------------------------------------------


def test_oversized_message_is_refused_before_parsing():
    raw = b"Subject: big\n\n" + b"x" * MAX_RAW_BYTES
    assert "MAX_RAW_BYTES" in reason_of(raw)
    assert "MAX_RAW_BYTES" in reason_of(raw.decode())


def test_too_many_parts_is_refused_without_building_them_all():
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n' + b"--b\n\nx\n" * 1_000_000 + b"--b--\n"
    )
    assert elapsed(reason_of, raw) < 2
    assert f"more than {MAX_PARTS} MIME parts (MAX_PARTS)" in reason_of(raw)
    ok = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        + b"--b\n\nx\n" * (MAX_PARTS - 1)
        + b"--b--\n"
    )
    assert parse_raw_mime(ok).text.startswith("x\n\nx")


def test_deep_nesting_is_refused():
    def nested(depth: int) -> bytes:
        head = b"".join(
            b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i)
            for i in range(depth)
        )
        return head + b"Content-Type: text/plain\n\nhello\n"

    assert parse_raw_mime(nested(MAX_DEPTH)).text == "hello"
    assert "MAX_DEPTH" in reason_of(nested(MAX_DEPTH + 1))
    assert "MAX_DEPTH" in reason_of(b"Content-Type: message/rfc822\n\n" * 50 + b"\nhello\n")


def test_too_many_header_bytes_is_refused():
    raw = "".join(f"X-Trace-{i}: {'v' * 60}\n" for i in range(MAX_HEADER_BYTES // 60)) + "\nhi"
    assert "MAX_HEADER_BYTES" in reason_of(raw)


def test_an_oversized_content_type_is_refused_before_the_slow_parameter_parser_runs():
    params = "; ".join(f"name*{i}*=utf-8''a%20" for i in range(20_000))
    raw = f"Content-Type: text/plain; {params}\n\nx"
    assert elapsed(reason_of, raw) < 1
    assert "MAX_MIME_FIELD_CHARS" in reason_of(raw)


def test_html_conversion_has_one_budget_for_all_html_parts():
    row = "<tr><td>Golf 1.5 TSI</td><td>24.990 &euro;</td></tr>" * 2_500  # ~120 KB, table-heavy
    parts = "".join(
        f"--b\nContent-Type: text/html\n\n<p>part {i}</p><table>{row}</table>\n" for i in range(100)
    )
    raw = f'Content-Type: multipart/mixed; boundary="b"\n\n{parts}--b--\n'
    assert len(raw) > 10_000_000
    text = parse_raw_mime(raw).text
    # What is converted is bounded by the budget, not by the mail: of the 250,000 rows only those
    # within the first MAX_HTML_CHARS characters of HTML reach the text (a count, not a timing,
    # so a slow machine cannot fail it; converting all 12 MB would take ~15 s here).
    rows_in_budget = MAX_HTML_CHARS // (len(row) // 2_500)
    assert 0 < text.count("Golf 1.5 TSI") <= rows_in_budget
    assert text.startswith("part 0") and "part 99" not in text


@pytest.mark.parametrize("raw", [None, 42, ["From: a"], {"rawMime": "x"}])
def test_wrong_types_are_bad_events(raw):
    assert "must be text or bytes" in reason_of(raw)


def test_mangled_messages_give_parts_or_bad_event_and_nothing_else():
    rng = random.Random(20250303)
    originals = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    for _ in range(400):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 30)):
            at = rng.randrange(len(data))
            action = rng.random()
            if action < 0.4:
                data[at] = rng.randrange(256)
            elif action < 0.7:
                data[at:at] = rng.choice(
                    [b"\n", b"=?", b"?=", b"--", b";", b'"', b"(", b"<", b"\r"]
                )
            else:
                del data[at : at + rng.randint(1, 50)]
        try:
            parts = parse_raw_mime(bytes(data))
        except BadEvent:
            continue
        assert isinstance(parts.text, str) and isinstance(parts.new_text, str)


# --- the 24 real reply bodies (shared/datasets/email-replies) -------------------------------------

# file: (new words that must survive, quoted-history and signature words that must not)
DATASET = {
    "correct_sig.txt": (["this is an email with a correct -- signature."], ["rick"]),
    "email_1_1.txt": (
        ["What is the best way to clear a Riak bucket", "I am currently using the Java HTTP API."],
        ["riak-users mailing list", "lists.basho.com/mailman", "-Abhishek Kona"],
    ),
    "email_1_2.txt": (  # the answer is written between quoted blocks
        [
            "Hi,",
            "You can list the keys for the bucket",
            "would do it.",
            "delete them all individually",
        ],
        ["What is the best way to clear", "Abhishek Kona wrote", "riak-users mailing list"],
    ),
    "email_1_3.txt": (
        ["Oh thanks.", "Having the function would be great."],
        [
            "Russell Brown wrote",
            "You can list the keys",
            "riak-users mailing list",
            "-Abhishek Kona",
        ],
    ),
    "email_1_4.txt": (
        ["Awesome! I haven't had another problem with it."],
        ["defunkt", "Loader seems to be working well"],
    ),
    "email_1_5.txt": (  # "- bullet" lines are not signatures
        [
            "One: Here's what I've got.",
            "- This would be the first bullet point that wraps",
            "- This is the fourth bullet point",
            "- And another one",
            "This is a paragraph that talks about a bunch of stuff.",
        ],
        [],
    ),
    "email_1_6.txt": (  # "On … <address>\nwrote:" wrapped over three lines
        ["I get proper rendering as well."],
        ["Corey Donohoe", "Was this caching related", "reply@reply.github.com"],
    ),
    "email_1_7.txt": (
        [":+1:"],
        ["Chris Wanstrath", "Steps 0-2 are in prod", "notifications@github.com"],
    ),
    "email_1_8.txt": (  # inline answers below a header on the first line
        ["I will reply under this one", "and under this."],
        [
            "okay.  Well, here's some stuff",
            "you could reply under this line",
            "Tim Haines",
            "Hey there, this is my signature",
        ],
    ),
    "email_2_1.txt": (["Outlook with a reply"], ["Google Apps Sync", "mail-noreply@google.com"]),
    "email_2_2.txt": (
        ["Outlook with a reply directly above line"],
        ["CRM Comments", "A new comment has been added", "I am replying to a comment."],
    ),
    "email_2_3.txt": (
        ["Outlook with a reply above headers using unusual format"],
        ["Kim via Site", "Respond to Kim", "Ei tale aliquam"],
    ),
    "email_BlackBerry.txt": (["Here is another email"], ["Sent from my BlackBerry"]),
    "email_bullets.txt": (
        [
            "test 2 this should list second",
            "and retain this formatting",
            "- how about bullets",
            "- and another",
        ],
        ["Give us an example", "examples@email.goalengine.com", "Joe Smith"],
    ),
    "email_gmail.txt": (
        ["This is a test for inbox replying to a github message."],
        ["Steven Scott", "That way people can tell", "You are receiving this"],
    ),
    "email_headers_no_delimiter.txt": (
        ["And another reply!"],
        ["Dan Watson", "A reply", "Sent from my iPhone", "This is a message."],
    ),
    "email_iPhone.txt": (["Here is another email"], ["Sent from my iPhone"]),
    "email_multi_word_sent_from_my_mobile_device.txt": (
        ["Here is another email"],
        ["Sent from my Verizon Wireless BlackBerry"],
    ),
    "email_one_is_not_on.txt": (  # "One outstanding …" is no "On … wrote:" header
        [
            "Thank, this is really helpful.",
            "One outstanding question I had:",
            "Locally (on development), when I run...",
        ],
        ["Dave Tapley", "The good news is that I've found"],
    ),
    "email_partial_quote_header.txt": (
        [
            "On your remote host you can run:",
            "telnet 127.0.0.1 52698",
            "the tunnel is not working.",
        ],
        ["George Plymale", "I am having an odd issue"],
    ),
    "email_sent_from_my_not_signature.txt": (
        ["Here is another email", "Sent from my desk, is much easier then my mobile phone."],
        [],
    ),
    "email_sig_delimiter_in_middle_of_line.txt": (
        [
            "Hi there!",
            "Stuff happened.",
            "And here is a fix -- this is not a signature.",
            "kthxbai",
        ],
        [],
    ),
    "greedy_on.txt": (  # a paragraph opening with "On" must not swallow up to a later "wrote:"
        [
            "On your remote host you can run:",
            "telnet 127.0.0.1 52698",
            "the tunnel is not working.",
        ],
        ["George Plymale", "I am having an odd issue", "Reply to this email directly"],
    ),
    "pathological.txt": (
        ["I think you're onto something.", "get back to a computer."],
        [
            "John Sullivan",
            "I think your code is shortening",
            "organism.sequence",
            "query_alignment",
        ],
    ),
}


def test_every_dataset_file_has_expectations():
    assert sorted(p.name for p in shared_dataset("email-replies").glob("*.txt")) == sorted(DATASET)


@pytest.mark.parametrize("name", sorted(DATASET))
def test_dataset_reply_keeps_new_words_and_drops_history(name):
    keep, drop = DATASET[name]
    new_text = extract_new_text((shared_dataset("email-replies") / name).read_text("utf-8"))
    for words in keep:
        assert words in new_text
    for words in drop:
        assert words not in new_text, f"{words!r} leaked from {name}"


def test_pathological_reply_finishes_fast():
    body = (shared_dataset("email-replies") / "pathological.txt").read_text(encoding="utf-8")
    assert elapsed(extract_new_text, body * 60) < 2  # ~180 KB of long quoted lines


# --- extract_new_text on plain `message` strings --------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Sent from Yahoo Mail on Android",
        "Von meinem iPhone gesendet",
        "Gesendet von meinem Huawei Telefon",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Verstuurd vanaf mijn iPhone",
    ],
)
def test_mobile_signatures_in_five_languages_are_dropped(signature):
    assert (
        extract_new_text(f"Is the car still available?\n\n{signature}\n")
        == "Is the car still available?"
    )


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, Mar 3, 2025 at 10:00 AM Anna <anna@dealer.example> wrote:",
        "Am 03.03.2025 um 10:00 schrieb Anna <anna@dealer.example>:",
        "Le 3 mars 2025 à 10:00, Anna <anna@dealer.example> a écrit\u00a0:",
        "El 3 mar 2025, a las 10:00, Anna <anna@dealer.example> escribió:",
        "Op 3 mrt. 2025 om 10:00 heeft Anna <anna@dealer.example> het volgende geschreven:",
    ],
)
def test_unquoted_history_below_a_reply_header_is_cut(header):
    # As HTML bodies arrive: the quoted mail is indented text, not "> " lines.
    body = f"Yes, Saturday works.\n\n{header}\n\n    Our opening hours are 9 to 18.\n"
    assert extract_new_text(body) == "Yes, Saturday works."


def test_outlook_block_with_a_display_name_only_is_cut():
    body = (
        "Fine by me.\n\nFrom: Watson, Dan\nSent: Monday, 3 March 2025 10:00\nTo: Lead\n"
        "Subject: Offer\n\nOld offer text"
    )
    assert extract_new_text(body) == "Fine by me."


def test_german_outlook_block_is_cut():
    body = (
        "Passt.\n\nVon: Anna Verkauf <anna@autohaus.example>\n"
        "Gesendet: Montag, 3. März 2025 10:00\nAn: Lead\nBetreff: Angebot\n\nAltes Angebot"
    )
    assert extract_new_text(body) == "Passt."


def test_a_lead_writing_from_and_to_lines_keeps_them():
    body = "We are moving house.\nFrom: Berlin\nTo: Hamburg\nCan you deliver the car there?"
    assert extract_new_text(body) == body


def test_a_forward_with_nothing_above_keeps_the_forwarded_words():
    body = (
        "---------- Forwarded message ---------\nFrom: Lena <lena@example.com>\n"
        "Date: Mon, 3 Mar 2025\nSubject: Car\nTo: me@example.com\n\nIs the Golf available?"
    )
    assert extract_new_text(body) == "Is the Golf available?"


def test_an_all_quoted_body_leaves_nothing_new():
    assert extract_new_text("> old question\n> more old text\n") == ""


def test_crlf_and_cr_line_ends_are_handled():
    body = "New words here.\r\n\r\nOn Mon, 3 Mar 2025, Anna wrote:\r\n> old words\r\n"
    assert extract_new_text(body) == "New words here."
    assert extract_new_text(body.replace("\r\n", "\r")) == "New words here."


def test_only_the_start_of_a_huge_body_is_searched():
    body = "First words.\n" + "filler line of text\n" * (MAX_STRIP_CHARS // 20) + "LATE WORDS\n"
    new_text = extract_new_text(body)
    assert new_text.startswith("First words.") and "LATE WORDS" not in new_text
    assert len(new_text) <= MAX_STRIP_CHARS


@pytest.mark.parametrize(
    "body",
    [
        "On x\n" * 40_000,
        "On " * 70_000,
        "Am x schrieb " * 16_000,
        "x wrote:\n" * 25_000,
        "From: a@b\nTo: c\n" * 12_000,
        "> q\nx\n" * 35_000,
        "-a\n\n" * 50_000,
        "\n" * 200_000,
        "On " + "a" * 200_000 + " wrote:",
    ],
)
def test_hostile_bodies_finish_fast(body):
    assert elapsed(extract_new_text, body) < 2
