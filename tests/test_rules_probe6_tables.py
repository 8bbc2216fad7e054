"""Probe 6 (tables): semicolon-separated CSV with quoted cells; a town after a transport verb."""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

SEMI = (
    '"Last Name";"First Name";"Member #";"Service Date";"CPT";"Vitals"\n'
    '"Halvorsen";"Brigitta";"XQR812345Z07";"03/02/2024";"99213";"BP 128/82"\n'
    '"Okafor";"Dmitri";"ABJ771203K11";"04/11/2024";"93000";"HR 72"\n'
)
SEMI_PLAIN = (
    "patient_name;dob;member_id;dx\n"
    "Torvald Pennington;1950-03-14;WQX5512340;E11.9\n"
)
LEAKS = [
    (SEMI, "Halvorsen"),
    (SEMI, "Brigitta"),
    (SEMI, "Okafor"),
    (SEMI, "Dmitri"),
    (SEMI, "XQR812345Z07"),
    (SEMI, "ABJ771203K11"),
    (SEMI_PLAIN, "Torvald"),
    (SEMI_PLAIN, "Pennington"),
    (SEMI_PLAIN, "WQX5512340"),
    ("patient_name,dob,mrn,dx\ningrid halvorsen,1950-03-14,12345678,E11.9\n", "ingrid halvorsen"),
    ('"Last Name";"First Name";"Member #"\n"okafor";"dmitri";"ZQK530727X03"\n', "okafor"),
    ('"Last Name";"First Name";"Member #"\n"okafor";"dmitri";"ZQK530727X03"\n', "dmitri"),
    ("Accompanied by her sister who drives her from Lafayette. Reports pain 6/10.", "Lafayette"),
    ("Son who drives him from Walla Walla) . Reports pain 3/10.", "Walla Walla"),
    ("Her daughter, who lives near her in Cedar Rapids. Reports pain 2/10.", "Cedar Rapids"),
    ("He commutes to Poughkeepsie, works nights.", "Poughkeepsie"),
    ("She drove from Bethlehem this morning.", "Bethlehem"),
]


@pytest.mark.parametrize("text,piece", LEAKS)
def test_leak_gone(redactor, text: str, piece: str) -> None:
    assert gone(red(redactor, text), piece)


CLEAN = [
    # prose with semicolons: no header
    "Assessment: CHF; HTN; DM2. Plan: continue lisinopril; recheck BMP; follow up 2 weeks.",
    "Meds: metformin 500 mg; atorvastatin 20 mg; aspirin 81 mg\nAllergies: none; NKDA",
    # a clinical semicolon table: no identifier column, cells unchanged
    "Test;Result;Units;Flag\nSodium;138;mmol/L;N\nPotassium;4.1;mmol/L;N\n",
    '"Drug";"Dose";"Route";"Freq"\n"Eliquis";"5 mg";"PO";"BID"\n"Lasix";"40 mg";"IV";"daily"\n',
    # lowercase cells of a non-person "name" column stay
    "name,value,unit\nsodium,138,mmol/L\nwhite blood cells,7.2,K/uL\n",
    "drug_name,dose,route\nmetformin,500 mg,po\n",
    "last_name,first_name,dob\nn/a,none,unknown\n",
    # transport verbs to a place that is no town
    "She drives to Dialysis three times a week.",
    "Drove to Physical Therapy today.",
    "He drives her to Cardiology appointments.",
    "Travels to Mexico every winter.",
    "Flew from ICU? no.",
    "Pain drives her from bed to chair.",
    "He drove from Home Health office.",
    "Daughter drives her to Chemo.",
    "Son drives him to Infusion.",
    "Drives her to Radiation.",
    "Husband drives her to Appointments.",
    "Traveled to Florida.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_unchanged(redactor, text: str) -> None:
    assert red(redactor, text) == text
