"""Places and identifiers the third black-box probe found leaking: XML / C-CDA address and id
elements, HL7 NK1 / IN1 / GT1 fields, conversational places, bare MBIs, CDL numbers, device
serials after a device word, employers, dated photo files; and the text next to them that must
stay (state / country elements, languages before ", ID #", short JSON resource ids).

All names, places and numbers are synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

# (text, pieces that must be gone)
LEAKS = [
    # a FHIR logical id of a Patient resource, letters and a few digits (second probe)
    ('{"resourceType": "Patient", "id": "2cctynv74nkj"}', ["2cctynv74nkj"]),
    # XML / C-CDA address parts
    ("<addr><line>12 Birch Way</line><city>Millbrook</city><state>NY</state><zip>12545</zip></addr>",
     ["Millbrook", "12545"]),
    ('<addr use="HP"><streetAddressLine>44 Quarry Rd</streetAddressLine><city>Red Wing</city>'
     "<state>MN</state><postalCode>55066</postalCode></addr>", ["Quarry", "Red Wing", "55066"]),
    ("<County>Dakota</County>", ["Dakota"]),
    ('<City code="x">Ashby Falls</City>', ["Ashby Falls"]),
    ("<postal_code>02907-1234</postal_code>", ["02907-1234"]),
    # XML identifiers
    ('<patientRole><id extension="A88213" root="2.16.840.1.113883.19.5"/>', ["A88213"]),
    ('<id root="2.16.840.1.113883.19.5" extension="613550"/>', ["613550"]),
    ("<mrn>88213</mrn>", ["88213"]),
    ("<memberId>XK4412Q</memberId>", ["XK4412Q"]),
    ("<accountNumber>55123</accountNumber>", ["55123"]),
    ("<medRecNo>MC50381Z</medRecNo>", ["MC50381Z"]),
    # HL7 address without a state, IN1 policy / insured ids, GT1
    ("NK1|1|ROE^ANN|PAR|12 OAK ST^^CALDWELL|2085550100", ["CALDWELL"]),
    ("IN1|1|MCR|CMS|MEDICARE||||||||||||ROE^JOHN|SEL|||||||||||||||||||||||7KP3XQ2ML58",
     ["7KP3XQ2ML58"]),
    ("GT1|1|G88213|ROE^ANN||12 OAK ST", ["G88213"]),
    # conversational places
    ("Pt: At my son's place in Brixley, on 12 Oak St.", ["Brixley"]),
    ("I'm staying with my daughter in Harwick this week.", ["Harwick"]),
    ("She lives with her son in Dunmore.", ["Dunmore"]),
    ("Moved to the 43111. Doing well.", ["43111"]),
    ("Moved to the 43111 area last spring.", ["43111"]),
    # MBI shapes
    ("New Medicare card shows 7HV4FP2VG10.", ["7HV4FP2VG10"]),
    ("MBI 1EG4 TE5 MK73 on file", ["1EG4", "TE5", "MK73"]),
    ("Medicare card shows 2KQ0 H22 JC06.", ["2KQ0", "H22", "JC06"]),
    # CDL numbers
    ("CDL #: 822 965 996 (NY)", ["822 965 996"]),
    ("CDL #: T 880 127 218 230 (MI)", ["880 127 218 230"]),
    ("CDL #: G6578 73281 67188 (NJ)", ["G6578", "73281", "67188"]),
    # SSN last four in parentheses
    ("the last four of his social (9848).", ["9848"]),
    # device serials after a device word
    ("Dexcom G7 transmitter SN-21G97791 interrogated.", ["21G97791"]),
    ("Dexcom G7 transmitter 8GC1WV interrogated.", ["8GC1WV"]),
    ("insulin pump 9484LK5855 downloaded", ["9484LK5855"]),
    # employers
    ("Employer: Okonkwo Trucking Inc.", ["Okonkwo Trucking"]),
    ("Employer: Blue Heron Meatpacking Co.\nCDL #: D65219630", ["Blue Heron Meatpacking"]),
    ("Works at Yakima Fruit Packers LLC as a forklift driver.", ["Yakima Fruit Packers"]),
    ("employed by Tarrow Home Care Services since 2019", ["Tarrow Home Care"]),
    # photo files named for a person or dated
    ("Wound care: photo uploaded (roe_ann_sacrum_20250522.jpg) for review", ["roe_ann_sacrum_20250522.jpg"]),
    # borderline ids
    ("- card on file ending in 3465", ["3465"]),
    # a local phone after "Questions?"
    ("Reply C to confirm. Questions? 247-6910", ["247-6910"]),
    ('{"patient":{"reference":"Patient/859215","display":"x"}}', ["859215"]),
]


@pytest.mark.parametrize("text,pieces", LEAKS)
def test_phi_gone(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


# text that must come back unchanged
CLEAN = [
    # state / country elements, clinical XML
    "<state>NM</state><country>US</country>",
    '<value xsi:type="PQ" value="7.2" unit="%"/>',
    '<code code="4548-4" codeSystem="2.16.840.1.113883.6.1"/>',
    '<line x1="0" y1="0" x2="10" y2="10"/>',
    '<id root="2.16.840.1.113883.19.5"/>',
    # HL7 coded fields
    "OBX|1|CE|8867-4^Heart rate^LN||72|/min|60-100|N|||F",
    # a language before ", ID #"
    "Interpreter: (Somali, ID #",
    "Interpreter used (Spanish, ID on file).",
    # a short JSON resource id
    '{"resourceType":"Encounter","id":"enc1","status":"finished"}',
    # places near the new cues
    "Lives with her son in the same house.",
    "Staying with my daughter in Ohio.",
    "At my son's place in Texas for the week.",
    "Moved to the ICU overnight.",
    # device words with values
    "insulin pump 10units/hr overnight",
    "transmitter replaced, sensor 10 days",
    "Monitor 12-lead ECG in AM",
    # employers
    "Employer: Retired",
    "Employer: None",
    "Employer: Self-employed",
    "Works at night as a nurse.",
    # MBI-like clinical strings
    "Dose 1 of 2, lot EK5730.",
    "COVID-19 vaccine 2 doses",
    # card words
    "card on file",
    "Questions? Range 200-1000 mg per day.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_unchanged(redactor, text):
    assert red(redactor, text) == text


@pytest.mark.parametrize("text,pieces", [
    ("refill sent to the pharmacy on NE Martin Luther King Jr St in town", ["Martin Luther King"]),
    ("At my son's place, on Martin Luther King Jr Road.", ["Martin Luther King"]),
])
def test_long_street_name_gone(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert piece not in out, (piece, out)


@pytest.mark.parametrize("text,expected", [
    ("MRN: 20933099  Guarantor Acct: 1112-506687", "MRN: [MRN]  Guarantor Acct: [ACCOUNT]"),
    ("Mercy General\n1984 Sunset Dr, Unit 66\nEl Paso TX 79962", "Mercy General\n[ADDRESS]\n[CITY] TX [ZIP]"),
    ("St. Mary's Regional\n12825 O'Connell Drive\nCoeur d'Alene, ID 83800",
     "St. Mary's Regional\n[ADDRESS]\n[CITY], ID [ZIP]"),
    ("Employer: Walmart  SSN: XXX-XX-4197", "Employer: [EMPLOYER]  SSN: [SSN]"),
    ("GWENDOLYN SMITH\n123 MAIN ST", "[NAME]\n[ADDRESS]"),
])
def test_labels_and_facilities_next_to_phi_stay(redactor, text, expected):
    """Found on the first probe's corpus after this round: a role label before 'Acct', a
    facility above its address and the label after an employer were taken with the PHI."""
    assert red(redactor, text) == expected
