"""Probe 5 (mainstream styles): identifiers, dates and the clinical codes that look like them.

All values are synthetic.
"""

import pytest

from tests.conftest import gone, red

# (text, piece that must be gone)
LEAKS = [
    # CMS-1500 box 24A service-date rows (rows after the header carry no date word)
    ("24A DOS  POS  CPT  MOD  DX PTR  CHARGES  UNITS\n04 11 23   11   99214  25   A   $210.00   1\n"
     "04 12 23   11   J1885  25   A   $88.00   1", "04 12 23"),
    ("\n07 02 24   07 03 24   21   99223   A   $410.00   2", "07 02 24"),
    ("\n07 02 24   07 03 24   21   99223   A   $410.00   2", "07 03 24"),
    ("\n11 30 22   11   G0008   B   $25.00   1", "11 30 22"),
    # UB-04 box 12: admission date MMDDYY without separators after the label
    ("11 SEX: F  12 ADMISSION DATE: 031724\n42 REV CD", "031724"),
    ("DISCHARGE DATE: 110923", "110923"),
    ("Date of service: 122822 seen", "122822"),
    # letter-only identifiers after an ID cue
    ("Referral ID: REF-KQWPZLTB. Send summary.", "KQWPZLTB"),
    ("Iris scan ID: IRXQTWPLMNVB.", "IRXQTWPLMNVB"),
    ("Enrollment ID: QZWXKVTPRL", "QZWXKVTPRL"),
    # insured's I.D. with dots
    ("1a. INSURED'S I.D. NUMBER: 7HQ482019335\n2. PATIENT NAME", "7HQ482019335"),
    ("Insured's I.D. #: 5FB1120034", "5FB1120034"),
    # an uncued 11-digit number is still an identifier (no drug cue)
    ("Per chart, 48213377012. Reviewed labs.", "48213377012"),
    ("Call back re: 61755501420 today", "61755501420"),
    # account number on a med line keeps its own cue
    ("metformin 500 mg BID, acct 00093714656", "00093714656"),
    # random long ids that fail the SNOMED CT check stay redacted
    ("Per chart, 271737004.", "271737004"),
    ("Also: 13645006; reviewed", "13645006"),
    # a URL with a patient path on another host still goes
    ('{"url": "https://portal.example-health.org/patient/48213"}', "48213"),
    ('see http://hl7.example.com/Patient/88213', "88213"),
    # a patient month/year stays a date
    ("Last seen May 2024 in clinic.", "May 2024"),
    ("Diagnosed Mar 2021 with DM2.", "Mar 2021"),
    # a real identifier near an ICD cue but not ICD-shaped
    ("Dx: E11.9  MRN E695848304", "E695848304"),
    # an 11-digit number after a code in a CSV row (no space) is still a record number
    ("E03.9,12345678901,Aisha", "12345678901"),
    # a true padded date still goes
    ("last visit 03/14 doing well", "03/14"),
]

CLEAN = [
    # L1: bare 11-digit NDC with a drug / dose cue on the line
    "drug,dose,frequency,ndc\ngabapentin,300 mg,q4-6h,00093714656",
    "Continue 00378180110. Noted HbA1c 7.2%.",
    "lisinopril 10 mg tablet daily, 68180051301, refills 3",
    "Dispense #30, 00071015523",
    "Secondary: Z23, 00071015523",
    "Secondary: 99214, 1049621",
    # L2: bare SNOMED CT concept ids (valid partition + Verhoeff check digit)
    "Per chart, 271737000. Reviewed K 4.1 mmol/L.",
    "Secondary: J0696, 386661006",
    "Also: 13645005; Hope is to wean.",
    "Problem 44054006 stable; 195967001 controlled",
    # L8: bare RxNorm after a medication cue
    "Continue firmware 8.23; 1049621.",
    "Medication: 197361, 1049630 daily",
    # L3: software / EHR versions
    "# exported from Nephrology system Epic May 2024",
    "Noted Epic May 2024. Reviewed labs.",
    "Cerner release Nov 2023 in use",
    "Per ADA guidelines March 2024, goal A1c < 7%.",
    "software update Jan 2025 installed",
    # L4: ICD-10-CM without the dot after a diagnosis cue
    "67 PRIN DIAG CD: G20  67A: O24410\n76 ATTENDING NPI",
    "67 PRIN DIAG CD: I4891  67A: S72001A",
    "Dx: S72001A, closed fracture",
    "Principal diagnosis: M54500",
    "ICD-10: T7840XA",
    "Admitting diagnosis O24410",
    # FP: form version
    "HEALTH INSURANCE CLAIM FORM (CMS-1500 02/12)",
    "APPROVED OMB-0938-1197 FORM CMS-1500 (02-12)",
    # FP: standards / terminology URLs
    '{"url": "http://hl7.org/fhir/StructureDefinition/obs", "valueString": "K 4.1"}',
    '"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]',
    '{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}',
    '"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]',
    '"coding": [{"system": "http://loinc.org", "code": "4548-4"}]',
    '"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "197361"',
    '"valueQuantity": {"value": 7.2, "system": "http://unitsofmeasure.org", "code": "%"}',
    'url: http://hl7.org/fhir/ValueSet/observation-category',
    '{"system": "urn:oid:2.16.840.1.113883.6.96", "code": "44054006"}',
    'codeSystem="2.16.840.1.113883.6.1" urn:oid:2.16.840.1.113883.6.88',
    # claim-line look-alikes that are not dates
    "Counts 10 12 15 today",
    "06 units  11 beds  99213",
]


@pytest.mark.parametrize("text,piece", LEAKS)
def test_probe5_ids_leaks(redactor, text, piece):
    out = red(redactor, text)
    assert gone(out, piece), out


@pytest.mark.parametrize("text", CLEAN)
def test_probe5_ids_clean(redactor, text):
    assert red(redactor, text) == text
