"""Probe 5, places: towns in prose after a person word ("a retired nurse from Sioux Falls, whom I
am referring"), facility / revenue lines of a claim form that are not streets, and table columns
named for the clinician who prescribed / ordered / referred.

All names, towns and numbers are synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red
from werker_proxy.tablecontext import IDENTIFIER_HEADER

LEAKS = [
    # a town after a person word or an occupation, a clause after it
    ("She is a 38-year-old retired nurse from Sioux Falls, whom I am referring for evaluation.", "Sioux Falls"),
    ("He is a 52-year-old teacher from Bakersfield, who presents with chest pain.", "Bakersfield"),
    ("Mr. Roe is a veteran from Baton Rouge, whom I am referring to you.", "Baton Rouge"),
    ("A carpenter from Grand Junction who fell from a ladder.", "Grand Junction"),
    ("a 71-year-old retired machinist from Tulsa.", "Tulsa"),
    ("This pleasant gentleman from Kalamazoo was seen today.", "Kalamazoo"),
    ("a college student from Ypsilanti, presenting with", "Ypsilanti"),
    ("A 45-year-old woman from Lubbock, with a two-week history", "Lubbock"),
    ("a 62-year-old retired postal worker from Lake Charles, who", "Lake Charles"),
    ("a farmer near Dodge City, who", "Dodge City"),
    ("He is a truck driver from Fort Wayne.", "Fort Wayne"),
    # the residence cues still take the town, and "la" in "last" is not a connector
    ("Travelled to Boise last month.", "Boise"),
    ("Lives in Dunmore. Moved from Scranton in 2019.", "Scranton"),
    ("Resident of Yakima. Native of Tulsa.", "Yakima"),
    ("Originally from Flagstaff. Grew up in Muncie.", "Muncie"),
]


@pytest.mark.parametrize("text,piece", LEAKS)
def test_town_after_person_word_goes(redactor, text, piece):
    out = red(redactor, text)
    assert gone(out, piece), out


def test_boise_last_month_keeps_last_month(redactor):
    out = red(redactor, "Travelled to Boise last month.")
    assert "last month" in out, out


CLEAN = [
    "Patient admitted from Emergency. Discharged from Home. Returned to Baseline.",
    "Consult from Cardiology.",
    "Interview in Spanish. Seen in January.",
    "A nurse from Cardiology called back.",
    "A 67-year-old man from Home Health, receiving wound care.",
    "A 67-year-old woman from Mercy Hospital, transferred for PCI.",
    "A 58-year-old man in Septic Shock, started on pressors.",
    "A nurse from Oncology, who reviewed the plan.",
    "The patient in Bed 4, who is NPO.",
    "a 70-year-old man in Atrial Fibrillation, rate controlled.",
    "She is a teacher in Spanish, who reports stress.",
    "A 60-year-old veteran from Outside Hospital, transferred.",
    "a 44-year-old woman from Labor and Delivery, postpartum day 1.",
    "He is a nurse from Pediatrics.",
    "A 30-year-old man in March, presented with fever.",
    "a 50-year-old woman from Baseline, no change.",
    "an 80-year-old widow from St. Mary's, who",
    "a 19-year-old male from Juvenile Detention, with",
    "The worker from Physical Therapy, who",
    "A 55 year old man from Step Down, with",
    "a 2-year-old boy from Daycare, with fever.",
    "A nurse from Infection Control, who called.",
    "an engineer from Epic, who",
    "A 72-year-old man from Skilled Nursing Facility, with sepsis.",
    "A 70-year-old woman from Interventional Radiology.",
    "a 67-year-old veteran from VA Medical Center, with",
    "a 70-year-old with pain from Shingles, worse at night.",
    "a 58-year-old man admitted from Emergency, febrile.",
    # claim-form facility and revenue lines are not streets
    "UB-04 UNIFORM BILL\n1 Regional Medical Center\n3a PAT CNTL",
    "0636    Oncology Infusion Center   J1100   2",
    "0120    University Medical Center   J3490   2",
    "1 Community Cancer Center",
    "2 Memorial Dialysis Center",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clinical_text_unchanged(redactor, text):
    assert red(redactor, text) == text


STREETS = [
    ("lives at 1000 Medical Center Dr, Suite 4", "1000 Medical Center Dr"),
    ("Address: 45 Town Center, Apt 2", "45 Town Center"),
    ("123 Main St", "123 Main St"),
]


@pytest.mark.parametrize("text,piece", STREETS)
def test_real_streets_still_go(redactor, text, piece):
    out = red(redactor, text)
    assert piece not in out, out


@pytest.mark.parametrize("header", ["prescriber", "prescribed_by", "Prescribing Provider", "ordering",
                                    "ordered_by", "referring", "referred_by", "rendering", "authored_by",
                                    "Entered By", "administered_by"])
def test_clinician_columns_are_read(header):
    assert IDENTIFIER_HEADER.search(header)


@pytest.mark.parametrize("header", ["drug", "dose", "frequency", "ndc", "route", "code", "result", "units"])
def test_clinical_columns_are_not_read(header):
    assert not IDENTIFIER_HEADER.search(header)


def test_prescriber_column_full_name_goes(redactor):
    text = "drug,dose,start,prescriber,ndc\nlisinopril,10 mg,2024-03-02,Kwame Tranberg,0093-7146-56\n"
    out = red(redactor, text)
    assert gone(out, "Tranberg"), out
    assert "lisinopril,10 mg" in out and "0093-7146-56" in out, out
