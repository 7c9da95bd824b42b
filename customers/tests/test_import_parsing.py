"""
Reading values and files as people have them: dates in the shapes of other tools and both orders,
birthdays without a year, time-zone names in any case, web sites, tags in other separators, and the
encodings and delimiters spreadsheets write.
"""

import datetime

import pytest

from customers.csv_io.reading import (
    FileOptions,
    data_rows,
    delimiter_name,
    encoding_detect,
    encoding_name,
    file_sample,
)
from customers.csv_io.report import Report
from customers.parsing import (
    date_order_hint,
    is_no_date,
    parse_birthday,
    parse_date,
    split_tags,
    timezone_name,
    website_domain,
)

TODAY = datetime.date(2026, 5, 4)


@pytest.mark.parametrize("value, order, expected", [
    ("2024-02-05", "iso", (2024, 2, 5)),
    ("2006-04-15T03:23:15.000Z", "iso", (2006, 4, 15)),
    ("2019-07-31T23:59:59+02:00", "iso", (2019, 7, 31)),  # the date as written, not moved to UTC
    ("2023-05-02 14:11:09", "iso", (2023, 5, 2)),
    ("2/5/24 1:51", "mdy", (2024, 2, 5)),
    ("2/5/24 1:51", "dmy", (2024, 5, 2)),
    ("12/31/2024 11:59 PM", "mdy", (2024, 12, 31)),
    ("05.02.2024", "mdy", (2024, 2, 5)),  # dots are day-first, whatever the order
    ("5.2.99", "dmy", (1999, 2, 5)),  # two digits: the latest such year not in the future
    ("5.2.26", "dmy", (2026, 2, 5)),
    ("2024/02/05", "dmy", (2024, 2, 5)),
    ("5 Feb 2024", "mdy", (2024, 2, 5)),
    ("February 5, 2024", "dmy", (2024, 2, 5)),
    ("14. März 2023", "dmy", (2023, 3, 14)),
])
def test_dates_in_the_shapes_other_tools_write(value, order, expected):
    assert parse_date(value, order, today=TODAY) == datetime.date(*expected)


@pytest.mark.parametrize("value, order", [
    ("01/02/2024", "iso"), ("2024-02-30", "dmy"), ("13/13/2024", "dmy"), ("2/5/24 25:00", "mdy"),
    ("yesterday", "mdy"), ("5 Foo 2024", "dmy"), ("123/4/2024", "dmy"), ("2024-02-05T", "iso"),
])
def test_what_is_not_a_date(value, order):
    with pytest.raises(ValueError):
        parse_date(value, order, today=TODAY)


@pytest.mark.parametrize("value, hint", [
    ("15/4/2024", "dmy"), ("4/15/2024", "mdy"), ("4/5/2024", None), ("15.4.2024", None),
    ("2024-04-15", None), ("13/14/2024", None), ("03/14", "mdy"),
])
def test_a_date_tells_its_order_when_it_can(value, hint):
    assert date_order_hint(value) == hint


@pytest.mark.parametrize("value, order, expected", [
    ("--03-14", "iso", (None, 3, 14)),
    ("1980-03-14", "iso", (1980, 3, 14)),
    ("1980-03-14T00:00:00Z", "iso", (1980, 3, 14)),
    ("14.03.", "dmy", (None, 3, 14)),
    ("03/14", "mdy", (None, 3, 14)),
    ("14/03", "dmy", (None, 3, 14)),
    ("14 March", "mdy", (None, 3, 14)),
    ("14.3.1971", "mdy", (1971, 3, 14)),
    ("29.02.", "dmy", (None, 2, 29)),
])
def test_birthdays_with_or_without_the_year(value, order, expected):
    assert parse_birthday(value, order) == expected


def test_a_birthday_keeps_its_iso_rules_without_an_order():
    for value in ("14.03.", "03/14"):
        with pytest.raises(ValueError, match="Use YYYY-MM-DD"):
            parse_birthday(value)
    with pytest.raises(ValueError, match="not a date on the calendar"):
        parse_birthday("30.02.", "dmy")
    with pytest.raises(ValueError, match="year of birth looks wrong"):
        parse_birthday("1.1.1850", "dmy")


def test_outlooks_empty_dates():
    assert is_no_date("0.0.00") and is_no_date("0/0/0000") and is_no_date(" 00.00.0000 ")
    assert not is_no_date("0.1.00") and not is_no_date("")


def test_time_zones_in_any_case():
    assert timezone_name("europe/berlin") == "Europe/Berlin"
    assert timezone_name(" UTC ") == "UTC"
    assert timezone_name("Eastern Time (US & Canada)") is None


@pytest.mark.parametrize("value, domain", [
    ("https://www.Acme.example/about", "acme.example"), ("acme.example", "acme.example"),
    ("www.cafe-lumiere.example", "cafe-lumiere.example"),
    ("http://shop.acme.example:8080", "shop.acme.example"),
    ("https://bücher.example", "xn--bcher-kva.example"),
])
def test_a_websites_domain(value, domain):
    assert website_domain(value) == domain


@pytest.mark.parametrize("value", ["www.", "http://", "not a site", "localhost", "acme"])
def test_what_names_no_web_site(value):
    with pytest.raises(ValueError):
        website_domain(value)


def test_tags_in_other_separators():
    assert split_tags("* myContacts ::: Friends ::: VIP") == ["* myContacts", "Friends", "VIP"]
    assert split_tags('"Newsletter","Early adopter"') == ["Newsletter", "Early adopter"]
    assert split_tags("a; b, A") == ["a", "b"]


@pytest.mark.parametrize("content, encoding", [
    ("name\nMüller\n".encode(), "utf-8"),
    ("\ufeffname\nMüller\n".encode(), "utf-8"),
    ("name\tcity\nMüller\tKöln\n".encode("utf-16"), "utf-16"),
    ("name\nO’Brien – Müller\n".encode("cp1252"), "windows-1252"),
    (b"name\nbyte \x81 undefined in cp1252\n", "latin-1"),
])
def test_the_encoding_is_found(tmp_path, content, encoding):
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    assert encoding_detect(path) == encoding


def test_excels_sep_line_names_the_delimiter(tmp_path, settings):
    path = tmp_path / "sep.csv"
    path.write_text("sep=;\r\nname;team\r\nAcme, Inc.;North\r\n")
    report = Report()
    assert list(data_rows(path, report)) == [(2, {"name": ["Acme, Inc."], "team": ["North"]})]
    assert report.delimiter == ";" and report.ok
    assert file_sample(path, FileOptions()).header == ["name", "team"]


def test_what_users_call_encodings_and_delimiters():
    assert [encoding_name(n) for n in ("UTF8", "cp1252", "latin1", "utf_16", "ebcdic")] == [
        "utf-8", "windows-1252", "latin-1", "utf-16", None
    ]
    assert [delimiter_name(n) for n in (";", "tab", "\\t", "Comma", "|")] == [";", "\t", "\t", ",", None]
