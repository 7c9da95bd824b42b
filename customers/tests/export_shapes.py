"""
Files in the shapes other tools export, written here with invented people and companies, for the
import tests: their headers, encodings, delimiters, line ends and date formats are those of the
real exports (HubSpot contacts, Salesforce accounts, a Mailchimp audience, German Outlook contacts,
Google Contacts, Odoo contacts, Excel's "Unicode text"). The owners named are the root conftest's
people (Alice Archer, Bob Baker), by full name or email as those tools write them.
"""

import csv
import io


def _csv(rows, *, delimiter=",", line_end="\r\n", quote_all=False):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return out.getvalue()


def hubspot_contacts():
    """HubSpot's contacts export: UTF-8, names in two columns, ``M/D/YY H:MM`` dates, owners by name."""
    rows = [
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name",
         "Contact owner", "Lifecycle Stage", "Create Date", "Last Activity Date",
         "Marketing contact status"],
        ["51", "Odalys", "Fernwright", "odalys@brightfern.example", "+1 415 555 0131", "Brightfern Labs",
         "Alice Archer", "customer", "2/5/24 1:51", "3/1/24 9:05", "Marketing contact"],
        ["52", "Tavish", "Quillon", "tavish.quillon@mailbox.example", "(415) 555-0188", "",
         "Bob Baker", "lead", "2/15/24 13:07", "", "Non-marketing contact"],
        ["53", "Ysolde", "Marrant", "ysolde@copperkettle.example", "", "Copper Kettle Café",
         "alice archer", "opportunity", "11/30/23 8:00", "2/2/24 16:40", "Marketing contact"],
        ["54", "Brannoc", "Eskew", "BRANNOC@eskew-farms.example", "415.555.0102", "Eskew Farms",
         "Bob Baker", "customer", "1/9/24 10:12", "", "Marketing contact"],
    ]
    return _csv(rows).encode("utf-8")


def salesforce_accounts():
    """A Salesforce accounts report: Windows-1252, ISO timestamps with milliseconds, owners by name."""
    rows = [
        ["Account ID", "Account Name", "Type", "Phone", "Website", "Billing City", "Account Owner",
         "Created Date", "Description"],
        ["0015g00000AbCdE", "Café Lumière", "Customer - Direct", "+33 1 55 55 01 23",
         "www.cafe-lumiere.example", "Paris", "Alice Archer", "2006-04-15T03:23:15.000Z",
         "Roastery supplies – monthly order"],
        ["0015g00000AbCdF", "Müller & Söhne GmbH", "Customer - Channel", "+49 30 5550 1234",
         "https://mueller-soehne.example/de", "Berlin", "Bob Baker", "2011-11-02T17:45:00.000Z", ""],
        ["0015g00000AbCdG", "O’Rourke Maritime", "Prospect", "", "orourke-maritime.example",
         "Cork", "Alice Archer", "2019-07-31T23:59:59.000Z", "Met at the “Harbour Days” fair"],
    ]
    return _csv(rows).encode("cp1252")


def mailchimp_audience():
    """
    A Mailchimp audience export: people without a company, birthdays without the year (``MM/DD``),
    and a ``TIMEZONE`` column of which two values are no time zone at all (rows 4 and 6).
    """
    header = ["Email Address", "First Name", "Last Name", "Address", "Phone Number", "Birthday",
              "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE",
              "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION", "LAST_CHANGED", "LEID",
              "EUID", "NOTES", "TAGS"]
    people = [
        ("wren.halloway@post.example", "Wren", "Halloway", "03/14", "america/new_york"),
        ("ilse.vantreck@post.example", "Ilse", "Vantreck", "11/02", "Europe/Amsterdam"),
        ("corvin.dusk@post.example", "Corvin", "Dusk", "", "Eastern Time (US & Canada)"),
        ("mireille.aubade@post.example", "Mireille", "Aubade", "07/30", "Europe/Paris"),
        ("sol.brightwater@post.example", "Sol", "Brightwater", "", "[UNKNOWN]"),
        ("petra.nightjar@post.example", "Petra", "Nightjar", "12/24", ""),
    ]
    rows = [header]
    for n, (email, first, last, birthday, zone) in enumerate(people):
        rows.append([email, first, last, "", "", birthday, str(n % 5 + 1), "2023-05-02 14:11:09",
                     f"203.0.113.{n + 10}", "2023-05-02 14:12:40", f"198.51.100.{n + 7}", "40.7",
                     "-74.0", "-5", "-4", zone, "US", "NY", "2024-01-15 09:30:00", str(900000 + n),
                     f"a1b2c3d{n}", "", '"Newsletter","Early adopter"' if n % 2 else '"Newsletter"'])
    return _csv(rows).encode("utf-8")


