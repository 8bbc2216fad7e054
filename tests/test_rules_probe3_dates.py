"""Third independent probe: year-less month/day dates after a weekday, a dose/period word, a time
or in a table row beside a full date; ages over 89 after a bullet, after 'Name, is' and spelled out
before 'years young'; and the clinical/administrative numbers beside them that must stay
(config/rules/{dates,ages}.yaml). Shapes, not memorised values. All data synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

LEAKS = [
    # a weekday before a month/day
    ("Next visit Tues 9/20.", "9/20"),
    ("Next visit Thurs 6/7.", "6/7"),
    ("admitted Wed 4/7 with hip fracture", "4/7"),
    ("f/u with Dr. Okafor on Sun 4/6", "4/6"),
    ("seen Mon, 2/15 in clinic", "2/15"),
    ("call back Fri. 11/9 re labs", "11/9"),
    ("Visit scheduled Saturday 3/28", "3/28"),
    ("next visit thu 12/3", "12/3"),
    ("PT eval Thur 8/14 at home", "8/14"),
    ("Wednesday 1/2 appointment with cardiology", "1/2"),
    # a dose / period word before a month/day
    ("apixaban 5 mg PO BID — last dose 8/10", "8/10"),
    ("furosemide 40 mg PO BID - last dose 3/23\n", "3/23"),
    ("Recert period ends 1/13.", "1/13"),
    ("Benefit period ending 12/6, recert due", "12/6"),
    ("colonoscopy prep begins 7/26. Call to reschedule.", "7/26"),
    ("Home health episode starts 10/2", "10/2"),
    ("final dose 6/14 then stop", "6/14"),
    # a time then a month/day
    ("Time in 0915 / time out 1010, 5/28", "5/28"),
    ("Visit end 14:30, 2/11 - pt stable", "2/11"),
    # a month/day cell in a row that also holds a full date
    ("009-0129 | SP | Jane Roe | 03/04/1950 | 7/6 | pending", "7/6"),
    ("| 001-0130 | HK | 1948-11-02 | 4/5 | N - eGFR 28 |", "4/5"),
    ("A. Smith | 12/30/61 | 10/12 | Y", "10/12"),
    ("007-0031 | GF | Roe, Jo | 08-MAY-1966 | 6/3 | pending", "6/3"),
    ("| Doe, Ann | May 8, 1941 | 9/7 | Y |", "9/7"),
]


@pytest.mark.parametrize("text,piece", LEAKS)
def test_month_day_leaks_redacted(redactor, text, piece):
    assert gone(red(redactor, text), piece)


CLEAN = [
    "Urinalysis: 10-20 WBC/hpf, 0-2 RBC/hpf, 11-20 RBC/hpf.",
    "Casts 05-10 per hpf, hyaline 02-05 /lpf.",
    "Form CMS-1500 (02-12).",
    "Use Form HCFA-1500 (08-05) for paper claims.",
    "Rev 03/2023 of the consent form template.",
    "Consent form Revision 11/2022, Version 04/2021.",
    "Ver. 06/2024 of the handout",
    # weekday words that are not a weekday before a date
    "Patient sat 1/2 hour in chair.",
    "O2 sat 4/5 readings normal",
    "sun exposure 3/4 of the day",
    # dose, period, start/end words before fractions and scores
    "last dose 1/2 tab",
    "Reduce the dose 1/2 tab BID",
    "prep begins 1/2 hour before",
    "starts 2/3 of the time",
    "ends 4/5 strength bilaterally",
    # a time before a fraction or score
    "0800 1/2 tab given",
    "at 1400, 2/6 murmur noted",
    "Time 1010, pain 7/10",
    # table rows: scores beside a full date, or a fraction cell
    "| 2/6 | murmur |",
    "| Power | 4/5 |",
    "| Since 2019 | 3/4 |",
    # earlier clean cases
    "BP 120/80, 4/5 strength, 2/6 murmur, 1/2 tab, vision 20/20.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_dates_unchanged(redactor, text):
    assert red(redactor, text) == text


# a score or count cell in a row that also holds a full date stays (the full date goes)
KEEP = [
    ("| 03/04/2024 | Pain | 7/10 |", "| Pain | 7/10 |"),
    ("| 03/04/2024 | 2/2 | sets positive |", "| 2/2 | sets positive |"),
    ("| 03/04/2024 | Power | 4/5 |", "| Power | 4/5 |"),
]


@pytest.mark.parametrize("text,kept", KEEP)
def test_scores_beside_full_date_kept(redactor, text, kept):
    out = red(redactor, text)
    assert "03/04/2024" not in out and kept in out


AGE_LEAKS = [
    ("Hospice IDG note. Jane Roe, is 99 and lives alone, terminal dx", "99"),
    ("Mr. Abebe, who is 96, was seen today", "96"),
    ("S:\n  • 97F c/o worsening DOE x2 wks", "97"),
    ("S:\n  • 93M c/o worsening DOE", "93"),
    ("- 95F with CHF, admitted", "95"),
    ("HPI: 99M F with COPD with acute exacerbation", "99"),
    ("Ninety-two years young, still gardening.", "Ninety-two"),
    ("One hundred three years young, still gardening.", "One hundred three"),
    ("she is ninety-four and lives alone", "ninety-four"),
]


@pytest.mark.parametrize("text,piece", AGE_LEAKS)
def test_age_leaks_redacted(redactor, text, piece):
    assert piece not in red(redactor, text)


AGE_CLEAN = [
    "HR 99 and regular",
    "SpO2 97 and stable",
    "  • 97% on RA",
    "  • 99F oral temp",
    "  • 101F fever overnight",
    "- 98F axillary",
    "Ninety-two percent of patients improved.",
    "ninety years ago the hospital opened",
    "Glucose, is 95 and stable",
    "she is 67 and lives alone",
    "SpO2 is ninety-four percent",
]


@pytest.mark.parametrize("text", AGE_CLEAN)
def test_age_clean_unchanged(redactor, text):
    assert red(redactor, text) == text
