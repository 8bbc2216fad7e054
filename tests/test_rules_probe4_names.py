"""Person names the fourth black-box probe found leaking (relatives and contacts after role
labels, quoted nicknames, pedigree lines, numbered board lists, family-first names, a name
after 'Guardianship of') and the clinical text it found redacted as a name.  All names are
synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

# (text, pieces that must be gone)
LEAKS = [
    # relatives and contacts after role labels
    ("Witness: visitor Haruki Bellweather (phone 555-201-3344).", ["Haruki", "Bellweather"]),
    ("Witness: Ottoline Prewitt, RN", ["Ottoline", "Prewitt"]),
    ("Family notified: Quarshie, Adwoa N. at 23:15.", ["Quarshie", "Adwoa"]),
    ("Ride: Tenbrook, Marisol Q. 555-301-2299.", ["Tenbrook", "Marisol"]),
    ("Support person: ZOFIA KRASZEWSKA (FOB), cell 555-222-1111.", ["ZOFIA", "KRASZEWSKA"]),
    ("The proposed guardian is Benedikt Sorensen, reachable at", ["Benedikt", "Sorensen"]),
    ("Living donor candidate: Chidera Ogunwale (brother), DOB 1970", ["Chidera", "Ogunwale"]),
    ("Identified by: Ezequiel Barrientos (nephew) via photograph", ["Ezequiel", "Barrientos"]),
    ("sitter requested. family (Ileana Vukovic) called at 555-123-4567", ["Ileana", "Vukovic"]),
    ("Transport: Hollister, Yvaine X. picks up, 555-444-1212.", ["Hollister", "Yvaine"]),
    ("Mi esposo Tadeo Quintanilla tuvo cita el martes", ["Tadeo", "Quintanilla"]),
    ("mi hija Renata Olivares me ayuda", ["Renata", "Olivares"]),
    ("Informant: Anselm, relationship: spouse", ["Anselm"]),
    ("Proband: Wilhelmina Tarrant (II-2), BRCA2 carrier", ["Wilhelmina", "Tarrant"]),
    # pedigree lines
    ("I-1 Bertram Holloway, father, prostate ca dx age 62", ["Bertram", "Holloway"]),
    ("I-2 Sefton, Maribel J., mother, ovarian ca dx 58", ["Sefton", "Maribel"]),
    ("II-1 Ysolde, sister, breast ca dx 41, untested.", ["Ysolde"]),
    # numbered board lists
    ("1. Pemberton, Calloway | MRN 55512 | 61 | RUL adenocarcinoma", ["Pemberton", "Calloway"]),
    ("2. ROSALIND ACHTERBERG | MRN 55513 | 70 | LLL SCC", ["ROSALIND", "ACHTERBERG"]),
    # guardianship letter: the subject's name and a later first name
    ("RE: Guardianship of HALVORSEN, Teodor - Case No. 24-118\nI examined Teodor at home.",
     ["HALVORSEN", "Teodor"]),
    # family-first name with an all-caps surname after a cue
    ("Night shift handoff, bed 14: QUAN Meixiu is a 95-year-old", ["QUAN", "Meixiu"]),
    # more shapes: ride with a phone, pick-up verb, numbered row with a nickname, name (age, MRN)
    ("Ride: P. Marchbanks +1 907 977 7763.", ["Marchbanks"]),
    ("Transport: R. Fairweather picks up, 555-201-3344.", ["Fairweather"]),
    ("MICU Progress Note\nVuong, Thanh Lan ((95), MRN 12345)", ["Vuong", "Thanh"]),
    ("HD#6\nTakeshi Lindgren (88-yr-old, MRN 1234)", ["Takeshi", "Lindgren"]),
    ("Candidate: O'Rourke, Siobhan  MRN 1234", ["O'Rourke", "Siobhan"]),
    ("On Tuesday I examined Marisela at her home. Marisela was calm.", ["Marisela"]),
    ("Osteopenia noted.\nIgnatius can be reached at 555-201-3344.", ["Ignatius"]),
]


@pytest.mark.parametrize("text,pieces", LEAKS)
def test_probe4_name_leaks(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


CLEAN = [
    "PATIENT  EDUCATION   SHEET       Page 1 of 2",
    "PATIENT SAFETY EVENT REPORT  #4471\nEvent date/time: 22:40",
    "PATIENT REGISTRATION   FORM            Page 1",
    "WELL CHILD CHECK - 18 month visit",
    "Thanks,\nCardiology Nurse Line",
    "This is Doctor on call, returning your page.",
    "Subject: Holter monitor results\nReminder that 48-hour Holter reports should include average HR.",
    "invasive ductal carcinoma, NST, grade 2.",
    "| Field | Required | Notes |\n| Last Name | Y | as on photo ID |",
    "Name (Last ,  First ,  MI)",
    "Ride: family will drive",
    "Ride: Medicaid cab at 0900",
    "Transport: wheelchair van",
    "Witness: none",
    "Family notified: yes, at bedside",
    "Support person: none present",
    "Informant: self",
    "Proband: affected, BRCA2 positive",
    "I-1 father, prostate ca dx age 62",
    "1. Chest pain | 2 days | resolved",
    "family (wife and son) at bedside",
    "Mi esposo tuvo cita el martes",
    "RE: Appeal of denial",
    "User: Can you summarize this note?",
    "Dad's nickname for the dog is \"Biscuit\".",
    "Scheduling can be reached through the portal.",
    "I examined the wound; we evaluated ED labs.",
    "Candidate: Yes, listed",
    "Lipitor (20 mg, DOB check)",
    "Proband: affected (II-2), DOB on file",
    "Patient Last/First/MI: see attached",
]


@pytest.mark.parametrize("text", CLEAN)
def test_probe4_clean(redactor, text):
    assert red(redactor, text) == text


# Quoted nicknames (First "Nick" Last): a rule of their own (name_nickname). Putting the nickname
# into the shared {{full}} macro caught them too but halved the engine benchmark.
NICKNAMES = [
    ('Mother\'s name: Oriana "Birdie" Falkenrath', ["Oriana", "Birdie", "Falkenrath"]),
    ('met with wife Leontyne "Tish" Barraclough and son', ["Leontyne", "Tish", "Barraclough"]),
    ('Pt: Casimir "Cash" Vandermolen   Acct: 4455', ["Casimir", "Cash", "Vandermolen"]),
    ('Ride: Ottavio "Bud" Lindqvist (702)771-1622.', ["Ottavio", "Bud", "Lindqvist"]),
    ('3. Adebayo "Sunny" Okonjo | MRN 5512 | presented', ["Adebayo", "Sunny", "Okonjo"]),
    ('Living donor candidate: Adaeze "Bud" de la Cruz (brother)', ["Adaeze", "Bud", "Cruz"]),
    ('My name is Seo-yeon "Bud" Kim and I wore the monitor', ["Seo-yeon", "Bud", "Kim"]),
    ('I-2 Łukasz "Junior" van der Berg, mother, ovarian ca', ["Łukasz", "Junior", "Berg"]),
]


@pytest.mark.parametrize("text,pieces", NICKNAMES)
def test_probe4_nicknames(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


NICKNAME_CLEAN = [
    'Patient said "Yes" when asked about pain.',
    'Select "Yes" or "No" On the form.',
    'Consent for the "Whipple" Procedure signed.',
    "Use the 'Teach Back' Method with caregivers.",
    'Status: "Pending" Review by pharmacy',
]


@pytest.mark.parametrize("text", NICKNAME_CLEAN)
def test_probe4_nickname_clean(redactor, text):
    assert red(redactor, text) == text
