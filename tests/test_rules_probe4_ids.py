"""Fourth independent probe (ids / dates / ages area): Spanish dates, iCalendar / compact ISO 8601
date-times, mixed alphanumeric plan / claim / account numbers, ids after '#:' labels (study, armband,
wristband), ages over 89 in parentheses after an age cue, digits spoken one by one after a number cue;
and the clinical numbers beside them that must stay (word-count and gestational-week ranges, a clock
draw score, an NDC after a drug cue, an X12 envelope control number).
Shapes and cues, not memorised values. All data synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

LEAKS = [
    # Spanish dates
    ("mi fecha de nacimiento es 17 de abril de 1961.", "17 de abril"),
    ("Nació el 3 de septiembre de 1948 en Lima.", "3 de septiembre"),
    ("Tuvo cita el 9 de enero pero no fue.", "9 de enero"),
    ("la cirugía fue el 22 de diciembre", "22 de diciembre"),
    ("Fecha: 1 de agosto del 2023", "1 de agosto"),
    ("cita el 30 de Noviembre, a las 10", "30 de Noviembre"),
    ("Fecha de nacimiento: 05-ago-1971", "05-ago-1971"),
    ("ingresó el 14 dic 2022 por neumonía", "14 dic 2022"),
    ("visto en marzo de 2021 por cardiología", "marzo de 2021"),
    # iCalendar / compact ISO 8601 basic date-times
    ("BEGIN:VEVENT\nDTSTART:20231105T091500\nSUMMARY:PT eval", "20231105T091500"),
    ("DTSTART;TZID=America/Chicago:20230611T143000\nDTEND;TZID=America/Chicago:20230611T150000", "20230611T143000"),
    ("DTEND;TZID=America/Chicago:20230611T150000\n", "20230611T150000"),
    ("scanned at 20220314T081500Z by the front desk", "20220314T081500Z"),
    ("DUE;VALUE=DATE:20240115\n", "20240115"),
    # mixed alphanumeric plan / claim / account numbers
    ("Ins: KW4410TR2231   Bill: (x) Insurance", "KW4410TR2231"),
    ("stable housing; insurance QD2201MX8814.", "QD2201MX8814"),
    ("Mi número de Medicaid es TB8830KQ1172.", "TB8830KQ1172"),
    ("su número de seguro es 48213377", "48213377"),
    ("Medicaid ZP4419XC3307 active", "ZP4419XC3307"),
    ("denial letter received, claim 7732K1190246", "7732K1190246"),
    ("please appeal claim 5521R8830214 today", "5521R8830214"),
    ("CLM*6620B3318845*150***11:B:1*Y*A*Y*Y~", "6620B3318845"),
    ("VALUES ('8812C4471093', 'x', 'J18.9');", "8812C4471093"),
    ("Insurance: C2=MW7741PL2290 C1=GRP C3=01", "MW7741PL2290"),
    # ids after '#:' labels and year-prefixed accession shapes
    ("Study #: T19-55301", "T19-55301"),
    ("Study #: KXU4471", "KXU4471"),
    ("Armband #: RQP8812   ABO/Rh: O pos", "RQP8812"),
    ("Armband #: MW21-448120   ABO/Rh: O pos", "MW21-448120"),
    ("Wristband ID: WB66120", "WB66120"),
    ("Recipient: Ann Roe  Armband #: QT23-551902", "QT23-551902"),
    ("Accession: FN24-009913 received", "FN24-009913"),
    ("Sample tracking id BX22-3390127", "BX22-3390127"),
    # ages over 89 in parentheses after an age cue
    ("Patient: Jo Roe  MRN 5512  Age (94)", "94"),
    ("Decedent: Jo Roe   Age: (101)   Date of death", "101"),
    ("4a. Age: (97)\n6. Date of birth", "97"),
    # digits spoken one by one after a number cue
    ("Medical record number four oh two seven seven one three.", "four oh two seven seven one three"),
    ("Callback number six one seven five five five zero one four two.", "six one seven five five five zero one four two"),
    ("you can call me at eight one two, three three four, nine nine eight one", "eight one two, three three four, nine nine eight one"),
    ("Social security number is one two three four five six seven eight nine", "one two three four five six seven eight nine"),
]


@pytest.mark.parametrize("text,piece", LEAKS)
def test_probe4_ids_leaks_redacted(redactor, text, piece):
    assert gone(red(redactor, text), piece)


CLEAN = [
    # ranges after a plural unit or count word
    "Development: 10-15 words, walks well, stacks 3 blocks.",
    "Weeks 12-16 of pregnancy uncomplicated.",
    "Weeks 10-12: progress to resistance bands.",
    "Days 03-07 of the cycle: letrozole.",
    "Repeat 08-12 reps x 3 sets.",
    "Ages 10-12 respond to the lower dose.",
    "Says 10-15 words and points to body parts.",
    # cognitive scores after draw / recall
    "SLUMS 14/30, MoCA 16/30, clock draw 2/4. Findings consistent with MCI.",
    "Clock drawing 3/4, delayed recall 2/3.",
    "MMSE: registration 3/3, recall 1/3.",
    # NDC after a drug / product cue, NCPDP product field, X12 envelope control numbers
    "Drug: 00071015523  Qty 30  Days 30  DAW 0",
    "AM07 Claim: 407-D7=00071015523 442-E7=30 405-D5=30",
    "NDC 00071-0155-23 dispensed",
    "ISA*00*          *00*          *ZZ*SUBMITTER01    *ZZ*RECEIVER01     *240101*1200*^*00501*000000905*0*P*:~",
    "IEA*1*000000905~",
    # Spanish words that are not dates
    "El paciente mar adentro, mayo clinic referral",
    "puede tomar 2 tabletas de mar a may",
    "Symptoms began 3 weeks ago; 2 ago? unclear",
    "Toma 3 de las tabletas cada día.",
    # compact numbers that are not date-times
    "Order 20240101X not a date",
    "Resolution 1920X1080 display, CYP2D6 genotype, T2N0M0 stage",
    "Lot FH8021 exp 2026",
    # ages and numbers in parentheses that are not ages
    "SpO2 (95) on RA, HR (92)",
    "Age of onset (in years): 45",
    "Glucose 180 (95-140)",
    # counted digits without a number cue (digit span test)
    "Digit span forward: seven four one nine two eight, backward five two.",
    # claim / insurance words with ordinary values
    "submit claim CMS-1500 form",
    "insurance 2 weeks pending",
    "claim was denied in 2023",
    "Medicaid es su seguro.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_probe4_ids_clean_text_unchanged(redactor, text):
    assert red(redactor, text) == text
