"""
Mapping a file's columns to the fields of a customer: the mapping step's suggestions, the command
line's ``--map``, and mappings saved by name.

A mapping is a list of *targets* aligned with the file's header: for each column the field it feeds
(one of ``columns.TARGETS``) or "" when it is not imported. Several columns may feed one field
(``columns.combine`` makes the value). ``reading.header_resolve`` applies it.

- ``targets_guess(sample)``: a field suggested for each column, from its header (in English and the
  common other spellings: ``Company``, ``Account Name``, ``Firma``, ``E-Mail-Adresse``,
  ``Geburtstag``) and else from its values (emails, phones, web addresses, time zones, dates), each
  with the reason; ``date_order_guess(sample)`` the order of the file's ambiguous dates.
- ``targets_from_specs(specs, header)``: ``["First Name+Last Name=contact_name", …]`` → targets.
- ``targets_from_saved(mapping, header)``: a saved ``ImportMapping`` applied to a header.
- ``import_mapping_save`` and ``import_mappings_for``: saved mappings, offered again for a file
  with the same headers (``header_signature``).
"""

import datetime
import hashlib
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from ..models import ImportMapping
from ..parsing import date_order_hint, is_no_date, parse_date, timezone_name
from .columns import PROBLEM_COLUMN, TARGETS
from .reading import header_key

SAMPLE_SHARE = 0.8  # a column is guessed from its values when this share of them look alike

SYNONYMS = {
    "external_id": "externalid id recordid contactid accountid customerid customernumber customerno "
                   "clientid kundennummer kundennr kdnr kundenid reference externalreference ref",
    "name": "company companyname account accountname organization organisation organizationname "
            "organisationname organization1name org firma firmenname unternehmen societe société "
            "entreprise empresa azienda customer customername client clientname kunde kundenname "
            "business businessname relatedcompany parentcompany",
    "status": "status lifecyclestage stage customerstatus kundenstatus",
    "customer_since": "customersince becameacustomerdate createdate createddate datecreated created "
                      "createdat creationdate createdon kundeseit erstelltam angelegtam dateadded "
                      "since clientsince startdate",
    "owner": "owner contactowner accountowner companyowner ownername salesperson salesrep "
             "accountmanager kundenbetreuer betreuer verantwortlich zuständig zustandig "
             "vertriebsmitarbeiter assignedto responsible",
    "team": "team salesteam hubspotteam vertriebsteam",
    "timezone": "timezone tz zeitzone fuseauhoraire contacttimezone",
    "cadence_days": "cadencedays cadence checkincadence",
    "tags": "tags tag labels label groupmembership groups categories category kategorien kategorie "
            "etiketten schlagworte schlagwörter keywords",
    "referred_by": "referredby referrer referral empfohlenvon",
    "website": "website web webseite webpage url homepage site siteweb companydomainname domain "
               "website1value webaddress internetseite",
    "notes": "notes note notizen notiz comments comment description bemerkungen bemerkung "
             "kommentar remarks internalnotes beschreibung",
    "contact_name": "contactname contact fullname displayname ansprechpartner contactperson "
                    "kontaktperson nomcomplet primarycontact",
    "contact_first_name": "contactfirstname firstname first givenname forename vorname prenom "
                          "prénom nombre fname",
    "contact_last_name": "contactlastname lastname last surname familyname nachname nom apellido "
                         "apellidos lname",
    "contact_email": "contactemail email emailaddress mail emailadresse email1value email1 "
                     "emailaddress1 courriel correo workemail primaryemail businessemail",
    "contact_phone": "contactphone phone phonenumber telephone tel telefon telefonnummer mobile "
                     "mobilephone mobiltelefon handy businessphone telefongeschäftlich "
                     "telefongeschaftlich phone1value primaryphone workphone cellphone téléphone "
                     "telefono",
    "contact_birthday": "contactbirthday birthday birthdate dateofbirth dob geburtstag geburtsdatum "
                        "anniversaire datedenaissance cumpleaños fechadenacimiento",
}
GUESS_BY_HEADER = {word: target for target, words in SYNONYMS.items() for word in words.split()}
# Another column naming the company makes a plain "Name" the contact's (Odoo, Google Contacts).
PERSON_NAME_HEADERS = {"name", "fullname", "displayname"}

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[\d\s()./-]{6,}$")
IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
WEB_RE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)


