"""Structured records the fourth black-box probe found leaking: X12 837 segments (NM1 / N3 / N4 /
REF / CLM), NCPDP Telecommunication fields (CA/CB patient name, CM/CN/CP address, CY/C2 ids),
SQL INSERT rows read with their column list as cue, Last/First/MI form layouts, "1/2" house
numbers, Mexican-style "Calle ... #123, Col. ..." addresses and OCR "City / State / Zip" lines;
and the text next to them that must stay (organisations in NM1, envelopes, labels, lab lists).

All names, places and numbers are synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

# (text, pieces that must be gone)
LEAKS = [
    # X12 837: a person in NM1 (NM102 = 1): last, first, middle
    ("NM1*IL*1*QUARTERMAN*DELPHINE*R***MI*W448812903~", ["QUARTERMAN", "DELPHINE"]),
    ("NM1*QC*1*VASQUEZ-ORTA*BENIGNO~", ["VASQUEZ-ORTA", "BENIGNO"]),
    ("NM1*82*1*HOLLOWAY*TRISTAN*J***XX*1234567893~", ["HOLLOWAY", "TRISTAN"]),
    ("NM1*DN*1*Prewitt*Anneliese~\nN3*4410 Larkspur Ter*Apt 2~", ["Prewitt", "Anneliese", "4410", "Larkspur"]),
    # N3 / N4: street, city and ZIP
    ("N3*P.O. Box 5521~\nN4*Glen Haven*WI*53810~", ["5521", "Glen Haven", "53810"]),
    ("N4*Bellmont Falls*VT*051011234~", ["Bellmont Falls", "051011234"]),
    ("N3*8812 1/2 Wren Hollow*Unit 3~N4*Port Ashby*NJ*08722-1190~", ["8812", "Wren Hollow", "Port Ashby", "08722-1190"]),
    # REF with a patient identifier qualifier; CLM01 = patient control number
    ("REF*EA*MR55120934~", ["MR55120934"]),
    ("REF*1W*ZKH77120455~", ["ZKH77120455"]),
    ("CLM*PCN8812K09*150***11:B:1*Y*A*Y*Y~", ["PCN8812K09"]),
    # NCPDP D.0 fields written out (decoded claim): 310-CA first, 311-CB last, 322-CM street,
    # 323-CN city, 325-CP ZIP, 332-CY patient id, 302-C2 cardholder id, 312-CC / 313-CD cardholder
    ("AM01 Patient: CB=HALVORSEN CA=PERPETUA C4=19711022 C5=1", ["HALVORSEN", "PERPETUA"]),
    ("CM=2217 Tamsin Loop CN=Fond du Lac CO=WI CP=54935-2211 CQ=9205550142",
     ["2217", "Tamsin", "Fond du Lac", "54935-2211"]),
    ("AM04 Insurance: C2=QX5521KL0981 C1=GRP7 CC=ORLAITH CD=MBEKI", ["QX5521KL0981", "ORLAITH", "MBEKI"]),
    ("CY=7734120 CX=02", ["7734120"]),
    # NCPDP raw: field separator 0x1C, field id right before its value
    ("\x1e\x1cAM01\x1cCBZELLWEGER\x1cCAIMOGEN\x1cC419800214\x1cCP04401", ["ZELLWEGER", "IMOGEN", "04401"]),
    # SQL INSERT rows: each value read with its column name as cue
    ("INSERT INTO patients (mrn, last_name, first_name, city, zip) VALUES ('44-18-02-71', 'Ferreira-Lund', "
     "'Marisol', 'Bear Creek', '54922');", ["44-18-02-71", "Ferreira-Lund", "Marisol", "Bear Creek", "54922"]),
    ("INSERT INTO person (id, surname, given_name, postal_code) VALUES\n(1, 'Okafor', 'Chidinma', '60614'),\n"
     "(2, 'Brannigan', 'Osric', '60615');", ["Okafor", "Chidinma", "60614", "Brannigan", "Osric", "60615"]),
    ('INSERT INTO "contacts" ("full_name", "town") VALUES (\'Tobias Wren\', \'Millbrook\');', ["Tobias Wren", "Millbrook"]),
    # an apostrophe a sloppy export left unescaped does not stop the row being read
    ("INSERT INTO pt (mrn, surname, first_name, city, zip) VALUES ('31-07-44-19', 'Haddow', 'Esme', "
     "'Coeur d'Alene', '83815');", ["31-07-44-19", "Haddow", "Esme", "Alene", "83815"]),
    # Last/First/MI form layouts (with a lowercase particle)
    ("Patient Last/First/MI: van der Zwaag / Pieternel / J", ["Zwaag", "Pieternel"]),
    ("Patient Last/First/MI: Fairweather / Lucinda / K", ["Fairweather", "Lucinda"]),
    ("Name (Last , First , MI)     Oyelaran-Smith ,   Temitope ,   A", ["Oyelaran-Smith", "Temitope"]),
    ("Last, First, MI: Dunleavy, Corrigan, P", ["Dunleavy", "Corrigan"]),
    # a house number with a half ("123 1/2 Main St")
    ("Residence: 40213 1/2 Ridgeway Ave, Dorrance 67634", ["40213", "Ridgeway", "Dorrance", "67634"]),
    ("lives at 517 1/2 Beech St, Carthage", ["517", "Beech", "Carthage"]),
    # Mexican-style street: type word first, number after "#", colonia, then the town
    ("I examined her at Calle Tamarindo #412, Col. Las Palmas, Hermosillo, AZ.", ["Tamarindo", "412", "Las Palmas", "Hermosillo"]),
    ("Domicilio: Avenida Reforma 1180, Colonia Centro, Nogales", ["Reforma", "1180"]),
    # OCR "City / State / Zip" with wide gaps: the town and the ZIP go, the label stays
    ("City / State / Zip     Weyauwega  ,  WI     54983-1102", ["Weyauwega", "54983-1102"]),
]

# clinical and structural text that must come back unchanged
CLEAN = [
    # X12: organisations (NM102 = 2), envelopes and service lines
    "NM1*PR*2*ACME HEALTH PLAN*****PI*00123~",
    "NM1*85*2*RIVERSIDE CLINIC LLC~",
    "NM1*40*2*RECEIVER01*****46*RCV01~",
    "HI*ABK:E119*ABF:I10~",
    "SV1*HC:99214*150*UN*1***1~",
    "SE*14*0001~",
    # lab lists with element names that look like NCPDP field ids
    "Labs: NA=139 K=4.2 CA=9.1 CL=101 CO2=24",
    "CA=8.7 (low), recheck",
    "CA 19-9 = 35 U/mL",
    # SQL with no identifier columns / DDL
    "INSERT INTO meds (drug, dose, route) VALUES ('metformin', '500 mg', 'PO');",
    "CREATE TABLE patients (mrn TEXT, last_name TEXT, zip TEXT);",
    # form labels
    "Patient Last/First/MI:",
    "Name (Last , First , MI)",
    "| Last | First | MI |",
    "Enter Last, First, MI on line 2",
    # fractions and doses that are not house numbers
    "Take 1 1/2 tablets daily",
    "Ate 3 1/2 cups of soup",
    # Spanish text without an address
    "Calle de dolor abdominal resuelto",
    "City / State / Zip",
]


@pytest.mark.parametrize(("text", "pieces"), LEAKS)
def test_phi_gone(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), f"{piece!r} left in {out!r}"


@pytest.mark.parametrize("text", CLEAN)
def test_clean_unchanged(redactor, text):
    assert red(redactor, text) == text


@pytest.mark.parametrize(("text", "expected"), [
    # the cue stays readable
    ("NM1*IL*1*QUARTERMAN*DELPHINE~", "NM1*IL*1*"),
    ("CB=HALVORSEN CA=PERPETUA C5=1", "C5=1"),
    ("Patient Last/First/MI: Fairweather / Lucinda / K", "Patient Last/First/MI:"),
    ("Name (Last , First , MI)     Oyelaran-Smith ,   Temitope ,   A", "Name (Last , First , MI)"),
    ("City / State / Zip     Weyauwega  ,  WI     54983-1102", "City / State / Zip"),
    ("N4*Glen Haven*WI*53810~", "*WI*"),
])
def test_labels_stay(redactor, text, expected):
    assert expected in red(redactor, text)
