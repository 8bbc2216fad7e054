"""Person names the third black-box probe found leaking (XML name elements, names after a
non-label cue, 'LAST, FIRST' lines under a document title, partial names) and the clinical text
it found redacted as a name.  All names are synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

# (text, pieces that must be gone)
LEAKS = [
    # XML / C-CDA name elements
    ("<patient><name><given>Ottilie</given><family>von Brandhorst</family></name>",
     ["Ottilie", "Brandhorst"]),
    ("<guardianPerson><name><given>Radomir</given><family>Quessada</family></name></guardianPerson>",
     ["Radomir", "Quessada"]),
    ("<fullName>Ingeborg ter Velde</fullName>", ["Ingeborg", "Velde"]),
    ("<guarantor>Min-jun Oyelaran</guarantor>", ["Min-jun", "Oyelaran"]),
    ('<Patient><FirstName>Zephyrine</FirstName><LastName>Achterberg</LastName></Patient>',
     ["Zephyrine", "Achterberg"]),
    ('<given value="Leocadia"/><family value="Prudhomme"/>', ["Leocadia", "Prudhomme"]),
    ('<family qualifier="BR">OKONKWO-BRAND</family>', ["OKONKWO-BRAND"]),
    # a name after a non-label cue
    ("Please verify these identifiers for Perpetua Ravensworth:", ["Perpetua", "Ravensworth"]),
    ("Forwarding for billing: Hyacinth Oduya.", ["Hyacinth", "Oduya"]),
    ("Reminder for Wendelin Ashgrove (acct 55512345)", ["Wendelin", "Ashgrove"]),
    ("School Nurse Note - Zinnia Carvalhal, grade 7", ["Zinnia", "Carvalhal"]),
    ("Hospice IDG note. Jae-won Limbrick, is 99 and lives alone", ["Jae-won", "Limbrick"]),
    ("Note to self re: Tobiah Wrenfield", ["Tobiah", "Wrenfield"]),
    # ALL-CAPS 'LAST, FIRST' under a title or between dashes
    ("DISCHARGE MEDICATION LIST\nO'FARRELLY, ATHINAIS\n123 Main St", ["O'FARRELLY", "ATHINAIS"]),
    ("SOAP - NIKOLOPOULOU, THEODORA - 03/04/2025", ["NIKOLOPOULOU", "THEODORA"]),
    # partial names
    ("Member: Joy Smithwick  Member ID: XWP123456789", ["Joy", "Smithwick"]),
    ("Member: Seo-yeon Parkhurst", ["Seo-yeon", "Parkhurst"]),
    ("Patient summary: Jafarian, Farzaneh (MR# 1234567)", ["Jafarian", "Farzaneh"]),
    ("Dental progress note - Abdirahman, Sahro, chart # 445566", ["Abdirahman", "Sahro"]),
    ("S: Will Turnbury, 55 y/o, CHF", ["Will Turnbury"]),
    ('"name":[{"text":"Rosalba Vlachou"}]', ["Rosalba", "Vlachou"]),
    ("Maricela dela Cruzado was seen", ["Maricela", "dela Cruzado"]),
    ("pt=dela Cruzado,Maricela", ["dela Cruzado", "Maricela"]),
    ('"family":"dela Cruzado"', ["dela Cruzado"]),
]


@pytest.mark.parametrize("text,pieces", LEAKS)
def test_probe3_name_leaks(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


CLEAN = [
    "Patient: Better. I'm taking the pill.",
    "Patient: Only if I stand up fast.",
    "Caregiver: Usually around dinner.",
    "Patient: Sometimes, yes.",
    "Patient: Maybe twice a week.",
    "Caregiver: Probably the new pills.",
    "OBX|3|TX|NOTE^Comment||Specimen hemolyzed",
    "OBX|4|TX|NOTE^Nursing note||Patient resting",
    "Re: Appeal of denial",
    "<name>Metformin Hydrochloride</name>",
    "<manufacturedMaterial><name>Lisinopril</name></manufacturedMaterial>",
    "<code displayName=\"Hemoglobin A1c\"/><title>Discharge Summary</title>",
    "Reminder for flu shot (acct on file)",
    "Discharge Summary - Acute Kidney Injury",
    "ALLERGIES\nPENICILLIN, SULFA\n",
    "DISCHARGE MEDICATION LIST\nLISINOPRIL, METFORMIN\n",
    "Progress note - Chest Pain, grade 2 edema",
    "Will Follow, 55 y/o?",
]


@pytest.mark.parametrize("text", CLEAN)
def test_probe3_clean(redactor, text):
    assert red(redactor, text) == text


LEAKS_MORE = [
    ("Case for the ethics consult - Philippa Arkwright. Lives alone.", ["Philippa", "Arkwright"]),
    ("Intake form - Desmond Okorafor:\n- MRN 1234567", ["Desmond", "Okorafor"]),
    ("Registration update for Maryse Quennell:\n- card on file", ["Maryse", "Quennell"]),
    ("OPHTHALMOLOGY\nGwyneth Ashdown (H445566) seen 03/04/2024", ["Gwyneth", "Ashdown"]),
    ("S: Rabiya Malikzada, 71 yrs, CHF exacerbation", ["Rabiya", "Malikzada"]),
    ("S: Konstantin Nikolaidou, just turned 91, fall", ["Konstantin", "Nikolaidou"]),
    ("S: Aoibheann McCarthy, Age: 91, Parkinson", ["Aoibheann", "McCarthy"]),
    ("Hospice IDG note. Wilhelmina ter Haarlem, a one hundred three-year-old, terminal dx", ["Wilhelmina", "Haarlem"]),
    ("OPHTHALMOLOGY\nRodrigo Mac Giollan (AB-8361765) seen 2024-07-12", ["Rodrigo", "Giollan"]),
    ("OPHTHALMOLOGY\nSanne ter Haarlem (MC16400Z) seen 11-03-2021", ["Sanne", "Haarlem"]),
    ("Hospice IDG note. Gerrit van der Bergen, ninety-seven years old, terminal dx", ["Gerrit", "Bergen"]),
    ("SOAP - HARRISFORD, GARETH - Oct 27, 2022\nS:", ["HARRISFORD", "GARETH"]),
]


@pytest.mark.parametrize("text,pieces", LEAKS_MORE)
def test_probe3_name_leaks_more(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


CLEAN_MORE = [
    "Progress note - Chest pain, improving.",
    "Diabetes 20 yrs, on insulin",
    "Lipitor (12345) refill",
    "Registration update for Medicare Part D:",
    "Reminder for Annual Wellness Visit.",
    "Reminder for Flu Shot today",
    "OBX|1|CE|1234^Result^LN||POS^Positive",
    "Vitamin D (123456) level pending",
    "Chest Pain, many years old scar",
    "Metformin, 10 yrs",
    "HPI - Acute Kidney Injury.",
    "SOAP - CHF, COPD - 3 visits",
]


@pytest.mark.parametrize("text", CLEAN_MORE)
def test_probe3_clean_more(redactor, text):
    assert red(redactor, text) == text