def normalise_header(name):
    """``E-Mail-Adresse`` → ``emailadresse``: letters and digits only, lower case."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


@dataclass(frozen=True)
class Guess:
    target: str  # "" when nothing fits
    reason: str  # why: shown beside the suggestion


def targets_guess(sample, today=None):
    """A ``Guess`` for each column of ``sample.header``: by its header, else by its values."""
    header = sample.header
    guesses = [Guess("", "") for _ in header]
    taken = set()
    by_header = [_header_target(name) for name in header]
    has_company = any(t == "name" and normalise_header(n) not in PERSON_NAME_HEADERS
                      for t, n in zip(by_header, header, strict=True))
    has_person = any(t in ("contact_name", "contact_first_name", "contact_last_name") for t in by_header)
    # Exact column names first (a file in our own columns maps to itself), then the synonyms.
    order = sorted(range(len(header)), key=lambda i: header_key(header[i]) not in TARGETS)
    for index in order:
        target = by_header[index]
        if (target == "name" and has_company and not has_person
                and normalise_header(header[index]) in PERSON_NAME_HEADERS):
            target, reason = "contact_name", "a person's name beside a company column"
        else:
            reason = "from the header"
        if target and target not in taken:
            guesses[index] = Guess(target, reason)
            taken.add(target)
    for index, name in enumerate(header):
        if guesses[index].target or header_key(name) == PROBLEM_COLUMN:
            continue
        values = sample.values[index] if index < len(sample.values) else []
        target, reason = _values_target(values, today)
        if target and target not in taken:
            guesses[index] = Guess(target, reason)
            taken.add(target)
    return guesses


def _header_target(name):
    key = header_key(name)
    if key in TARGETS:
        return key
    return GUESS_BY_HEADER.get(normalise_header(name), "")


def _values_target(values, today=None):
    values = [value.strip() for value in values if value.strip() and not is_no_date(value)]
    if not values:
        return "", ""

    def share(test):
        return sum(1 for value in values if test(value)) / len(values)

    if share(EMAIL_RE.match) >= SAMPLE_SHARE:
        return "contact_email", "the values are email addresses"
    if share(WEB_RE.match) >= SAMPLE_SHARE:
        return "website", "the values are web addresses"
    if share(timezone_name) >= SAMPLE_SHARE:
        return "timezone", "the values are time zones"
    dates = [_any_date(value) for value in values]
    if sum(1 for date in dates if date) / len(values) >= SAMPLE_SHARE:
        this_year = (today or datetime.date.today()).year
        if all(date.year <= this_year - 16 for date in dates if date):
            return "contact_birthday", "the values are dates of birth"
        return "customer_since", "the values are dates"
    if share(_looks_like_phone) >= SAMPLE_SHARE:
        return "contact_phone", "the values are phone numbers"
    return "", ""


def _looks_like_phone(value):
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE_RE.match(value) or digits < 6 or IPV4_RE.match(value):
        return False
    # A bare number is an id, unless it starts with a trunk prefix 0.
    return not value.isdigit() or (value.startswith("0") and digits >= 8)


def _any_date(value):
    for order in ("dmy", "mdy"):
        try:
            return parse_date(value, order)
        except ValueError:
            continue
    return None


def date_order_guess(sample):
    """
    ``(order, reason)``: ``dmy`` or ``mdy``, read from dates that can only be one (``15/4/2024``);
    else day-first for a semicolon file (as European spreadsheets write) and month-first otherwise.
    """
    hints = {"dmy": None, "mdy": None}
    for column, values in zip(sample.header, sample.values, strict=False):
        for value in values:
            hint = date_order_hint(value)
            if hint and hints[hint] is None:
                hints[hint] = (column.strip(), value.strip())
    if hints["dmy"] and not hints["mdy"]:
        return "dmy", "found {1} in {0}".format(*hints["dmy"])
    if hints["mdy"] and not hints["dmy"]:
        return "mdy", "found {1} in {0}".format(*hints["mdy"])
    if hints["dmy"] and hints["mdy"]:
        return "dmy", ("the file mixes both orders ({1} in {0}, {3} in {2}); check the rows the "
                       "preview reports".format(*hints["dmy"], *hints["mdy"]))
    if sample.delimiter == ";":
        return "dmy", "no date in the file tells; day first, as in a semicolon file"
    return "mdy", "no date in the file tells; month first"


class MappingError(ValueError):
    """A mapping that does not fit the file: the messages say why."""

    def __init__(self, messages):
        super().__init__("; ".join(messages))
        self.messages = messages


def targets_from_specs(specs, header, base=None):
    """
    ``["Header=field", "First Name+Last Name=contact_name", "Fax="]`` → targets for ``header``
    (starting from ``base``, a saved mapping's, when given). Headers match regardless of case and
    spaces around; a header the file has twice maps both columns.
    """
    targets = list(base) if base is not None else [""] * len(header)
    problems = []
    keys = [header_key(cell) for cell in header]
    for spec in specs:
        columns, sep, target = spec.rpartition("=")
        target = target.strip().lower()
        if not sep or not columns.strip():
            problems.append(f"--map {spec!r}: write it as \"Header=field\"")
            continue
        if target in ("-", "skip"):
            target = ""
        if target and target not in TARGETS:
            problems.append(f"--map {spec!r}: {target!r} is not a field; the fields are "
                            + ", ".join(TARGETS))
            continue
        names = [columns] if header_key(columns) in keys else columns.split("+")
        for name in names:
            found = [i for i, key in enumerate(keys) if key == header_key(name)]
            if not found:
                problems.append(f"--map {spec!r}: the file has no column {name.strip()!r}")
            for index in found:
                targets[index] = target
    if problems:
        raise MappingError(problems)
    return targets


def targets_from_saved(mapping, header):
    """A saved mapping applied to ``header``: its headers matched by name, wherever they are."""
    by_key = {}
    for name, target in zip(mapping.headers, mapping.targets, strict=True):
        if target:
            by_key.setdefault(header_key(name), target)
    keys = [header_key(cell) for cell in header]
    missing = [name for name in by_key if name not in keys]
    if missing:
        raise MappingError([f"the mapping {mapping.name!r} maps the column {name!r}, which the file "
                            "does not have" for name in missing])
    return [by_key.get(key, "") for key in keys]


def header_signature(header):
    """The headers, normalised (a ``problem`` column left out) and hashed: how mappings find files."""
    keys = [header_key(cell) for cell in header if header_key(cell) != PROBLEM_COLUMN]
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()


def import_mappings_for(header):
    """The saved mappings made for a file with these headers."""
    return ImportMapping.objects.filter(header_key=header_signature(header)).order_by("name")


def import_mapping_find(name):
    return ImportMapping.objects.annotate(lower_name=Lower("name")).filter(
        lower_name=name.strip().lower()
    ).first()


def import_mapping_save(*, name, header, targets, user, date_order="", match_website=False):
    """
    Save a mapping by name (a mapping of the same name is replaced when ``user`` made it or is an
    admin). Returns ``(mapping, problem)``: the problem says why it was not saved.
    """
    name = name.strip()
    existing = import_mapping_find(name)
    if existing is not None and not (user.is_superuser or existing.created_by_id == user.pk):
        return None, (f"A mapping named “{existing.name}” exists and was saved by someone else; "
                      "choose another name.")
    columns = [cell.strip() for cell in header]
    values = {"name": name, "headers": columns, "header_key": header_signature(header),
              "targets": list(targets), "date_order": date_order, "match_website": match_website}
    try:
        with transaction.atomic():
            if existing is None:
                return ImportMapping.objects.create(created_by=user, **values), None
            for field, value in values.items():
                setattr(existing, field, value)
            existing.save()
            return existing, None
    except IntegrityError:  # saved meanwhile by someone else
        return None, f"A mapping named “{name}” was just saved by someone else; choose another name."


def import_mapping_delete(*, mapping):
    mapping.delete()
