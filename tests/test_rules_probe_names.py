"""Person names the black-box probe found leaking (tables, form labels, role words, relatives) and
the clinical text it found redacted as a name.  All names are synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

# (text, pieces that must be gone)
LEAKS = [
    # table cells: the header names the column
    ("| Patient | Age | Dx |\n|---|---|---|\n| Henrietta Vasquez | 61 | COPD |\n| Oduya, Femi | 70 | CHF |",
     ["Henrietta", "Vasquez", "Oduya", "Femi"]),
    ("patient_name\tdob\tvisit_date\tprovider\nAna Lima\t1950-01-02\t2023-01-05\tQuentin Harrow\n"
     "Bo Chen\t1960-03-04\t2023-02-06\tR. Pellegrini\n", ["Quentin", "Harrow", "Pellegrini"]),
    ("mrn,visit_date,provider,dx\n123456,2023-01-05,Oksana Brightwater,I10\n", ["Oksana", "Brightwater"]),
    ("Date/Time | Temp | HR | BP | Initials/RN\n1/9/20 15:00 | 97.0 | 105 | 133/77 | Wairimu\n"
     "1/9/20 19:00 | 97.2 | 98 | 128/70 | Di Stefano\n", ["Wairimu", "Di Stefano"]),
    # pipe-delimited rows without a header
    ("BILLING EXPORT\n5521|PRZYBYLSKI, HONORATA|03/14/2024|99213|I10|$120.00\n"
     "5522|Quarshie, Ebo|04/02/2024|93000|E78.5|$80.00\n", ["PRZYBYLSKI", "HONORATA", "Quarshie", "Ebo"]),
    # FHIR practitioner display
    ('"generalPractitioner": [{"display": "Casimir Oyelowo"}],', ["Casimir", "Oyelowo"]),
    ('"performer": [{"reference": "Practitioner/12", "display": "Ines Valderrama"}]', ["Ines", "Valderrama"]),
    # form labels
    ("Employee: TRZASKA, WIESLAW   SSN: on file", ["TRZASKA", "WIESLAW"]),
    ("Beneficiary: OKONJO, ADANNA    MBI: on file", ["OKONJO", "ADANNA"]),
    ("Employer: Acme   Supervisor: Rosalind Achterberg\nDate of injury: today", ["Rosalind", "Achterberg"]),
    ("Adjuster: Percival Nwosu  555-0101", ["Percival", "Nwosu"]),
    ("Agent: Thaddeus Quimby\nCaller states she is calling", ["Thaddeus", "Quimby"]),
    ("Medic: Imelda Szabo, NRP #123456", ["Imelda", "Szabo"]),
    ("Legally authorized representative: Wilhelmina Oduro (relationship: daughter)", ["Wilhelmina", "Oduro"]),
    ("Person obtaining consent: Bartosz Kiplagat, CRC", ["Bartosz", "Kiplagat"]),
    ("Triage RN: Pilar, RN   Assigned MD: Leopold Ferreira-Nunes", ["Leopold", "Ferreira-Nunes"]),
    ("NURSING FLOWSHEET - OKOROAFOR, TEMPERANCE  Rm 427  Bed B", ["OKOROAFOR", "TEMPERANCE"]),
    ("Ins: Delta Dental subscriber ID 123, subscriber Marisol Quarry (spouse).", ["Marisol", "Quarry"]),
    # role words in running text
    ("Rep Cornelius Abernathy (Medtronic) present.", ["Cornelius", "Abernathy"]),
    ("parole officer Winifred Osei [ID].", ["Winifred", "Osei"]),
    ("presents for exam and prophy w/ Anneliese RDH.", ["Anneliese"]),
    ("Discussed w/ ID (Ottoline Fairweather).", ["Ottoline", "Fairweather"]),
    ("Follow up with Bronislava Achebe in 1 week.", ["Bronislava", "Achebe"]),
    ("Pt identified by ID bracelet as PERPETUA OKWU, 95 y.o. female.", ["PERPETUA", "OKWU"]),
    ("Critical result called to Evander Holmgren at 14:32", ["Evander", "Holmgren"]),
    # relatives
    ("Family notified: wife of 61 years, Marguerite Ellery, and children Ignatius Pole and Hester.",
     ["Marguerite", "Ellery", "Ignatius", "Pole", "Hester"]),
    ("and the emergency contact Oona Valdivia (555-0101).", ["Oona", "Valdivia"]),
    ("EXPLANATION OF BENEFITS - THIS IS NOT A BILL\nPERPETUA OKWU\n42 N ELM ST APT 3\nTOWN FL 00000", ["PERPETUA", "OKWU"]),
    # lowercase chat
    ("also can my husband tobias lindqvist come in with me", ["tobias", "lindqvist"]),
    ("my daughter wilhelmina said i shud ask", ["wilhelmina"]),
    ("dr okonjo said it was sent", ["okonjo"]),
    ("hi dr van Houten, this is me", ["Houten"]),
    ("NK1|1|DOE^JOHN|SPO|12 Oak Dr^^Joplin^MO|(555) 555-0100", ["JOHN"]),
    ("hey its tobias lindqvist. i need a work note", ["tobias", "lindqvist"]),
    ("Caller states her name is oona valdivia and she is calling", ["oona", "valdivia"]),
    ("Caller also spelled name: L I N D Q V I S T.", ["L I N D Q V I S T"]),
    # a name before an age or a date of birth
    ("To whom it may concern,\n\nRosalind Achterberg (date of birth 01/02/1950) has been under my care",
     ["Rosalind", "Achterberg"]),
    ("Called to bedside at 03:12. Cosmo Fairweather, a ninety-nine-year-old resident of Town, was", ["Cosmo", "Fairweather"]),
]

# clinical text that must come back unchanged
CLEAN = [
    "Caller states she is feeling better.",
    "Client states mood is improved.",
    "Agent states the claim was processed.",
    "Assigned MD: Hospitalist",
    "EXPLANATION OF BENEFITS - THIS IS NOT A BILL",
    "This is Important: hold anticoagulation.",
    "Per Surviving Sepsis Campaign, give 30 mL/kg.",
    "Per Ottawa ankle rules, no x-ray needed.",
    "Per Berlin definition, moderate ARDS.",
    "Per Mayo Clinic protocol.",
    "Per Johns Hopkins Hospital guideline.",
    "Per Cleveland Clinic recommendations.",
    "Per Duke Activity Status Index, 5 METs.",
    "Discussed with Behavioral Health Unit.",
    "Discussed with Cardiothoracic Surgery.",
    "Discussed with Interventional Radiology.",
    "Discussed with Labor and Delivery.",
    "Discussed with Dialysis Unit.",
    "Discussed with Anticoagulation Clinic.",
    "discussed with Cath Lab.",
    "discussed with Endoscopy Suite.",
    "discussed with Infusion Center.",
    "Reviewed by Tumor Board.",
    "Sister Mary Joseph nodule palpated at umbilicus.",
    "| Patient | Age | Dx |\n|---|---|---|",
    "Time | Temp | HR | BP\n15:00 | 97.0 | 105 | 133/77",
    "OBX|1|NM|718-7^Hemoglobin^LN||9.8|g/dL|N|||F",
    "Provider: Riverside Family Medicine   Account #: on file",
    "Patient: Tolerating diet, ambulating.",
    "Agent: Heparin drip",
    "I'm Feeling Better today.",
    "my daughter said it was fine",
    "dr appt is tomorrow",
    "Metoprolol Tartrate\n25 mg daily",
    "PEDIATRIC WELL CHILD VISIT - 18 months",
    "EMS PATIENT CARE REPORT",
    "[9:49 PM] Patient: C. also can we move the appt",
    "hi team this is getting worse",
    "Labs were reviewed; Dr. review is pending, and Nursing will call.",
    "Discussed with pharmacy (Vancomycin Dosing).",
    "Culture identified as Staph Aureus.",
    "Reviewed by Quality Assurance.",
    "Agent: Alteplase\nDose: 0.9 mg/kg",
]


@pytest.mark.parametrize("text,pieces", LEAKS)
def test_probe_names_gone(redactor, text, pieces):
    out = red(redactor, text)
    for piece in pieces:
        assert gone(out, piece), (piece, out)


@pytest.mark.parametrize("text", CLEAN)
def test_probe_names_clean(redactor, text):
    assert red(redactor, text) == text
