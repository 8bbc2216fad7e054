"""Ages over 89, 7-digit phone numbers and year-less dates (config/rules/{ages,contact,dates}.yaml).

Every string is synthetic.  Each leak case asserts the PHI piece is gone; each clinical case
asserts the text comes back unchanged.
"""

from __future__ import annotations

import pytest

from tests.conftest import red as _out


# ---------------------------------------------------------------- ages over 89
AGE_LEAKS = [
    ("Thank you for seeing my patient, a 92F with CHF.", "92"),
    ("Thank you for seeing my patient, a 100F with sepsis.", "100"),
    ("hey so my mom Rose (106F) is at home", "106"),
    ("can someone check on her in 412? 97F, fell last night", "97"),
    ("S: 93F male seen for f/u.", "93"),
    ("S: 101F female seen for f/u.", "101"),
    ("Weight down 2 lb. 103F Follow up in 5 months with GI.", "103"),
    ("Pt is a 92 F with CHF.", "92"),
    ("This 95M presents with chest pain.", "95"),
    ("91M admitted for pneumonia.", "91"),
    ("a 94 y/o M with AFib", "94"),
    ("a 96yoF with dementia", "96"),
    ("a 98 y.o. F here for f/u", "98"),
    ("a 92-y/o woman", "92"),
    ("Age/Sex: 99F", "99"),
    ("93 yrs, fell last night", "93"),
    ("a 94 yrs with Hgb trend", "94"),
    ("S: 101 yrs female seen for f/u.", "101"),
    ("Zoe Patel (98 yrs) is at home", "98"),
    ("92 yr old man", "92"),
    ("a 90 yr with CKD", "90"),
    ("a 97y F with falls", "97"),
    ("Age/Sex: 92/M", "92"),
    ("95 y o female with dementia", "95"),
    ("a pleasant woman in her 90s with CHF", "90s"),
    ("in his late 90's, lives alone", "90's"),
]


@pytest.mark.parametrize("text,age", AGE_LEAKS)
def test_age_over_89_is_redacted(redactor, text, age):
    out = _out(redactor, text)
    assert age not in out, out
    assert "[AGE]" in out, out


TEMPERATURES = [
    "T 98.6 F, HR 88, BP 128/82",
    "temp 99 F this am",
    "Temp 99.1F, afebrile",
    "T 97F, P 72, RR 16",
    "Tmax 101F overnight",
    "Tmax: 102 F; WBC 14",
    "febrile to 103F overnight",
    "fever of 101 F with chills",
    "spiked a fever 102F at 2am",
    "Temperature 100 F oral",
    "Vitals: T 98F HR 92 RR 18 SpO2 95%",
    "T: 99F BP 140/90",
    "BP 120/80, HR 96, T 98 F, SpO2 97% on RA",
    "temp was 100F yesterday",
    "T 37.2 C (99 F)",
    "Oral temp 98 F; rectal temp 99 F",
]


@pytest.mark.parametrize("text", TEMPERATURES)
def test_temperatures_in_fahrenheit_stay(redactor, text):
    # only the age rules are under test here (a word like "Tmax" is the name rules' business)
    out = _out(redactor, text)
    assert "[AGE]" not in out, out
    assert [w for w in text.split() if w[:1].isdigit()] == [w for w in out.split() if w[:1].isdigit()], out


AGE_CLINICAL = [
    "67-year-old woman with CHF",
    "a 45 yo F with asthma",
    "a 72F with COPD",
    "HR 92, SpO2 95% on RA",
    "MCV 98 fL, Hgb 11.9",
    "walked 100 m with walker",
    "90 mg PO daily",
    "Gait speed 0.9 m/s; 6MW 300 m",
    "glucose 100-140s fasting",
    "Plt 440, 92 M/uL",
    "Rhythm strip: rate 96 with PVCs",
    "SpO2 in the 90s on 2 L",
    "SBP 130s/90s at home",
    "SpO2 95 y/n",
    "Pt is 99F and shivering",
]


@pytest.mark.parametrize("text", AGE_CLINICAL)
def test_clinical_numbers_near_age_forms_stay(redactor, text):
    assert _out(redactor, text) == text


# ---------------------------------------------------------------- 7-digit phones
PHONE_LEAKS = [
    ("call me at 848-6020 tonight", "848-6020"),
    ("Caregiver Young, Mehmet (664-5708).", "664-5708"),
    ("Home: 555-0142  Cell: 555-0199", "555-0142"),
    ("Home: 555-0142  Cell: 555-0199", "555-0199"),
    ("Called pt at 555-0173, left VM.", "555-0173"),
    ("daughter maria # is 555-0188", "555-0188"),
    ("S: daughter at bedside, reachable at 555.0123.", "555.0123"),
    ('"telecom": [{"system": "phone", "value": "555-0161"}]', "555-0161"),
    ("Emergency contact: Lee, Ann (son) 555-0177", "555-0177"),
    ("PCP: Dr Smith, fax 555-0144", "555-0144"),
    ("Tel 555-0111  Fax 555-0122", "555-0111"),
    ("Tel 555-0111  Fax 555-0122", "555-0122"),
    ("pager 555-0133", "555-0133"),
    ("text her at 555-0155 when ready", "555-0155"),
    ("PID|1||12345^^^MERCY^MR||DOE^JANE||19490721|F|||1 Main St^^Burlington^VT^05487^USA||555-0166|||||9", "555-0166"),
    ("NK1|1|PARK^WEI^W|SPO|||555-0167\nPV1|1|I", "555-0167"),
]


