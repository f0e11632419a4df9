"""Writes the .eml files beside it: the e-mail corpus of tests/unit/test_email_parsing.py.

The files are committed; this is how their bytes were made (8-bit Latin-1 and Windows-1252
bodies, quoted-printable, base64), so a case can be changed or added. Run from anywhere:

    .venv/bin/python tests/data/emails/make_corpus.py
"""

import base64
import os
import quopri

os.chdir(os.path.dirname(os.path.abspath(__file__)))


def w(name, text, crlf=True, enc='ascii'):
    data = text.replace('\n', '\r\n') if crlf else text
    open(name, 'wb').write(data.encode(enc) if isinstance(data, str) else data)

# 1. Gmail reply, multipart/alternative (plain preferred), CRLF
w('gmail_reply_alternative.eml', '''Return-Path: <lena.fischer@gmail.example>
Delivered-To: Sales+Leads@AutoHaus-Nord.example
From: Lena Fischer <lena.fischer@gmail.example>
To: "Anna Seller" <Anna.Seller@autohaus-nord.example>
Cc: lena.fischer@gmail.example, Partner@Family.example
Subject: Re: Your enquiry about the Golf
Date: Mon, 3 Mar 2025 11:02:17 +0100
Message-ID: <CAF+lena-2@mail.gmail.example>
In-Reply-To: <offer-17@autohaus-nord.example>
References: <enquiry-1@mail.gmail.example>
 <offer-17@autohaus-nord.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"

Hi Anna,

Is the blue Golf still available? I would like a test drive on Saturday morning.

Best,
Lena

On Mon, 3 Mar 2025 at 10:00, Anna Seller <anna.seller@autohaus-nord.example> wrote:

> Dear Ms Fischer,
>
> thank you for your interest in the red Polo. I have attached our financing
> brochure and the trade-in checklist.
>
> Kind regards
> Anna Seller

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Hi Anna,<br><br>Is the blue Golf still available? I would like a test drive on Saturday morning.<br><br>Best,<br>Lena</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 3 Mar 2025 at 10:00, Anna Seller &lt;<a href="mailto:anna.seller@autohaus-nord.example">anna.seller@autohaus-nord.example</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex"><div>Dear Ms Fischer,<br><br>thank you for your interest in the red Polo. I have attached our financing brochure and the trade-in checklist.</div></blockquote></div>

--000000000000a1b2c3--
''')

# 2. HTML-only from a phone (Samsung style), quoted-printable
html = '''<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body dir="auto"><div dir="auto">Can I bring my dog to the test drive? He is very calm &amp; quiet.</div><div dir="auto"><br></div><div id="composer_signature" dir="auto"><div style="font-size:85%;color:#575757" dir="auto">Sent from my Galaxy</div></div><div dir="auto"><br></div><div><br></div><div align="left" dir="auto" style="font-size:100%;color:#000000"><div>-------- Original message --------</div><div>From: Tom Verkauf &lt;tom@autohaus-nord.example&gt; </div><div>Date: 03/03/2025 10:00 (GMT+01:00) </div><div>To: Jonas Weber &lt;jonas.weber@mobile.example&gt; </div><div>Subject: Your test drive </div><div><br></div></div><p>We look forward to meeting you on Thursday at the showroom in Hamburg-Altona.</p></body></html>'''
qp = quopri.encodestring(html.encode('utf-8')).decode('ascii')
w('html_only_phone.eml', '''From: Jonas Weber <jonas.weber@mobile.example>
To: tom@autohaus-nord.example
Subject: Re: Your test drive
Message-ID: <samsung-77@mobile.example>
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

''' + qp + '\n')

# 3. quoted-printable UTF-8 with soft breaks
body = "Grüß Gott! Ich interessiere mich für den Kombi zum Preis von 24.990 € – ist eine Finanzierung über 48 Monate möglich? Außerdem hätte ich gern einen Termin für eine Probefahrt nächste Woche.\n\nViele Grüße\nJürgen Müller\n"
w('quoted_printable_utf8.eml', '''From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen.mueller@example.de>
To: verkauf@autohaus-nord.example
Subject: =?utf-8?q?Finanzierung_f=C3=BCr_den_Kombi?=
Message-ID: <qp-1@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

''' + quopri.encodestring(body.encode('utf-8')).decode('ascii'))

# 4. base64 UTF-8
body = "Hello, we are a family of five – does the Touran have seven seats? Our budget is 30.000 € and we need a tow bar for our caravan. Danke schön, Zoë\n"
b64 = base64.encodebytes(body.encode('utf-8')).decode('ascii')
w('base64_utf8.eml', '''From: Zoe Brandt <zoe@family.example>
To: sales@autohaus-nord.example
Subject: Seven seats?
Message-ID: <b64-1@family.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

''' + b64)