def outlook_contacts_german():
    """
    German Outlook's contacts export: Windows-1252, semicolons, CRLF, every cell quoted, dates
    ``TT.MM.JJJJ`` and ``0.0.00`` for a birthday nobody entered.
    """
    header = ["Anrede", "Vorname", "Weitere Vornamen", "Nachname", "Suffix", "Firma", "Abteilung",
              "Position", "Straße geschäftlich", "Ort geschäftlich", "Postleitzahl geschäftlich",
              "Telefon geschäftlich", "Mobiltelefon", "E-Mail-Adresse", "E-Mail-Typ",
              "E-Mail: Angezeigter Name", "E-Mail 2: Adresse", "Geburtstag", "Kategorien", "Notizen",
              "Webseite"]
    rows = [
        header,
        ["Herr", "Jörg", "", "Bäckerling", "", "Bäckerei Bäckerling", "Einkauf", "Inhaber",
         "Hauptstraße 5", "München", "80331", "+49 89 5550 1001", "+49 151 5550 1001",
         "joerg@baeckerling.example", "SMTP", "Jörg Bäckerling (joerg@baeckerling.example)", "",
         "14.03.1971", "Kunden;Stammkunde", "Bestellt jeden Montag.\r\nRückruf bevorzugt vormittags.",
         "www.baeckerling.example"],
        ["Frau", "Käthe", "", "Übelacker", "", "", "", "", "", "Köln", "", "", "+49 160 5550 2002",
         "kaethe.uebelacker@post.example", "SMTP", "Käthe Übelacker", "", "0.0.00", "Privat", "",
         ""],
        ["Herr", "Ömer", "", "Straßburger", "", "Straßburger Logistik GmbH", "", "Geschäftsführer",
         "Hafenweg 2", "Hamburg", "20457", "+49 40 5550 3003", "", "oemer@strassburger.example",
         "SMTP", "Ömer Straßburger", "info@strassburger.example", "1.2.1980", "Kunden", "",
         "https://strassburger.example"],
    ]
    return _csv(rows, delimiter=";", quote_all=True).encode("cp1252")


def google_contacts():
    """Google Contacts' CSV: names in parts, ``Organization Name``, ``::: ``-separated labels."""
    header = ["First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Last Name",
              "Nickname", "File As", "Organization Name", "Organization Title", "Birthday", "Notes",
              "Labels", "E-mail 1 - Label", "E-mail 1 - Value", "E-mail 2 - Label", "E-mail 2 - Value",
              "Phone 1 - Label", "Phone 1 - Value", "Website 1 - Label", "Website 1 - Value"]
    rows = [
        header,
        ["Amaranta", "", "Velloso", "", "", "Mara", "", "Velloso Tiles", "Owner", "1984-07-22",
         "Prefers WhatsApp", "* myContacts ::: Customers", "* Work", "amaranta@vellosotiles.example",
         "Home", "mara.v@post.example", "Mobile", "+351 21 555 0199", "", "vellosotiles.example"],
        ["Theo", "J.", "Brackwater", "", "", "", "", "", "", "--11-05", "", "* myContacts", "* Home",
         "theo.brackwater@post.example", "", "", "", "", "", ""],
    ]
    return _csv(rows, line_end="\n").encode("utf-8")


def odoo_contacts():
    """Odoo's contacts export: people with a related company, companies on their own, salespeople."""
    rows = [
        ["External ID", "Name", "Is a Company", "Related Company", "Email", "Phone", "Website", "Tags",
         "Salesperson", "Created on"],
        ["__export__.res_partner_41_7c1e", "Lumen Orchard", "True", "", "hello@lumen-orchard.example",
         "+31 20 555 0140", "http://www.lumen-orchard.example", "Wholesale,VIP", "Bob Baker",
         "2022-03-08 09:14:55"],
        ["__export__.res_partner_42_8d2f", "Idris Kalloway", "False", "Lumen Orchard",
         "idris@lumen-orchard.example", "+31 20 555 0141", "", "Wholesale", "bob@example.com",
         "2022-03-08 09:20:10"],
        ["__export__.res_partner_43_9e30", "Saoirse Penhallow", "False", "",
         "saoirse.penhallow@post.example", "", "", "", "Alice Archer", "2023-10-17 16:02:31"],
    ]
    return _csv(rows, line_end="\n").encode("utf-8")


def excel_unicode_text():
    """What Excel saves as "Unicode text": UTF-16 with a BOM, tab-separated."""
    rows = [["Company", "Contact", "E-mail"],
            ["Ngô Trading", "Ngô Thị Lan", "lan@ngo-trading.example"],
            ["Żabka Sp. z o.o.", "Łukasz Żak", "lukasz@zabka.example"]]
    return _csv(rows, delimiter="\t").encode("utf-16")
