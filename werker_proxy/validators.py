"""Named validators: checksums and plausibility checks that reject impossible values.

Each takes the matched text (as found, punctuation included) and returns True when the value
is plausible. Rules name them in YAML (``validate: luhn``); code exists only for these names.
"""

from __future__ import annotations

from collections.abc import Callable


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def luhn_ok(digits: str) -> bool:
    if not digits:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn(text: str) -> bool:
    """Credit-card style Luhn check over the digits of the match."""
    d = _digits(text)
    return len(d) >= 8 and luhn_ok(d)


def npi(text: str) -> bool:
    """US National Provider Identifier: 10 digits, Luhn over the '80840' prefix."""
    d = _digits(text)
    return len(d) == 10 and d[0] in "12" and luhn_ok("80840" + d)


def ssn(text: str) -> bool:
    """US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    d = _digits(text)
    if len(d) != 9:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def dea(text: str) -> bool:
    """DEA registration number: 2 letters + 7 digits with its check digit."""
    t = "".join(c for c in text if c.isalnum()).upper()
    if len(t) != 9 or not t[:2].isalpha() or not t[2:].isdigit():
        return False
    n = [int(c) for c in t[2:]]
    check = (n[0] + n[2] + n[4] + 2 * (n[1] + n[3] + n[5])) % 10
    return check == n[6]


_VIN_VALUES = {
    **{str(i): i for i in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin(text: str) -> bool:
    """Vehicle identification number: 17 chars without I, O, Q; North-American check digit."""
    t = "".join(c for c in text if c.isalnum()).upper()
    if len(t) != 17 or any(c not in _VIN_VALUES for c in t):
        return False
    total = sum(_VIN_VALUES[c] * w for c, w in zip(t, _VIN_WEIGHTS))
    check = total % 11
    return t[8] == ("X" if check == 10 else str(check))


def ipv4(text: str) -> bool:
    """Dotted quad with every octet in 0..255."""
    parts = text.strip().split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts)


# Verhoeff dihedral-group tables (SNOMED CT check digit)
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_ok(digits: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][ord(ch) - 48]]
    return c == 0


def snomed_ct_id(digits: str) -> bool:
    """A well-formed SNOMED CT concept id: 6-18 digits, no leading zero, the concept partition
    identifier (00 short format, 10 with a 7-digit namespace, so 11 digits at least) before a
    Verhoeff check digit. Description (01/11) and relationship (02/12) ids never appear as codes."""
    if not (6 <= len(digits) <= 18) or not digits.isdigit() or digits[0] == "0":
        return False
    part = digits[-3:-1]
    if part not in ("00", "10"):
        return False
    if part[0] == "1" and len(digits) < 11:
        return False
    return verhoeff_ok(digits)


def not_snomed_ct(text: str) -> bool:
    """False when the digits are a valid SNOMED CT id (a bare concept code, not a record number).
    About 1 in 1,000 random 7-10 digit numbers pass (1/100 partition x 1/10 check digit),
    2 in 1,000 of 11-18 digits."""
    return not snomed_ct_id(_digits(text))


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn,
    "npi": npi,
    "ssn": ssn,
    "dea": dea,
    "vin": vin,
    "ipv4": ipv4,
    "not_snomed_ct": not_snomed_ct,
}