# 5. ISO-8859-1 declared, 8bit, with cp1252 bytes (curly quotes 0x93/0x94, euro 0x80)
head = '''From: =?iso-8859-1?q?Ren=E9e_Lef=E8vre?= <renee@example.fr>
To: ventes@garage-sud.example
Subject: =?ISO-8859-1?Q?Caf=E9_et_voiture_=E0_l'essai?=
Message-ID: <latin1-1@example.fr>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

'''
body = "Bonjour, la voiture \x93Clio\x94 est-elle encore disponible à 12\xa0500 \x80 ? Je passe prendre un café jeudi. Grüße aus Köln, Renée\n"
open('iso_8859_1_8bit.eml', 'wb').write(head.replace('\n', '\r\n').encode('ascii') + body.encode('latin-1').replace(b'\n', b'\r\n'))

# 6. windows-1252 QP
body = "I\x92d like the \x93Premium\x94 package for \x80 1.200 \x96 can you do it?\nRegards, Seán\n".encode('latin-1')
w('windows_1252_qp.eml', '''From: "Sean O'Brien" <sean@example.ie>
To: sales@autohaus-nord.example
Subject: Premium package
Message-ID: <cp1252-1@example.ie>
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: quoted-printable

''' + quopri.encodestring(body).decode('ascii'), crlf=False)

# 7. RFC 2047 subject/name (UTF-8 base64 + ISO Q), recipients in all fields
w('rfc2047_headers.eml', '''Delivered-To: Leads-Tenant42@Inbound.AgentRuntime.example
X-Original-To: leads-tenant42@inbound.agentruntime.example
From: =?UTF-8?B?0JDQvdC90LAg0KHQvNC40YDQvdC+0LLQsA==?= <anna.smirnova@example.ru>
To: =?UTF-8?Q?Autohaus_S=C3=BCd?= <Verkauf@AUTOHAUS-SUED.example>, info@autohaus-sued.example
Cc: "Boss, The" <BOSS@autohaus-sued.example>
Subject: =?UTF-8?B?UHJvYmVmYWhydCDwn5qXIGbDvHIgZGVuIFRpZ3Vhbg==?=
 =?ISO-8859-1?Q?_am_Samstag_=28=FCbermorgen=29?=
Message-ID:
 <rfc2047-1@example.ru>
In-Reply-To: <thread-root@autohaus-sued.example> (message from Verkauf)
References: <thread-root@autohaus-sued.example> <reply-2@example.ru>
 <reply-3@autohaus-sued.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Guten Tag, ich möchte den Tiguan am Samstag probefahren.
''', enc='utf-8')

# 8. attachments: PDF + JPEG (RFC 2231 filename)
pdf = b'%PDF-1.4\n' + bytes(range(256)) * 4 + b'\n%%EOF\n'   # 1039 bytes
jpg = b'\xff\xd8\xff\xe0' + b'\x00JFIF' + bytes(i % 251 for i in range(2000)) + b'\xff\xd9'  # 2011 bytes
w('attachments_pdf_image.eml', '''From: Peter Klein <peter@example.at>
To: sales@autohaus-nord.example
Subject: My trade-in documents
Message-ID: <att-1@example.at>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed-boundary"

--mixed-boundary
Content-Type: text/plain; charset=utf-8

Please find attached the registration and a photo of my current car for the trade-in.

--mixed-boundary
Content-Type: application/pdf; name="Zulassung.pdf"
Content-Disposition: attachment; filename="Zulassung.pdf"
Content-Transfer-Encoding: base64

''' + base64.encodebytes(pdf).decode() + '''
--mixed-boundary
Content-Type: image/jpeg
Content-Disposition: attachment; filename*=utf-8''Fahrzeug%20vorne%20gr%C3%BCn.jpg
Content-Transfer-Encoding: base64

''' + base64.encodebytes(jpg).decode() + '''
--mixed-boundary--
''')


# 9. Outlook From/Sent/To/Subject block with underscore line
w('outlook_reply.eml', '''From: "Meier, Klaus" <k.meier@firma.example>
To: sales@autohaus-nord.example
Subject: RE: Leasing offer
Message-ID: <AM0PR01MB-outlook-1@firma.example>
Thread-Topic: Leasing offer
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"

Thanks, the 36 month lease works for us. Please send the contract to our fleet manager.

Klaus Meier
Fleet & Facilities
________________________________
From: Tom Verkauf <tom@autohaus-nord.example>
Sent: Monday, March 3, 2025 10:00 AM
To: Meier, Klaus <k.meier@firma.example>
Subject: Leasing offer

Dear Mr Meier,

here is the leasing offer including the winter tyres package and the trade-in valuation.
''')

# 10. -----Original Message-----
w('original_message.eml', '''From: Sarah Lang <sarah.lang@corp.example>
To: sales@autohaus-nord.example
Subject: RE: Service appointment
Message-ID: <orig-1@corp.example>
MIME-Version: 1.0
Content-Type: text/plain

Tuesday at 9 works, I will drop the car off before work.

-----Original Message-----
From: Service Team [mailto:service@autohaus-nord.example]
Sent: Friday, February 28, 2025 4:12 PM
To: Sarah Lang
Subject: Service appointment

Your inspection is due; we can offer Tuesday or Wednesday with a courtesy vehicle.
''')

