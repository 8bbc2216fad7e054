"""Location leaks and false positives of config/rules/locations.yaml and tablecontext (all synthetic)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from tests.conftest import red
from werker_proxy.tablecontext import _record


# ------------------------------------------------------------------------------------ CSV cells

def test_cells_split_rfc4180_quotes():
    line = '"Li, Faith",2/15/24,"say ""hi"", ok",27151'
    assert [line[a:b] for a, b in _record(line, 0, ",")[0]] == ["Li, Faith", "2/15/24", 'say ""hi"", ok', "27151"]
    tab = "a\tb\t\tc"
    assert [tab[a:b] for a, b in _record(tab, 0, "\t")[0]] == ["a", "b", "", "c"]


@pytest.mark.parametrize("text,gone", [
    ('name,dob,zip\n"Li, Faith",2/15/24,27151\n"Hill, Ama",3/1/90,02114\n', ["27151", "02114", "Faith"]),
    ('patient_name,dob,mrn,phone,email,zip,last_visit,a1c\n'
     '"Smith, Linda",11/27/1992,E180827108,817.752.3313,svillanueva74@hotmail.com,31261,1997-09-06,11.0\n'
     '"Black, Kwame",01/18/1965,A4478589,356 328 8781 x51,KWAME1965@ICLOUD.COM,02106,1969-09-20,10.3\n',
     ["31261", "02106"]),
    ('"name","dob","zip_code"\n"Li, Faith","2/15/24","27151"\n', ["27151"]),
    ('name\tdob\tzip\nLi, Faith\t2/15/24\t27151-1234\n', ["27151"]),
])
def test_csv_zip_column(redactor, text, gone):
    out = red(redactor, text)
    for g in gone:
        assert g not in out, out


def test_csv_quoted_cell_with_line_break(redactor):
    text = 'name,note,zip\n"Li, Faith","line one\nline two",27151\n"Ng, Al",ok,02114\n'
    out = red(redactor, text)
    assert "27151" not in out and "02114" not in out, out


def test_markdown_table_zip_column(redactor):
    text = ("| Patient | DOB | ZIP | A1c |\n|---|---|:---:|---|\n"
            "| Li, Faith | 2/15/24 | 27151 | 8.2 |\n| Ng, Al | 3/1/90 | 02114-1234 | 7.1 |\n")
    out = red(redactor, text)
    assert "27151" not in out and "02114" not in out, out
    assert "8.2" in out and "7.1" in out


def test_prose_and_hl7_are_not_tables(redactor):
    prose = "Reviewed labs, imaging, and vitals\nStable, afebrile, eating well\n27151 steps walked, ok, fine\n"
    assert red(redactor, prose) == prose
    hl7 = "OBX|1|NM|4548-4^HBA1C^LN||7.2|%|4.0-5.6|H|||F\nOBX|2|NM|2345-7^GLUCOSE^LN||128|mg/dL\n"
    assert red(redactor, hl7) == hl7


def test_csv_clinical_columns_untouched(redactor):
    text = 'name,zip,a1c,cpt\n"Li, Faith",27151,8.2,99213\n"Ng, Al",02114,7.1,93000\n'
    out = red(redactor, text)
    assert "27151" not in out and "02114" not in out
    assert "8.2" in out and "99213" in out and "7.1" in out and "93000" in out


# ------------------------------------------------------------------------------------ ZIP cues

@pytest.mark.parametrize("text,gone", [
    ("Employer: Walmart  ***-**-7708\nlives in 12235", "12235"),
    ("she resides in 87508 now", "87508"),
    ("zip code 12235", "12235"),
    ("ZIP: 12235-1234", "12235"),
    ("postal code 02114", "02114"),
    ("Zip Code:\n 30309", "30309"),
    ("my zip code is 30309", "30309"),
])
def test_zip_cued(redactor, text, gone):
    assert gone not in red(redactor, text)


# ------------------------------------------------------------------------------- street address

@pytest.mark.parametrize("text,gone", [
    ("hey so my mom is at 12361 lincoln blvd and she is fine", "12361 lincoln"),
    ("is at 1021 e o'connell circle and she cant", "o'connell"),
    ("is at 17123 s o'connell way, suite 790 and she", "790"),
    ("is at 4943 n. o'connell road, unit 4 and she", "o'connell"),
    ("is at 11405 old mill avenue and she", "old mill"),
    ("is at 13030 e maple court #13 and she", "maple"),
    ("is at 18905 west sunset st., unit 42 and", "sunset"),
    ("9415 S Martin Luther King Jr. Ave, Unit 43", "Martin Luther"),
    ("Address: 10550 N. Martin Luther King Jr. Lane\nFresno, California 93761-3669", "Martin Luther"),
    ("is at 15573 martin luther king jr. place and she", "martin luther"),
    ("my new address is 45 oak ave apt 2", "45 oak"),
    ("Home: 12345 State Hwy 71, Bastrop", "12345"),
    ("Address: RR 2 Box 14", "Box 14"),
    ("mail it to 77 cherry hill rd, springfield ma 01101 thanks", "01101"),
    ('{"address": "12 elm st", "zip": "02114"}', "elm"),
    ("lives at 250 John F. Kennedy Blvd, Jersey City, NJ 07306", "Kennedy"),
    ("PID|1||1^^^H^MR||X^Y||19800101|F|||11608 E Martin Luther King Jr. Ave^^St. Louis^MO^63187^USA",
     "Martin Luther"),
])
def test_street_address(redactor, text, gone):
    out = red(redactor, text)
    assert gone not in out, out


@pytest.mark.parametrize("text", [
    "take 2 tabs po bid with food",
    "metformin 10 mg dr daily",
    "insulin 5 units sc qhs",
    "transferred to room 412 on 3 west",
    "ECG: 3 st segments elevated in V2-V4",
    "take 2 ct of the 30 ct bottle",
    "walked 200 ft in hallway",
    "2 cir lesions noted",
    "given 1 amp in the ED",
    "5 way stopcock placed",
    "HR 72, BP 128/82, RR 16, T 98.6 F",
    "CPT 99213; ICD-10 E11.9; LOINC 4548-4",
    "2 pl of platelets ordered",
    "follow up in 2 weeks; 4 ct scans to date",
    "compared with images from 2 prior ct scans",
    "sent to 3 west pl for monitoring",
    "transferred to 4 east step down unit",
    "d/c to home on 5 mg dr daily",
    "at 5 mm st elevation in v2",
    "RR 18, HR 72; RR 16 box checked",
    "IV route 10 mg; route 2 of 3",
])
def test_street_address_clinical_untouched(redactor, text):
    assert red(redactor, text) == text


# ------------------------------------------------------------------------------------ counties

@pytest.mark.parametrize("text,gone", [
    ("County: Orange County\nHome: 555", "Orange"),
    ("Provo, UT 84677\nCounty: Suffolk County\n", "Suffolk"),
    ("Resident of Miami-Dade County since 2001", "Miami-Dade"),
    ("lives in the County of Los Angeles", "Los Angeles"),
    ("family in Jefferson Parish, LA", "Jefferson"),
    ("moved from St. Louis County last year", "St. Louis"),
    ("county: Travis", "Travis"),
    ('"county": "Kings"', "Kings"),
    ("Borough of Manhattan", "Manhattan"),
    ("Cherry Hill Township, NJ", "Cherry Hill"),
    ("i live in orange county near the beach", "orange"),
])
def test_county(redactor, text, gone):
    out = red(redactor, text)
    assert gone not in out, out


@pytest.mark.parametrize("text", [
    "County hospital transfer for CT head",
    "seen at the county clinic; HR 72",
    "Parish nurse visit scheduled",
    "County: N/A",
    "lives in a rural county; HR 72",
    "out of county transfer, CPT 99213",
])
def test_county_clinical_untouched(redactor, text):
    assert red(redactor, text) == text


# --------------------------------------------------------------------- city after street (FP)

@pytest.mark.parametrize("text,kept", [
    ("Lives at 10610 Oak Circle. Hgb 9.8 today; repeat Hgb in AM.", ["Hgb 9.8", "repeat Hgb in AM"]),
    ("Lives at 10610 Oak Circle. Na 131 today; repeat Na in AM.", ["Na 131", "repeat Na in AM"]),
    ("Lives at 22 Elm St. Plan: recheck BMP.", ["Plan: recheck BMP"]),
    ("Lives at 22 Elm St. Follow up with PCP.", ["Follow up with PCP"]),
    ("Lives at 22 Elm St, Hgb 9.8 stable", ["Hgb 9.8"]),
    ("Lives at 22 Elm St, HTN, DM2 on metformin. HTN controlled.", ["HTN, DM2", "HTN controlled"]),
    ("Lives at 22 Elm St, Independent with ADLs.", ["Independent with ADLs"]),
])
def test_city_after_street_no_sentence_start(redactor, text, kept):
    out = red(redactor, text)
    assert "10610" not in out and "22 Elm" not in out, out
    for k in kept:
        assert k in out, out


@pytest.mark.parametrize("text,gone", [
    ("Lives at 7656 Tamarack Dr in Honolulu.", "Honolulu"),
    ("12 Elm Rd, Coeur d'Alene", "Coeur"),
    ("4 Quarry Drive, Mobile, and then", "Mobile"),
])
def test_city_after_street_kept(redactor, text, gone):
    out = red(redactor, text)
    assert gone not in out, out


def test_street_keeps_the_sentence_period(redactor):
    out = red(redactor, "Lives at 10610 Oak Circle. Hgb 9.8 today; repeat Hgb in AM.")
    assert out == "Lives at [ADDRESS]. Hgb 9.8 today; repeat Hgb in AM.", out


def test_csv_in_a_json_request_body(redactor):
    """The proxy's path: a JSON string value is scanned as ``key: value``; the header still counts."""
    from werker_proxy.payload import scrub_json

    body = {"model": "m", "input": 'name,dob,zip\n"Li, Faith",2/15/24,27151\n"Hill, Ama",3/1/90,02114\n'}
    out = scrub_json(body, redactor, "request")[0]["input"]
    assert "27151" not in out and "02114" not in out, out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab ,\t\r\n"', max_size=30), st.sampled_from([",", "\t"]))
def test_record_reads_a_line_as_rfc_4180_says(text, sep):
    """A record without quotes splits at each separator up to the line break (and the next
    record starts after \\r\\n, \\r or \\n)."""
    rec = _record(text, 0, sep)
    line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if '"' not in line:
        assert rec is not None
        cells, nxt = rec
        assert [text[a:b] for a, b in cells] == line.split(sep)
        rest = text[len(line):]
        assert nxt == len(line) + (2 if rest.startswith("\r\n") else 1 if rest else 0)
