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


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn,
    "npi": npi,
    "ssn": ssn,
    "dea": dea,
    "vin": vin,
    "ipv4": ipv4,
}
