"""Year-less dates, compact DDMMMYYYY dates and ages over 89 found leaking by the black-box
probe, and the clinical numbers next to them that must stay (config/rules/{dates,ages}.yaml).

Shapes, not memorised values: each leak case has siblings with other words/values, and each new
shape has CLEAN neighbours (scores, fractions, doses, ranges, vitals) that must come back unchanged.
All data synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

# ---------------------------------------------------------------- month/day without a year
MD_LEAKS = [
    ("Dispo: home 9/24 if afebrile x24h.", "9/24"),
    ("Dispo: home 11/3 with services.", "11/3"),
    ("Hospital Day #4 - Progress Note (5/1)", "5/1"),
    ("Nursing note (12/19): pt resting", "12/19"),
    ("pt seen in ER 12/3 for chest pain", "12/3"),
    ("went to urgent care 6/8 for cough", "6/8"),
    ("Medicaid application submitted 7/28, ID pending.", "7/28"),
    ("Form faxed 10/2 to the insurer.", "10/2"),
    ("dr smith said it was sent 9/26. pls help", "9/26"),
    ("Next recall 5/10.", "5/10"),
    ("Next session 10/4.", "10/4"),
    ("Return to clinic 8/19.", "8/19"),
    ("Reminder of your appt 9/15 @ 2:15pm.", "9/15"),
    ("Lab draw 4/12 @ 0800", "4/12"),
    ("reports she had a fall 6/21. Transferred to triage.", "6/21"),
    ("had an injury 3/9 at work", "3/9"),
    ("Started apixaban 7/6.", "7/6"),
    ("Stopped lisinopril 11/20 due to cough.", "11/20"),
    ("LMP 2/20", "2/20"),
    ("EDD 11/30, G2P1", "11/30"),
    ("DOD 3/14 02:10", "3/14"),
    ("Died 1/5 at 03:20", "1/5"),
    ("i need a work note for 8/21 thru 8/25", "8/21"),
    ("i need a work note for 8/21 thru 8/25", "8/25"),
    ("Scheduled for 3/14 with ortho", "3/14"),
    # count-shaped month/days (2/2, 1/2, 3/4) after an event word when they close a clause
    ("Medicaid application submitted 2/4, ID pending.", "2/4"),
    ("dr lee said it was sent 2/2. pls help", "2/2"),
    ("pt seen in ER 8/8 for chest pain", "8/8"),
    ("Next session 2/3.", "2/3"),
    ("Started warfarin 3/4.", "3/4"),
    ("Mother passed 5/12.", "5/12"),
    ("Refill sent 10/9.", "10/9"),
]

MD_CLEAN = [
    # pain scores, motor strength, murmur grades, reflexes, visual acuity
    "Pain 3/10 today.",
    "pain 7/10, worse with movement",
    "Rates pain 4/10.",
    "0/10 pain at rest",
    "Strength 4/5 in the left leg.",
    "5/5 strength throughout",
    "4/5 strength RLE",
    "3/4 strength in grip",
    "Grade 2/6 systolic murmur.",
    "2/6 murmur at LUSB",
    "Reflexes 2/4 symmetric.",
    "Vision 20/20 OU",
    "Visual acuity 20/40 OD",
    # doses and fractions
    "1/2 tab PO daily",
    "Take 1/2 tablet at bedtime.",
    "Started metoprolol 1/2 tab BID",
    "Doses on 1/2 and 3/4 tablets.",
    "Ate 3/4 of meals.",
    "Tolerated 1/2 of breakfast.",
    "Reduced to 1/2 dose.",
    "1/2 NS at 75 mL/h",
    # vitals and ratios
    "BP 120/80, HR 72",
    "BP was 128/82 @ 14:00",
    "Blood cultures positive in 2/2 sets.",
    "Cultures 1/2 bottles positive",
    "Apgars 8/9",
    "I/O 1495/1188",
    "3/12 lymph nodes positive",
    "Gestational age 32 4/7 weeks",
    "sent 2/2 blood cultures",
    "Home O2 2/3 of the time",
    "Blood cultures positive in 2/2.",
    "Tolerated 1/2.",
    "Completed 3/3.",
    "Cultures drawn 2/2 bottles, pending",
    "Scored 12/15 on the MoCA.",
    "PT: improved 4/5 to 5/5",
    "MMSE 12/30 today",
    "PHQ-9 12/27, GAD-7 10/21",
    "ROS negative 10/12 systems",
    "walked for 10/15 min",
    "Removed 10/12 staples, site clean",
    "Transfused 2/2 units",
]


@pytest.mark.parametrize("text,piece", MD_LEAKS)
def test_month_day_without_year_is_redacted(redactor, text, piece):
    out = red(redactor, text)
    assert gone(out, piece), out


@pytest.mark.parametrize("text", MD_CLEAN)
def test_scores_fractions_and_doses_stay(redactor, text):
    assert red(redactor, text) == text


# ---------------------------------------------------------------- DDMMMYYYY, lowercase may
COMPACT_LEAKS = [
    ("Date of exam: 10DEC2021", "10DEC2021"),
    ("Pt: JANE DOE   DOB 14DEC2002   MRN 12345", "14DEC2002"),
    ("DOB: 21MAR1936", "21MAR1936"),
    ("seen 03Jun2019 in clinic", "03Jun2019"),
    ("Collected 7AUG23 0800", "7AUG23"),
    ("DOB may 11   MRN 12345", "11"),
    ("reports she had a fall may 4. Transferred.", "4"),
    ("seen may 14, 2021 in clinic", "14"),
]

COMPACT_CLEAN = [
    "you may 2 tabs if needed",
    "Patients may 3 times daily take it",
    "may 5 mg be given?",
    "Aug. 2+ pulses.",
    "Reflexes 2+ and symmetric",
    "Lot 12MAR5 exp",
    "Epic build 2023.1.4.",
    "version 2024.2.1 released",
]


@pytest.mark.parametrize("text,piece", COMPACT_LEAKS)
def test_compact_and_lowercase_dates_are_redacted(redactor, text, piece):
    out = red(redactor, text)
    assert gone(out, piece), out


@pytest.mark.parametrize("text", COMPACT_CLEAN)
def test_compact_date_neighbours_stay(redactor, text):
    assert red(redactor, text) == text


# ---------------------------------------------------------------- number ranges are not dates
RANGES_CLEAN = [
    "Follow up in 10-14 days.",
    "Will follow up 10-15 mL.",
    "Visit 12-16 weeks after surgery.",
    "Reference range 12-16 g/dL.",
    "OBX|1|NM|718-7^Hemoglobin^LN||9.8|g/dL|12-16|N|||F",
    "Heparin 12-18 units/kg/hr.",
    "Return in 02-03 months",
    "Goal 10-12 hours of sleep",
    "RR 12-20 breaths/min",
]


@pytest.mark.parametrize("text", RANGES_CLEAN)
def test_number_ranges_are_not_dates(redactor, text):
    assert red(redactor, text) == text


def test_padded_month_day_still_redacted(redactor):
    out = red(redactor, "ECG 12/08 showed NSR; last visit 03-14 in clinic")
    assert gone(out, "12/08") and gone(out, "03-14"), out


# ---------------------------------------------------------------- ages over 89
AGE_LEAKS = [
    ("Pt identified by driver's license as Jane Roe, 95M.", "95M"),
    ("identified by ID bracelet as JOHN DOE, 101M.", "101M"),
    ("reports the mother is 95F and had a fall", "95F"),
    ("reports the husband is 90M and had a fall", "90M"),
    ("Jane Roe, 95F, seen today", "95F"),
    ("ID bracelet as Abena bin Hamad, 92F.", "92F"),
    ("just turned 90", "90"),
    ("the patient, who just turned 101, lives alone", "101"),
    ("she turns 93 next week", "93"),
    ("she is 97", "97"),
    ("Pt is 94 and lives alone.", "94"),
    ("My father is 92, and he fell.", "92"),
    ("| Age | 96 |", "96"),
]

AGE_CLEAN = [
    "SpO2 94",
    "HR 97",
    "she is 97% on RA",
    "She is 97 % on room air",
    "Temp is 98.6 F",
    "glucose is 95",
    "Glucose is 95.",
    "K is 4.1",
    "HR is 97 and regular.",
    "Sat is 94, on 2L",
    "Pt is 99F and shivering",
    "T 101F, HR 110",
    "Fever, 101F overnight",
    "Tmax 101F, 102F, 100F",
    "turned 90 degrees to the left",
    "Head turned 90 deg",
    "Weight is 95 kg",
    "Pt is 95 kg and lives alone.",
    "| Age | 67 |",
    "| Page | 94 |",
    "she is 92 lbs",
    "The daughter is 99F",
    "Pt is 96 on RA",
    "He was 98 at triage",
]


@pytest.mark.parametrize("text,age", AGE_LEAKS)
def test_age_over_89_shapes_are_redacted(redactor, text, age):
    out = red(redactor, text)
    assert gone(out, age), out


@pytest.mark.parametrize("text", AGE_CLEAN)
def test_vitals_and_labs_near_age_shapes_stay(redactor, text):
    assert red(redactor, text) == text
