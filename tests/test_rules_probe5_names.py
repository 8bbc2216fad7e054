"""Person names the fifth black-box probe found leaking (HL7 names whose family part has several
words, an initial plus a surname after a prescriber/provider label) and the text it found redacted
as a name (the word before a parenthesised CPT/HCPCS code, all-caps claim-form box labels).  All
names are synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

# (text, pieces that must be gone)
LEAKS = [
    # HL7 XPN/XCN fields whose family name has a lowercase particle
    ("PID|1||A8168285^^^HOSP^MR||de la Cruz^Evangelina^L||19401016|F", ["Cruz", "Evangelina"]),
    ("NK1|1|de la Fuente^Bartolo|DAU|12 Oak Dr^^Provo^UT^84601", ["Fuente", "Bartolo"]),
    ("NK1|1|Van Der Velde^Annika|SPO", ["Velde", "Annika"]),
    ("PV1|1|I|ED||||2797891027^van der Linden^Priyanka^^^^MD", ["Linden", "Priyanka"]),
    ("PV1|1|O|CLINIC|||||1234567890^de los Santos^Marisol^R^^^MD", ["Santos", "Marisol"]),
    ("IN1|1|PLAN1|12345|AETNA||||||||||||van den Broek^Hendrika^M|SEL", ["Broek", "Hendrika"]),
    ("PID|1||55501^^^HOSP^MR||al-Rashidi^Yusra||19700101|F", ["Rashidi", "Yusra"]),
    # an initial plus a surname after a prescriber / provider / physician label (CSV cells are
    # scanned as 'header: cell')
    ("prescriber: K. Tranholm", ["Tranholm"]),
    ("Prescriber: Wanjiku, F.", ["Wanjiku"]),
    ("prescribing_provider: R. Oyelaran", ["Oyelaran"]),
    ("Ordered by: F. Wanjiku", ["Wanjiku"]),
    ("ordering_provider: M. Castellanos", ["Castellanos"]),
    ("Physician: Abernathy, J.", ["Abernathy"]),
    ("Clinician: D. Haverford", ["Haverford"]),
    # names in claim-form boxes still go
    ("2. PATIENT'S NAME (Last, First, MI): Quenneville, Ottavio Y", ["Quenneville", "Ottavio"]),
    ("4. INSURED'S NAME: Dubrovska, Raisa", ["Dubrovska", "Raisa"]),
    ("17. NAME OF REFERRING PROVIDER OR OTHER SOURCE: DN Anselm Yarborough  17b. NPI 1322761127",
     ["Anselm", "Yarborough"]),
    ("31. SIGNATURE OF PHYSICIAN OR SUPPLIER: Desmond Iordache, DPM  DATE 09/04/2023",
     ["Desmond", "Iordache"]),
    ("58 INSURED'S NAME: Bouchereau, Olesya", ["Bouchereau", "Olesya"]),
    # a name before a longer parenthesised id still goes
    ("Gwyneth Ashdown (AB-8361765) seen today", ["Gwyneth", "Ashdown"]),
]


@pytest.mark.parametrize("text,pieces", LEAKS)
def test_probe5_name_leaks(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


CLEAN = [
    # the word before a parenthesised CPT / HCPCS code is not a name
    "Service:     Zofran 4 mg ODT (99213)   $297.00   $158.00",
    "Influenza vaccine weekly on Sundays (90471)",
    "Glasgow Coma Scale (99285)",
    "Romberg Test Positive (99214)",
    "Chest Xray Portable (71045)",
    "Office Visit Established (99215) and Venipuncture (36415)",
    # organisms and rhythms written as an initial and a word after a label
    "Organism: E. coli",
    "Organism: E. Coli",
    "Name: C. diff positive",
    "Provider: S. Aureus bacteremia noted",
    "Result: H. pylori antigen positive",
    "Diagnosis: A. fib with RVR",
    "Per S. pneumoniae guidelines",
    # HL7 codes are not names
    "OBX|1|CE|1234^Result^LN||POS^Positive",
    "DG1|1|I10|E11.9^TYPE 2 DIABETES^I10",
]


@pytest.mark.parametrize("text", CLEAN)
def test_probe5_clean(redactor, text):
    assert red(redactor, text) == text


# claim-form box labels survive (the names in the boxes are checked above)
LABELS = [
    ("2. PATIENT'S NAME (Last, First, MI): Quenneville, Ottavio Y", ["PATIENT'S", "NAME"]),
    ("3. PATIENT'S BIRTH DATE: 11 22 1976 SEX F [X]", ["PATIENT'S", "BIRTH"]),
    ("5. PATIENT'S ADDRESS: 25276 Kingsley Street, Unit 606", ["PATIENT'S", "ADDRESS"]),
    ("9 PATIENT ADDRESS: 3303 Esperanza Terrace, Flagstaff AZ 50556", ["PATIENT", "ADDRESS"]),
    ("26. PATIENT'S ACCOUNT NO.: HAR080796426", ["PATIENT'S", "ACCOUNT"]),
    ("1a. INSURED'S I.D. NUMBER: W655918621\n4. INSURED'S NAME: Dubrovska, Raisa",
     ["INSURED'S", "NUMBER"]),
    ("11. INSURED'S POLICY GROUP OR FECA NUMBER: GRP459380", ["INSURED'S", "POLICY", "GROUP"]),
    ("17. NAME OF REFERRING PROVIDER OR OTHER SOURCE: DN Anselm Yarborough",
     ["NAME", "REFERRING", "PROVIDER", "OTHER", "SOURCE"]),
    ("17. NAME OF REFERRING PROVIDER: DN Anselm Yarborough", ["REFERRING", "PROVIDER"]),
    ("31. SIGNATURE OF PHYSICIAN OR SUPPLIER: Desmond Iordache, DPM",
     ["SIGNATURE", "PHYSICIAN", "SUPPLIER"]),
    ("33. BILLING PROVIDER INFO & PH #: Cardiology clinic, 67 N Tecumseh Pl",
     ["BILLING", "PROVIDER", "INFO"]),
    ("33. BILLING PROVIDER: Cardiology clinic", ["BILLING", "PROVIDER"]),
    ("32. SERVICE FACILITY LOCATION INFORMATION: Mercy General Hospital", ["SERVICE", "FACILITY"]),
    ("76 ATTENDING NPI: 2175077553 LAST: Mensah FIRST: Oluwaseun", ["ATTENDING", "LAST", "FIRST"]),
]


@pytest.mark.parametrize("text,labels", LABELS)
def test_probe5_claim_labels_survive(redactor, text, labels):
    out = red(redactor, text)
    for label in labels:
        assert label in out, (label, out)


# a headerless CSV row with a date: an initial and a surname in a cell is a name, an organism is not
def test_probe5_csv_initial_surname(redactor):
    out = red(redactor, "Ana Silva,MR3172120,09/13/2014,levothyroxine,112 mcg,weekly,06/20/2023,"
                        "F. Wanjiku,00378180110")
    assert gone(out, "Wanjiku"), out
    for text, word in [("2024-03-14,urine culture,E. Coli,>100K CFU", "E. Coli"),
                       ("2024-03-14,blood,S. Aureus,MRSA", "S. Aureus"),
                       ("2024-03-14,stool,C. Diff,toxin positive", "C. Diff")]:
        assert word in red(redactor, text), text


# A speaker label ("Clinician:", "Provider:") before a question or a sentence is not a name
# label (the third probe's telehealth transcripts, after "clinician" became a name label).
SPEAKER_TURNS = [
    "Clinician: How has the swelling been this week?",
    "Clinician: What time do you take it?",
    "Clinician: Did you take the water pill?",
    "Clinician: Tell me about the pain.",
    "Provider: Can you walk to the door?",
    "Clinician: When did it start?",
]


@pytest.mark.parametrize("text", SPEAKER_TURNS)
def test_speaker_turn_is_not_a_name(redactor, text):
    assert red(redactor, text) == text


def test_a_clinician_label_before_a_name_still_takes_it(redactor):
    assert gone(red(redactor, "Clinician: Maria Lopez, RN"), "Lopez")
