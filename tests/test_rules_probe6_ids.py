"""Probe 6 (ids): photo file names, job / reference ids, no-year dates after a date label, JSON biometric /
VIN keys; and clinical values that must survive: HL7 RXA lot numbers, NDC codes (N4 qualifier, bare next to a
lot), build numbers holding a date.  All names and numbers are synthetic."""

from __future__ import annotations

import pytest

from tests.conftest import gone, red

LEAKS = [
    # photo file names with digits in the stem
    ("Photo of lesion attached (wound_photo_31402518.png).", "wound_photo_31402518.png"),
    ("see IMG_4417.JPG in the chart", "IMG_4417.JPG"),
    ("uploaded photo-552081.heic today", "photo-552081.heic"),
    ("scan file DSC00921.jpeg", "DSC00921.jpeg"),
    ("image study_8812734.dcm", "study_8812734.dcm"),
    # other ids after job / ref / other id
    ("transcribed 07/02/2021 job ref 771-QP-40022", "771-QP-40022"),
    ("transcribed 3/1 job WKZR-4410-TB", "WKZR-4410-TB"),
    ("9d. OTHER ID  ref 418-MX-22871", "418-MX-22871"),
    ("Job #: 55120934", "55120934"),
    # no-year dates after a date label
    ("ADMISSION DATE: 2/19  D/C Apr. 3", "2/19"),
    ("Date of admission - 10/8  D/C Oct. 26", "10/8"),
    ("14. DATE OF CURRENT ILLNESS  8/27", "8/27"),
    ("her next appointment is 6/18 with cardiology", "6/18"),
    ('{"implantDate": "10/3", "x": 1}', "10/3"),
    ('{"implant_date": "12/11"}', "12/11"),
    ("3. PATIENT'S BIRTH DATE  04|19|41  SEX F", "04|19|41"),
    # JSON keys as cues
    ('{"biometricId": "FP-331-QWER55"}', "FP-331-QWER55"),
    ('{"biometric_id": "FP-880-ZXCV12"}', "FP-880-ZXCV12"),
    ('{"vehicleVin": "K72MZXTLRA4D8136H"}', "K72MZXTLRA4D8136H"),
    ('{"vehicle_vin": "K72MZXTLRA4D8136H"}', "K72MZXTLRA4D8136H"),
    ("VIN: P9XW2TTLRA4D8136K", "P9XW2TTLRA4D8136K"),
]


@pytest.mark.parametrize("text,piece", LEAKS)
def test_leak_gone(redactor, text, piece):
    out = red(redactor, text)
    assert gone(out, piece), out


CLEAN = [
    # HL7 RXA-15 lot number
    "RXA|0|1|||0071-0155-23^vaccine^NDC|0.5|mL||||||E82698",
    "RXA|0|1|||49281-0421-50^Fluzone^NDC|0.5|mL^mL^UCUM||00^New^NIP001||||||K44021|",
    # NDC with the N4 qualifier, bare NDC beside a lot or in a med list / CSV row
    "        J3490  NDC N400071015523",
    "- 00071015523 Lot# 352515A",
    "- 00071015523 lot number W38243",
    # build / firmware numbers holding a date
    "glucometer build 20240311.2 serial pending",
    '"firmwareVersion": "build 20240311.2"',
    # image files that are not patient photos
    "logo.png",
    "figure1.png",
    "chest_xray.png attached",
    "see Figure_2.tif",
    # look-alikes for the new id / date cues
    "job 2 days a week",
    "lost her job in 2019",
    "Ref range 3.5-5.0",
    "ref 70-99 mg/dL",
    "Next appointment is 2/2 of the series",
    "vehicle accident, no injuries",
    "vincristine 1.4 mg/m2",
    "Biometric screening normal",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_unchanged(redactor, text):
    assert red(redactor, text) == text