# 11-14 multi-language
langs = {
 'german_reply.eml': ('Vielen Dank! Passt mir der Donnerstag um 15 Uhr für die Probefahrt?',
     'Am Mo., 3. März 2025 um 10:00 Uhr schrieb Anna Verkauf <anna@autohaus.example>:',
     'wir haben den Kombi in Silbermetallic vorrätig'),
 'french_reply.eml': ("Merci beaucoup ! Est-ce que l'essai est possible samedi matin ?",
     'Le lun. 3 mars 2025 à 10:00, Anna Vente <anna@garage.example> a écrit :',
     'notre offre de reprise est valable quinze jours'),
 'spanish_reply.eml': ('¡Gracias! ¿Puedo pasar el viernes por la tarde para verlo?',
     'El lun, 3 mar 2025 a las 10:00, Anna Ventas (<anna@concesionario.example>) escribió:',
     'el coche gris tiene garantía de dos años'),
 'dutch_reply.eml': ('Bedankt! Kan ik woensdag langskomen voor een proefrit?',
     'Op ma 3 mrt 2025 om 10:00 schreef Anna Verkoop <anna@dealer.example>:',
     'de blauwe stationwagen heeft een trekhaak'),
}
for name, (new, hdr, old) in langs.items():
    w(name, f'''From: Lead <lead@example.eu>
To: sales@dealer.example
Subject: Re: Offer
Message-ID: <{name}@example.eu>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{new}

{hdr}

> {old}
> 
> Anna
''', enc='utf-8')

# 15 iPhone
w('iphone_signature.eml', '''From: Mia Wolf <mia.wolf@icloud.example>
To: sales@autohaus-nord.example
Subject: Re: Appointment
Message-ID: <iphone-1@icloud.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Perfect, see you at 4 pm.

Sent from my iPhone

> On 3 Mar 2025, at 10:00, Tom Verkauf <tom@autohaus-nord.example> wrote:
> 
> Would 4 pm on Friday suit you for the handover of the cabriolet?
''')

# 16 Outlook for Android
w('outlook_android.eml', '''From: Ben Hoffmann <ben.h@outlook.example>
To: tom@autohaus-nord.example
Subject: Re: Your quote
Message-ID: <android-1@outlook.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Can you include floor mats in the price?

Get Outlook for Android<https://aka.ms/AAb9ysg>
________________________________
From: Tom Verkauf <tom@autohaus-nord.example>
Sent: Monday, March 3, 2025 10:00:00 AM
To: Ben Hoffmann <ben.h@outlook.example>
Subject: Your quote

Attached is the quote for the hybrid SUV with the panorama roof.
''')

# 17 "-- " signature delimiter
w('sig_delimiter.eml', '''From: Max Mustermann <max@firma.example>
To: sales@autohaus-nord.example
Subject: Fleet enquiry
Message-ID: <sig-1@firma.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8; format=flowed

We need twelve electric vans for our delivery fleet by June. Can you quote?

-- 
Max Mustermann
Head of Logistics, Mustermann Delivery GmbH
Tel. +49 40 1234567
''', enc='utf-8')

# 18 auto-reply
w('auto_reply.eml', '''From: Petra Schulz <petra@firma.example>
To: sales@autohaus-nord.example
Subject: Automatic reply: Your offer
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Message-ID: <oof-1@firma.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I am out of the office until 17 March with no access to e-mail.
''')

# 19 bounce
w('bounce.eml', '''Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.autohaus-nord.example>
To: sales@autohaus-nord.example
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <bounce-1@mx.autohaus-nord.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="report-boundary"

--report-boundary
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.autohaus-nord.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@nowhere.example>: host nowhere.example said: 550 5.1.1 User unknown

--report-boundary
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.autohaus-nord.example
Arrival-Date: Mon,  3 Mar 2025 10:00:00 +0100 (CET)

Final-Recipient: rfc822; nobody@nowhere.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--report-boundary
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: sales@autohaus-nord.example
To: nobody@nowhere.example
Subject: Your offer
Message-ID: <offer-99@autohaus-nord.example>
Content-Type: text/plain

Here is the offer for the convertible you asked about.

--report-boundary--
''')

# 20 lying charset: declared utf-8, bytes are windows-1252
head = '''From: Claire <claire@example.be>
To: sales@autohaus-nord.example
Subject: Price
Message-ID: <lying-1@example.be>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

'''
body = "Is \x93d\xe9j\xe0 vu\x94 the final price of 9.990 \x80? Merci.\n".encode('latin-1')
open('lying_charset.eml', 'wb').write(head.replace('\n', '\r\n').encode() + body)

# 21 unknown charset, really UTF-8
w('unknown_charset.eml', '''From: Kai <kai@example.dk>
To: sales@autohaus-nord.example
Subject: =?x-no-such-charset?q?Pr=C3=B8vek=C3=B8rsel?=
Message-ID: <unknown-1@example.dk>
MIME-Version: 1.0
Content-Type: text/plain; charset=x-no-such-charset
Content-Transfer-Encoding: 8bit

Hej! Kan jeg prøvekøre elbilen på lørdag?
''', enc='utf-8')
