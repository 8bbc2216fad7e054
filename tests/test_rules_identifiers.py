"""Default rules for SSNs (dotted, last four, masked), licence numbers and dashed MRNs.

Every case goes through ``Redactor.redact`` of the bundled default settings.  All data synthetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import red as _out


MY_LABELS = ("[SSN]", "[MRN]", "[ID]", "[LICENSE]", "[MEMBER_ID]")


def _no_id_labels(redactor, text: str) -> None:
    """Other rules (dates, phones, IPs, URLs) may act; none of the identifier labels may."""
    out = _out(redactor, text)
    assert not any(lab in out for lab in MY_LABELS), out


def _gone(redactor, text: str, *secrets: str) -> str:
    out = _out(redactor, text)
    for s in secrets:
        assert s not in out, f"{s!r} survived in {out!r}"
    return out


# --------------------------------------------------------------------------- SSN, dotted
@pytest.mark.parametrize("text, secret", [
    ("SSN: 564.65.7826", "7826"),
    ("ssn 322.60.9594 on file", "9594"),
    ("Social Security Number 054.64.6449", "6449"),
    ("SS# 123.45.6789.", "6789"),
    ("PID|1||MRN123^^^HOSP^MR||DOE^JANE||19800101|F|||||||||555979711|322.60.9594\n", "9594"),
    ("her social is 401.22.9183, verified", "9183"),
])
def test_dotted_ssn_is_redacted(redactor, text, secret):
    out = _gone(redactor, text, secret)
    assert "[SSN]" in out


@pytest.mark.parametrize("text", [
    "HL7 v2.3.1 interface; protocol version 2.5.1",
    "host 192.168.10.24 replied",
    "Na 138.0, K 4.1, Cl 101.5",
    "OID urn:oid:1.2.36.146.595.217.0.1",
    "Wound 8.6 x 2.3 x 0.8 cm",
    "dated 12.03.2024",
])
def test_dotted_clinical_values_untouched(redactor, text):
    _no_id_labels(redactor, text)


# --------------------------------------------------------------------------- SSN, last four
@pytest.mark.parametrize("text, secret", [
    ("Employer: Walmart  SSN ending in 1169", "1169"),
    ("Pt SSN: ***-**-9591 on file", "9591"),
    ("Employer: self  ***-**-0921\nzip: 48137", "0921"),
    ("last 4 of SSN 1234", "1234"),
    ("SSN xxx-xx-1234", "1234"),
    ("SSN: XXX-XX-1234", "1234"),
    ("social ending 1234", "1234"),
    ("last four of her social: 1234", "1234"),
    ("ssn last four 2593", "2593"),
    ("verified last 4 digits of SSN are 4821 today", "4821"),
    ("SSN (last 4): 7730", "7730"),
    ('"ssn_last4": "6612"', "6612"),
    ("SSN ends with 0577.", "0577"),
    ("SSN#: XXXXX3141", "3141"),
    ("SSN: ****1234 verified", "1234"),
    ("SSN on file, ending in 4410", "4410"),
    ("SS# last 4 1234", "1234"),
    ("social security ending in 3141", "3141"),
    ("last 4 of pt's SSN 2210", "2210"),
])
def test_ssn_last_four_is_redacted(redactor, text, secret):
    _gone(redactor, text, secret)


@pytest.mark.parametrize("text", [
    "Social history: last 4 weeks sober, drinks 2 beers/week",
    "SSN pending; last 4 visits were in 2024",
    "pain ending in 10/10 at 0400",
    "last 4 doses of vancomycin 1250 mg",
    "Phone: XXX-XXX-XXXX",
])
def test_last_four_lookalikes_untouched(redactor, text):
    _no_id_labels(redactor, text)


# --------------------------------------------------------------------------- licences
@pytest.mark.parametrize("text, secret", [
    ("Medical License No. 125 321 216", "321 216"),
    ("DL# MD.420411", "420411"),
    ("NY DL MD.466670\nPatient address:", "466670"),
    ("Certificate # MD.813316", "813316"),
    ("Certificate # 507 669 897", "669 897"),
    ("DEA/License: 930 891 005", "891 005"),
    ("RN license MD.521979 Order Set 4410 used", "521979"),
    ("lic no 387 719 048", "719 048"),
    ("CA DL # 467 142 686 History of Hashimoto thyroiditis.", "142 686"),
    ("Driver's License: 810 966 398\nEmployer: self", "966 398"),
    ("State license TX.0123456", "0123456"),
    ("State license TX 01234567 expires 2027", "01234567"),
    ("License: RN 0101 123456 active", "123456"),
    ("Passport: 123 456 789 (USA)", "456 789"),
])
def test_licence_numbers_are_redacted(redactor, text, secret):
    out = _gone(redactor, text, secret)
    assert "[LICENSE]" in out or "[MEMBER_ID]" in out


def test_licence_does_not_swallow_following_words(redactor):
    out = _out(redactor, "DL# 123 456 789 exp 2026, renewal due")
    assert "456 789" not in out
    assert "exp 2026, renewal due" in out
    out = _out(redactor, "RN license 635 793 742 12 days post-op")
    assert "793 742" not in out and "12 days post-op" in out
    out = _out(redactor, "License #: 12345 120/80")
    assert "12345" not in out and "120/80" in out
    out = _out(redactor, "lic no MD.994329 ABG pH 7.38/pCO2 37/pO2 86/HCO3 30.")
    assert "994329" not in out
    assert "ABG pH 7.38/pCO2 37/pO2 86/HCO3 30." in out


@pytest.mark.parametrize("text", [
    "licensed practical nurse, 12 years experience",
    "license plate 7ABC123 (CA)",
    "License: active, exp 2026",
    "Na 138 mmol/L, K 4.1 mmol/L",
])
def test_licence_lookalikes_untouched(redactor, text):
    _no_id_labels(redactor, text)


# --------------------------------------------------------------------------- dashed MRN (NN-NNN-NNN)
@pytest.mark.parametrize("text, secret", [
    ("md: ok. whats her mrn\nnurse: 77-573-425 . daughter is here", "77-573-425"),
    ('patient_name,dob,mrn,phone\n"Doe, Jane",1980-01-01,83-865-962,555-0100\n', "83-865-962"),
    ('"identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "83-865-962"}]', "83-865-962"),
    ('{"mrn": "00-147-121"}', "00-147-121"),
])
def test_dashed_mrn_is_redacted(redactor, text, secret):
    _gone(redactor, text, secret)


@pytest.mark.parametrize("text", [
    '"identifier": [{"system": "http://hospital.example.org/mrn", "value": "4471"}]',
    '{"identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": "MRN-0042"}]}',
])
def test_fhir_identifier_value_is_redacted(redactor, text):
    out = _out(redactor, text)
    assert '"value": "4471"' not in out and '"value": "MRN-0042"' not in out


@pytest.mark.parametrize("text", [
    "NDC 0002-8215-01 dispensed",
    "LOINC 4548-4 HbA1c 7.2 %",
    "CPT 99213-25",
    "seen 12-03-2024 and 2024-03-12",
    "call 617-555-0142 now",
    "goal SBP 120-130 mmHg",
    "titrate 50-100-150 mg over 3 days",
    "gabapentin 25-100-100 tid",
    "taper 40-30-20-10 mg",
    "NDC 00093-7180-56 dispensed",
    "gabapentin 300-300-600 mg TID",
    "Apgars 8-9, GCS 15, HR 72",
    "E11.9, Z87.891, J45.909",
    '"code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "HbA1c"}]}',
])
def test_dashed_clinical_codes_untouched(redactor, text):
    _no_id_labels(redactor, text)


@pytest.mark.parametrize("text", ["name Grace_AlFarsi_123-45-6789", "file ssn_123-45-6789_scan.pdf",
                                  "user_123 45 6789"])
def test_an_ssn_joined_by_underscores_is_found(redactor, text):
    """Chat `name` fields and file names join words with `_`, a word character (black-box probe)."""
    assert "6789" not in _out(redactor, text)
