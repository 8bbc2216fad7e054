"""Places, record / plan / device / biometric identifiers, phones and e-mails the black-box probe
found leaking (locations.yaml, medical_ids.yaml, government.yaml, contact.yaml), and the clinical
or non-identifying text next to them that must stay (states, countries, trial / IRB numbers, lab
values, FHIR identifier systems).

All names, places and numbers are synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red


# (text, pieces that must be gone)
LEAKS = [
    # a town with no state after it: after a street address, or after a residence / origin cue
    ("Lives at 12 Oak St, Ridgeton. She states last tetanus unknown.", ["Ridgeton"]),
    ("Reports stress since moving to Harwick in 2019.", ["Harwick"]),
    ("widow living alone in a trailer at 12 Oak St outside Brellton.", ["Brellton"]),
    ("living alone in a trailer at 12 Oak St Lot 83 outside Brellton.", ["Brellton", "83"]),
    ("Born 1950 in Quenford, he served in the Navy.", ["Quenford"]),
    ("Born the 4th of May in Quenford, he served in the Navy.", ["Quenford"]),
    ("Directions: 12 Oak St, Marlow Falls - gravel drive past the barn", ["Marlow", "Falls"]),
    ("we live at 12 Oak St in Dunmore. her medicare number is on file", ["Dunmore"]),
    ("Appointment at our clinic at 400 Elm Ave, Westbury.", ["Westbury"]),
    ("from kelbrook originally", ["kelbrook"]),
    ("hometown: Tarrow", ["Tarrow"]),
    ("Hometown - Tarrow Springs", ["Tarrow", "Springs"]),
    ("Home address: 12 Oak St, Rapid Falls, SD 57701", ["Rapid", "Falls", "57701"]),
    ("Address: 12 Oak St\n         Grand Marsh, NM 87001", ["Grand", "Marsh"]),
    # a ZIP code with no state before it
    ("We will mail your records to 12 Oak St, 72126.", ["72126"]),
    ("We will mail your records to 12 Oak St, 62783-1953.", ["62783", "1953"]),
    ("also my new adress is 10642 birchwood pl Kelso Bay 51537", ["10642", "birchwood", "Kelso", "51537"]),
    ("Mailing address: Tarrowville 12601", ["Tarrowville", "12601"]),
    # a lowercase street with no place cue
    ("Cancer Center | 15684 harborview drive, Brellton, VA 22001", ["15684", "harborview", "Brellton"]),
    ("confirmed address on file 21096 peachtree ln, Brellton, AZ 85001.", ["21096", "peachtree"]),
    ('"address": [{"line": ["19516 harborview drive"], "city": "Brellton"}]', ["19516", "harborview", "Brellton"]),
    ("the pharmacy on 2096 prairie view dr says", ["2096", "prairie"]),
    ("JANE DOE\n16379 wexford cir\nBRELLTON OH 43001", ["16379", "wexford"]),
    # rural grid addresses, trailer lots, a street with no street type after its cue, Spanish names
    ("Address: N1234 County Hwy K, Brellton", ["N1234"]),
    ("Address: W5566 Hwy 21", ["W5566"]),
    ("Address: 4821 Oakwood", ["4821", "Oakwood"]),
    ("lives at 1400 Camino del Sol", ["1400", "Camino"]),
    ("Lives in Lot 44, Shady Acres Mobile Home Park", ["44", "Shady"]),
    ("Home address: 12 Oak St Lot 3, Brellton, KY 40001", ["3"]),
    # counties
    ("gravel drive past the red barn, Muskogee Co.. Gate code 4471", ["Muskogee"]),
    ("Resides in Pima Co., AZ", ["Pima"]),
    ("Co: Pima", ["Pima"]),
    # HL7 record, account and visit numbers
    ("PID|1||305548^^^HOSP^MR||DOE^JANE||19800101|F", ["305548"]),
    ("PID|1||617-056-707^^^HOSP^MR||DOE^JANE||19800101|F", ["617-056-707"]),
    ("PID|1||305548^^^HOSP^MR||DOE^JANE||19800101|F|||1 Main St^^Town^VT^05001||555-0166|||S||619456|123-45-6789",
     ["619456"]),
    ("PID|1||305548^^^HOSP^MR||DOE^JANE||19800101|F||||||||S||9385-2281-33|123-45-6789\rPV1|1|I",
     ["9385-2281-33"]),
    ("PV1|1|I|4W^412^B||||1234567893^SMITH^JOHN|||MED||||||||205F17833|||||||||||||||||||||||||20240101",
     ["205F17833"]),
    ("Hosp # 8812", ["8812"]),
    # plan and account numbers
    ("my insurance id is 68599101B and group 12345", ["68599101B"]),
    ("my insurance id is 2456309-03 and", ["2456309-03"]),
    ("Bank acct ending in 5923 - pt reports exploitation", ["5923"]),
    ("account ending in 4410", ["4410"]),
    # other record numbers
    ("SURGICAL PATHOLOGY REPORT    Case: S21-79877", ["S21-79877"]),
    ("Ex-wife has a protective order (case 25-00528).", ["25-00528"]),
    ("Previous auth #: PA-3733-944460", ["PA-3733-944460"]),
    ("prior auth PA-2024-118823", ["PA-2024-118823"]),
    ("INFO claim.submit acct=1234 claim=24470E370650 member=X", ["24470E370650"]),
    ("INFO claim.submit claim=4640308-32806 member=X", ["4640308-32806"]),
    ("NURSING FLOWSHEET  Rm 418  Bed B  Enc# 678E88333", ["678E88333"]),
    # devices
    ("UDI: (01)00349263776383(17)260226(21)4MH5NNKR", ["4MH5NNKR", "260226"]),
    ("implant UDI (01)00643169007222(17)250131(11)240115(21)X123456", ["X123456", "250131", "240115"]),
    ("INFO device.sync serial=X patient=Y mac=1B:62:D3:02:36:21", ["1B:62:D3:02:36:21"]),
    ("MAC 1b-62-d3-02-36-21 seen", ["1b-62-d3-02-36-21"]),
    # biometrics
    ("forensic DNA STR profile D8S477-466129.", ["D8S477-466129"]),
    ("palm-vein template hash cf889b17079cbae2.", ["cf889b17079cbae2"]),
    ("facial geometry template FT-TWJJ9GRALT.", ["FT-TWJJ9GRALT"]),
    ("retina scan template RS-88123-Z", ["RS-88123-Z"]),
    ("voiceprint ID VP7731QX enrolled", ["VP7731QX"]),
    # photo file names
    ("a full-face photograph (doej_headshot_2024.jpeg) to be stored", ["doej_headshot_2024.jpeg"]),
    ("full-face photo: jane_doe_face.jpg", ["jane_doe_face.jpg"]),
    ("attached image smithk_portrait.png", ["smithk_portrait.png"]),
    # phones
    ("Caregiver: Ann Roe (grandson) 279-7396.", ["279-7396"]),
    ("parole officer Tariq Nasser 281-7446.", ["281-7446"]),
    ("tel: 617/555/0142", ["617/555/0142"]),
    ("ph 0044 20 7946 0958", ["7946"]),
    # SSN with mixed separators
    ("my ssn is 294-38 3885", ["3885"]),
    ("SSN 294 38-3885", ["3885"]),
    # lowercase street ending in loop, HL7 town with its state ending the field
    ("also my new adress is 2105 bellflower loop Brellton 21674", ["2105", "bellflower", "Brellton", "21674"]),
    ("NK1|1|DOE^JOHN|SPO|12 Elm St^^Brellton^MD|555-0166", ["Brellton"]),
    # delimited rows: record key before a person, plan numbers with a suffix
    ("BILLING EXPORT\n881232|DOE, JANE|2024-01-01|99214|I10|$286.00|32595392D|x", ["881232", "32595392D"]),
    ("7184-9360-84|DOE, JANE|2024-01-01|99214|E78.5|$143.00|9674273-03|x", ["7184-9360-84", "9674273-03"]),
    # provider numbers, user names, social handles
    ("Ordering physician: Dr. X  PTAN LX0168", ["LX0168"]),
    ("chart.access patient_id=1 by user tkettle30", ["tkettle30"]),
    ("@jdoe_88 on instagram", ["jdoe_88"]),
    # obfuscated e-mails
    ("email is kofi dot mensah at gmail dot com", ["mensah", "gmail"]),
    ("kmensah(at)yahoo(dot)com", ["kmensah"]),
    ("write to jdoe [at] example [dot] org", ["jdoe"]),
]


@pytest.mark.parametrize("text,pieces", LEAKS)
def test_phi_gone(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


# text that must come back unchanged
CLEAN = [
    # states and countries are not identifiers
    "Lives in Texas. Moved from California.",
    "Traveled to Mexico; no travel to West Africa.",
    "Moved from New York last year.",
    "Born in Canada, raised in Ohio.",
    "Recently traveled to Guatemala, no sick contacts.",
    "Lives in Vermont with her son.",
    # lab values, research registry numbers
    "Viral load 1250000 copies/mL.",
    "HIV viral load 45000 copies/ml, CD4 350 cells/uL",
    "Study NCT04280705 enrollment.",
    "Enrolled in NCT04280705 per protocol.",
    "IRB-2021-0456 approved the protocol.",
    "Protocol approved by IRB #2021-0456.",
    # FHIR identifier systems
    '{"identifier": [{"system": "http://hospital.example.org/mrn"}]}',
    # clinical text near the new cues
    "Born at 34 weeks in the NICU.",
    "Moved to ICU overnight.",
    "Moving to rehab next week.",
    "Hometown: unknown",
    "Case: 45 yo with chest pain",
    "Case discussed at tumor board.",
    "Lot 4 of the vaccine was used",
    "Lives at home in a trailer outside town.",
    "from home originally, then SNF",
    "fingerprint sensor used for login",
    "retina exam normal, no hemorrhage",
    "DNA profile pending",
    "Face template not enrolled",
    "Photo ID checked at registration.",
    "Co: none",
    "Co-signed by attending.",
    "gravel drive past the red barn, gate code on file.",
    "dot the i, cross the t",
    "Take 1 tab at bedtime.",
    "Platelets 250 (150-400), WBC 7.2",
    "Ratio 2/3/4 noted",
    "SSN pending; 12 doses 24 38 hours",
    "Insurance id pending",
    "Account ending in balance due",
    "DNR/DNI. Code status discussed.",
    "Rapid Response called at 14:00",
    "Rapid Response, MD notified.",
    "Pt has 100 small bowel loop adhesions.",
    "Noted 250 enlarged ln in the axilla.",
    "In 2019 her sex drive decreased.",
    "Walked 200 feet in the hall way with PT.",
    "Smith Co. Hospital billing office.",
    "Prior auth approved for 30 days.",
    "Case 1: 45 yo man with chest pain.",
    "Login failed; user account locked.",
    "FB removed from left eye.",
    "IVIG 400 mg/kg daily.",
    "heparin 1000000U? no: heparin 5000 units",
    "Look at the dot on the film.",
    "The study (NCT01234567) enrolled 300 patients.",
    "Grand rounds next week",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_unchanged(redactor, text):
    assert red(redactor, text) == text


@pytest.mark.parametrize("control_id", ["4827361093", "1245158039", "0296957358"])
def test_hl7_msh_control_id_kept(redactor, control_id):
    """MSH-10 (message control id) numbers a message, not a person (1245158039 passes the NPI check)."""
    msh = f"MSH|^~\\&|EPIC|HOSP|LAB|HOSP|20240101120000||ADT^A01|{control_id}|P|2.5"
    assert f"|{control_id}|P|" in red(redactor, msh)