@pytest.mark.parametrize("text,phone", PHONE_LEAKS)
def test_seven_digit_phone_is_redacted(redactor, text, phone):
    out = _out(redactor, text)
    assert phone not in out, out
    assert phone[-4:] not in out, out


PHONE_CLINICAL = [
    "Acetaminophen 500-1000 mg PO q6h PRN; call if fever",
    "IV fluids 100-1250 mL over 2 h",
    "Call MD if urine output 200-1000 mL per shift",
    "glucose range 120-1300, call for values above",
    "IgG 650 (700-1600) low",
    "Lot 555-0142 exp 12/2026",
    "NDC 0002-8215-01",
    "LOINC 2160-0 ordered; CPT 99285",
    "Seen at 17:21; next dose at 1125h",
    "Dx: J18.9, E66.01",
    "Platelets 440 (150-400)",
    "Home dose 250-1000 units daily",
    "Office hours 800-1700, call ahead",
    "Work-up: ferritin 250-1000 ng/mL",
]


@pytest.mark.parametrize("text", PHONE_CLINICAL)
def test_ranges_and_codes_are_not_phones(redactor, text):
    out = _out(redactor, text)
    assert "[PHONE]" not in out and "[FAX]" not in out, out


# ---------------------------------------------------------------- dates without a year
DATE_LEAKS = [
    ("Date of service: 2/15", "2/15"),
    ("DOS 2/15", "2/15"),
    ("seen on 2/15 in clinic", "2/15"),
    ("admitted 3/4 with pneumonia", "3/4"),
    ("discharged on 12/1 to home", "12/1"),
    ("f/u 3/14 with cardiology", "3/14"),
    ("surgery 4/2 uncomplicated", "4/2"),
    ("PHARMACY NOTE 1/28\nRx for JANE DOE", "1/28"),
    ("Patient: Jane Doe   DOB: 6/20   MRN 1234", "6/20"),
    ("Rx for JANE DOE (DOB 4/3) - WBC 7.4", "4/3"),
    ("this is Priya, my birthday is 11/2. I had my bloodwork", "11/2"),
    ("Date of visit: 10/1", "10/1"),
    ("Procedure date 7/16: colonoscopy", "7/16"),
    ("SpO2 94% on RA. 2/24 Patient in bed 12, 1L O2 via NC.", "2/24"),
    ("3/14 1400 pt resting comfortably", "3/14"),
]


@pytest.mark.parametrize("text,date", DATE_LEAKS)
def test_date_without_year_after_cue_is_redacted(redactor, text, date):
    out = _out(redactor, text)
    assert date not in out, out


DATE_CLINICAL = [
    "pain 7/10 today",
    "2/6 systolic murmur at LUSB",
    "on exam 2/6 murmur heard",
    "Note 2/6 holosystolic murmur",
    "strength 5/5 bilaterally",
    "take 1/2 tab PO daily",
    "Vision 20/20 OU",
    "BP 120/80, HR 72",
    "Apgar 8/9",
    "3/4 tablet at bedtime",
    "G2P1, 24w4d, Apgars 6/9",
    "on 1/2 tab daily",
    "seen with 5/5 strength",
    "Surgery 1/2 dose of heparin",
    "DOB unknown; 5/5 strength",
    "Left eye 20/25, right eye 20/30; IOP 12 mmHg",
    "I/O 1495/1188",
    "Reflexes 2+/4 bilaterally",
    "1/2 NS at 75 mL/h",
    "VS on 3/4 liters NC",
    "Ate 3/4 of meals.",
]


@pytest.mark.parametrize("text", DATE_CLINICAL)
def test_ratios_and_scores_stay(redactor, text):
    assert _out(redactor, text) == text


# ---------------------------------------------------------------- product expiry dates
EXPIRY = [
    "Lot K5325 exp 12/2026; Tdap given",
    "Lot K5325 exp 12/2026",
    "Influenza vaccine lot AB123, exp. 03/2027, left deltoid",
    "NDC 0006-4963-41 Lot R012345 Expiration 11/2026",
    "Lot 4KX9 expires 06/2027",
]


@pytest.mark.parametrize("text", EXPIRY)
def test_product_expiry_dates_stay(redactor, text):
    out = _out(redactor, text)
    assert "[DATE]" not in out, out


def test_month_year_of_a_person_still_redacted(redactor):
    out = _out(redactor, "last seen 03/2024, diagnosed March 2019")
    assert "03/2024" not in out and "March 2019" not in out, out


def test_fhir_telecom_seven_digit_phone_is_redacted(redactor):
    from werker_proxy.payload import scrub_json

    doc = '{"resourceType": "Patient", "telecom": [{"system": "phone", "value": "884-6716"}], "note": "Na 136"}'
    out = scrub_json({"model": "m", "input": doc}, redactor, "request")[0]["input"]
    assert "884-6716" not in out and "6716" not in out, out
    assert "Na 136" in out, out
