"""Seeded synthetic clinical document generator + recall scorer (test-only helper).

All people, numbers and places are invented.  ``generate(seed, n_docs)`` returns ``Doc`` objects
with exact spans of every PHI identifier (``Ident``) and every clinical value that must survive
(``Clinical``).  ``score(docs, redacted_texts)`` applies the judging rule:

* numbers (SSN, phone, MRN, ...): leaked if the identifier's letters+digits can still be read
  in order, ignoring punctuation and spaces;
* names / addresses / cities: leaked if any token of >= 2 characters survives whole;
* dates: leaked if the month or the day survives (a year alone may stay);
* ages > 89: leaked if the number survives;
* clinical values: destroyed unless they survive verbatim.

Scoring aligns the redacted text with the original (replacement tokens look like ``[LABEL]``),
so it checks exactly the characters of each span; if the alignment fails it falls back to a
global "readable anywhere in the output" check.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- data model


@dataclass(slots=True)
class Ident:
    kind: str
    value: str
    start: int
    end: int
    parts: tuple = ()  # relative (s, e) spans that must be gone (dates: month, day)


@dataclass(slots=True)
class Clinical:
    kind: str
    value: str
    start: int
    end: int


@dataclass(slots=True)
class Doc:
    text: str
    kind: str
    identifiers: list = field(default_factory=list)
    clinical: list = field(default_factory=list)


NUMBER_KINDS = {"SSN", "PHONE", "FAX", "EMAIL", "MRN", "MEMBER_ID", "ACCOUNT", "LICENSE", "DEA",
                "NPI", "VIN", "PLATE", "DEVICE", "URL", "IP", "ZIP"}
WORD_KINDS = {"NAME", "ADDRESS", "CITY"}
ALL_KINDS = sorted(NUMBER_KINDS | WORD_KINDS | {"DATE", "AGE"})

# --------------------------------------------------------------------------- vocabularies

FIRST = ("James Maria Priya Chinedu Wei Aisha Mohammed Olga Hiroshi Fatima Santiago Ngozi Dmitri "
         "Mei Rahul Sofia Kwame Ingrid Thanh Yusuf Emily Robert Linda José Ana Carlos Siobhan "
         "Anjali Tariq Leilani Bjorn Camille Zoe Xavier Ebony DeShawn Keisha Jamal Harpreet "
         "Oluwaseun Nikolai Svetlana Ahmed Layla Mateo Valentina Kenji Yuki Min-jun Ji-woo Deepa "
         "Tomasz Agnieszka Lars Astrid Aoife Seán Brigid Isabella Liam Noah Olivia Ethan Harper "
         "Elijah Gabriela Rosalind Bartholomew Juniper Thaddeus Marisol Evangeline Obinna Anouk "
         "Dolores Ifeoma Rafael Chiara Giovanni Malak Reza Soraya Bogdan Zainab Esperanza Kofi "
         "Marguerite Lachlan Saoirse Henrik Freya Amara Cyrus Delphine Ignatius Rosa Grace Mark "
         "Joy Cruz Nnamdi Parisa Yaw Hana Dev Ola Quentin Wilhelmina Florence Jude").split()
LAST = ("Smith Johnson Okafor Natarajan Al-Farsi O'Brien McAllister Nguyen Kowalski García Müller "
        "Chen Patel Kim Rodriguez Haddad Ivanova Tanaka Mensah Adeyemi Fitzgerald MacDonald "
        "D'Angelo Papadopoulos Schmidt Johansson Morales Hernández Washington Delacroix Osei "
        "Boateng Yamamoto Singh Gupta Kaur Cohen Levi Rossi Bianchi Dubois Lefebvre Jovanović Nowak "
        "Horvath Thompson Whitfield Ramirez-Lopez Abernathy Quisenberry Oyelaran Vasquez Lindqvist "
        "Achterberg Baptiste Castellanos Dimitriou Eze Fairweather Gallagher Holloway Ibarra "
        "Jablonski Kariuki Lowenstein Mwangi Nakamura Obuya Pemberton Quintero Rasmussen "
        "Szymanski Trujillo Umeh Valdivia Wojcik Xiong Yilmaz Zamora Brightwater Kettleborough "
        "Farouk Abdi Chukwu Sorensen Moreau Ferreira Okonkwo Hashemi Petrov Mahlangu").split()
PARTICLE_LAST = ["de la Cruz", "van der Berg", "da Silva", "del Rosario", "von Essen", "Le Roux",
                 "bin Salleh", "Van Buren", "St. Pierre", "ten Brink", "de Vries",
                 "dos Santos", "El-Amin", "al-Rashid"]
CRED = ["MD", "DO", "NP", "PA-C", "RN", "FNP-BC", "PharmD", "MD, PhD", "DNP, APRN", "MD, FACC",
        "LCSW", "DPM"]
STREETS = ("Main Maple Oak Cedar Pine Elm Washington Lakeview Hillcrest Sunset Park Willow "
           "Chestnut Birch Magnolia Juniper Harbor Ridge Meadow Orchard Spring Mill Church "
           "Highland Prospect Jefferson Lincoln Franklin Beacon Cranberry Foxglove Tamarack "
           "Kingfisher Quarry Saddlebrook Wexford Brookhaven Marigold Pelham").split()
SUFFIX = ["Street", "St", "St.", "Avenue", "Ave", "Ave.", "Road", "Rd", "Boulevard", "Blvd",
          "Lane", "Ln", "Drive", "Dr", "Court", "Ct", "Place", "Pl", "Way", "Terrace", "Circle",
          "Parkway", "Pkwy", "Highway", "Hwy", "Trail", "Square"]
UNIT = ["Apt {n}", "Apt. {n}", "Unit {n}", "Suite {n}", "Ste {n}", "#{n}", "Apartment {n}",
        "Fl {n}", "Bldg {n}"]
CITIES = [("Boston", "MA", "Massachusetts", "021"), ("Springfield", "IL", "Illinois", "627"),
          ("Dorchester", "MA", "Massachusetts", "021"), ("Portland", "OR", "Oregon", "972"),
          ("San Antonio", "TX", "Texas", "782"), ("Ann Arbor", "MI", "Michigan", "481"),
          ("Fort Collins", "CO", "Colorado", "805"), ("Baton Rouge", "LA", "Louisiana", "708"),
          ("Cedar Rapids", "IA", "Iowa", "524"), ("Kalamazoo", "MI", "Michigan", "490"),
          ("Poughkeepsie", "NY", "New York", "126"), ("Tallahassee", "FL", "Florida", "323"),
          ("Albuquerque", "NM", "New Mexico", "871"), ("Chattanooga", "TN", "Tennessee", "374"),
          ("Winston-Salem", "NC", "North Carolina", "271"), ("Coeur d'Alene", "ID", "Idaho", "838"),
          ("St. Paul", "MN", "Minnesota", "551"), ("Bangor", "ME", "Maine", "044"),
          ("Tulsa", "OK", "Oklahoma", "741"), ("Salt Lake City", "UT", "Utah", "841"),
          ("Wilkes-Barre", "PA", "Pennsylvania", "187"), ("Scranton", "PA", "Pennsylvania", "185"),
          ("Fresno", "CA", "California", "937"), ("Oakland", "CA", "California", "946"),
          ("Bellevue", "WA", "Washington", "980"), ("Providence", "RI", "Rhode Island", "029"),
          ("New Haven", "CT", "Connecticut", "065"), ("Duluth", "MN", "Minnesota", "558"),
          ("Lafayette", "IN", "Indiana", "479"), ("Mobile", "AL", "Alabama", "366"),
          ("Anchorage", "AK", "Alaska", "995"), ("Honolulu", "HI", "Hawaii", "968")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
MON3 = [m[:3] for m in MONTHS]
MON_ALT = {8: "Sept"}
DRUGS = [("metformin", ["500 mg", "850 mg", "1000 mg"]), ("lisinopril", ["10 mg", "20 mg", "2.5 mg"]),
         ("atorvastatin", ["40 mg", "80 mg"]), ("insulin glargine", ["20 units", "14 units"]),
         ("albuterol", ["90 mcg/actuation", "2.5 mg/3 mL"]), ("amoxicillin", ["875 mg", "500 mg"]),
         ("apixaban", ["5 mg", "2.5 mg"]), ("levothyroxine", ["75 mcg", "112 mcg"]),
         ("sertraline", ["50 mg", "100 mg"]), ("furosemide", ["40 mg", "20 mg IV"]),
         ("metoprolol succinate", ["25 mg", "50 mg"]), ("gabapentin", ["300 mg", "600 mg"]),
         ("prednisone", ["40 mg", "5 mg"]), ("ondansetron", ["4 mg", "8 mg ODT"]),
         ("heparin", ["5000 units", "5,000 units SC"]), ("warfarin", ["5 mg", "2.5 mg"]),
         ("empagliflozin", ["10 mg"]), ("semaglutide", ["0.25 mg", "1 mg"]),
         ("acetaminophen", ["650 mg", "1 g"]), ("vancomycin", ["1.25 g", "15 mg/kg"]),
         ("tamsulosin", ["0.4 mg"]), ("hydrochlorothiazide", ["12.5 mg", "25 mg"])]
BRANDS = ["Eliquis", "Lasix", "Jardiance", "Ozempic", "Lipitor", "Synthroid", "Zoloft", "Norvasc", "Xarelto",
          "Keppra", "Toprol XL", "Humalog", "Lantus", "Entresto", "Plavix", "Coumadin", "Tylenol", "Zofran"]
SIG = ["daily", "BID", "TID", "q6h PRN pain", "qHS", "PO once daily", "every 8 hours", "twice a day",
       "q4h PRN wheeze", "weekly", "nightly", "with meals", "x 10 days", "IV q12h"]
ICD = ["E11.9", "I10", "J45.909", "N18.3", "Z79.4", "M54.5", "F41.1", "K21.9", "E78.5", "I25.10",
       "C50.911", "S72.001A", "O24.419", "R07.9", "G43.909", "Z00.00", "E66.01", "I48.91",
       "J44.1", "N39.0", "E03.9", "F32.A", "M17.11", "Z23", "R51.9", "U07.1", "T78.40XA"]
DX = ["type 2 diabetes mellitus", "essential hypertension", "asthma", "CKD stage 3", "low back pain",
      "generalized anxiety disorder", "GERD", "hyperlipidemia", "atrial fibrillation", "COPD exacerbation",
      "urinary tract infection", "hypothyroidism", "migraine", "osteoarthritis of knee"]
CPT = ["99213", "99214", "93000", "80053", "36415", "71046", "99285", "85025", "83036", "90471",
       "97110", "G0439", "99203", "93306", "45378", "20610", "96372"]
LOINC = ["4548-4", "2345-7", "2160-0", "718-7", "6690-2", "2093-3", "33914-3", "8480-6", "8462-4",
         "14959-1", "2951-2", "2823-3", "1742-6", "17856-6", "62238-1"]
LABS = [("HbA1c", "{:.1f} %", 5.2, 11.5), ("K", "{:.1f} mmol/L", 3.1, 5.6), ("Na", "{:.0f} mmol/L", 128, 146),
        ("Cr", "{:.2f} mg/dL", 0.6, 2.8), ("WBC", "{:.1f} x10^9/L", 3.2, 18.0), ("Hgb", "{:.1f} g/dL", 8.1, 16.5),
        ("LDL", "{:.0f} mg/dL", 60, 190), ("TSH", "{:.2f} mIU/L", 0.3, 8.0), ("INR", "{:.1f}", 0.9, 3.8),
        ("glucose", "{:.0f} mg/dL", 70, 320), ("eGFR", "{:.0f} mL/min/1.73m2", 18, 110),
        ("troponin I", "{:.2f} ng/mL", 0.01, 0.9), ("BNP", "{:.0f} pg/mL", 20, 1400),
        ("ALT", "{:.0f} U/L", 12, 140), ("Mg", "{:.1f} mg/dL", 1.4, 2.6), ("CRP", "{:.1f} mg/L", 0.2, 80)]
VERSIONS = ["v2.3.1", "v10.0.4", "version 3.2.18", "v1.4", "build 4.0.1", "v5.12.0-rc1", "v2024.1"]
DURS = ["3 weeks", "10 days", "6 months", "2 years", "5 days", "48 hours", "4 weeks", "1 year", "3 days",
        "2 weeks", "8 months"]
EXAM = ["2/6 systolic murmur", "5/5 strength", "pain 7/10", "1/2 tablet", "3+ pitting edema", "20/40 vision"]
EMAIL_DOM = ["example-health.org", "mail.example.com", "patientmail.example.net", "clinic.example.org",
             "yahoo.example.com", "example.edu"]
HOSP = ["Mercy General Hospital", "St. Brigid Medical Center", "Lakeshore Clinic",
        "Riverbend Family Practice", "Northgate Cardiology Associates"]

# --------------------------------------------------------------------------- check digits

VIN_MAP = {**{str(i): i for i in range(10)},
           **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
           **dict(zip("STUVWXYZ", range(2, 10)))}
VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_CH = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_npi(r):
    base = str(r.choice("12")) + "".join(r.choice("0123456789") for _ in range(8))
    return base + luhn_digit("80840" + base)


def make_dea(r, last):
    letters = r.choice("ABFGMPRX") + (last[0].upper() if last[0].isalpha() else "X")
    d = [r.randrange(10) for _ in range(6)]
    chk = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return letters + "".join(map(str, d)) + str(chk)


def make_vin(r):
    while True:
        v = [r.choice(VIN_CH) for _ in range(17)]
        total = sum(VIN_MAP[c] * w for c, w in zip(v, VIN_W))
        c = total % 11
        v[8] = "X" if c == 10 else str(c)
        return "".join(v)


def digits(r, n):
    return "".join(r.choice("0123456789") for _ in range(n))


def alnum(r, n, alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"):
    return "".join(r.choice(alphabet) for _ in range(n))


# --------------------------------------------------------------------------- builder


class B:
    __slots__ = ("parts", "n", "ids", "cl")

    def __init__(self):
        self.parts, self.n, self.ids, self.cl = [], 0, [], []

    def t(self, s):
        self.parts.append(s)
        self.n += len(s)

    def i(self, kind, v, parts=()):
        s = self.n
        self.t(v)
        self.ids.append(Ident(kind, v, s, self.n, parts))

    def c(self, kind, v):
        s = self.n
        self.t(v)
        self.cl.append(Clinical(kind, v, s, self.n))

    def text(self):
        return "".join(self.parts)


# --------------------------------------------------------------------------- formatters


def fmt_date(r, y, m, d, style=None):
    """Return (surface, parts) where parts are relative spans of month and day."""
    segs = []  # (text, role)
    st = style if style is not None else r.randrange(19)
    mn, m3 = MONTHS[m - 1], MON_ALT.get(m, MON3[m - 1]) if r.random() < 0.3 else MON3[m - 1]
    sfx = "th" if 11 <= d <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    if st == 0:
        segs = [(f"{m:02d}", "m"), ("/", ""), (f"{d:02d}", "d"), (f"/{y}", "")]
    elif st == 1:
        segs = [(str(m), "m"), ("/", ""), (str(d), "d"), (f"/{y % 100:02d}", "")]
    elif st == 2:
        segs = [(str(m), "m"), ("/", ""), (str(d), "d"), (f"/{y}", "")]
    elif st == 3:
        segs = [(f"{y}-", ""), (f"{m:02d}", "m"), ("-", ""), (f"{d:02d}", "d")]
    elif st == 4:
        segs = [(f"{d:02d}", "d"), ("-", ""), (m3 if r.random() < .5 else m3.upper(), "m"), (f"-{y}", "")]
    elif st == 5:
        segs = [(mn, "m"), (" ", ""), (str(d), "d"), (f", {y}", "")]
    elif st == 6:
        segs = [(m3 + r.choice(["", "."]), "m"), (" ", ""), (f"{d}{sfx}", "d"), (r.choice([" ", ", "]) + str(y), "")]
    elif st == 7:
        segs = [(str(d), "d"), (" ", ""), (mn, "m"), (f" {y}", "")]
    elif st == 8:
        segs = [("the ", ""), (f"{d}{sfx}", "d"), (" of ", ""), (mn, "m")]
        if r.random() < 0.5:
            segs.append((f", {y}", ""))
    elif st == 9:
        segs = [(f"{y}", ""), (f"{m:02d}", "m"), (f"{d:02d}", "d")]
    elif st == 10:
        segs = [(f"{m:02d}", "m"), ("-", ""), (f"{d:02d}", "d"), (f"-{y}", "")]
    elif st == 11:
        segs = [(m3 + ".", "m"), (" ", ""), (str(d), "d")]
    elif st == 12:
        segs = [(mn, "m"), (" ", ""), (f"{d}{sfx}", "d")]
    elif st == 13:
        segs = [(f"{d:02d}", "d"), (".", ""), (f"{m:02d}", "m"), (f".{y}", "")]
    elif st == 14:
        segs = [(f"{y}/", ""), (f"{m:02d}", "m"), ("/", ""), (f"{d:02d}", "d")]
    elif st == 15:
        segs = [(f"{d}", "d"), (r.choice([" ", "-"]), ""), (m3.upper() if r.random() < .5 else m3, "m"),
                (r.choice([" ", "-"]) + str(y), "")]
    elif st == 16:
        segs = [(mn.upper() if r.random() < .3 else mn, "m"), (" ", ""), (str(d), "d"), (f" {y}", "")]
    elif st == 17:  # month + year only: the month must go
        segs = [(r.choice([mn, m3, m3 + "."]), "m"), (f" {y}", "")]
    else:
        segs = [(f"{m:02d}" if r.random() < .5 else str(m), "m"), (f"/{y}", "")]
    out, parts, n = [], [], 0
    for s, role in segs:
        if role:
            parts.append((n, n + len(s)))
        out.append(s)
        n += len(s)
    return "".join(out), tuple(parts)


def fmt_phone(r, p, style=None):
    a, b, c = p[:3], p[3:6], p[6:]
    st = style if style is not None else r.randrange(9)
    return [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"{a}{b}{c}",
            f"({a}){b}-{c}", f"1-{a}-{b}-{c}", f"+1-{a}-{b}-{c}", f"{a} {b} {c}"][st]


DASHES = ["-", "-", "-", "\u2010", "\u2013", "\u2014", "\u2011"]


def fmt_ssn(r, s):
    st = r.randrange(8)
    if st <= 3:
        return f"{s[:3]}-{s[3:5]}-{s[5:]}"
    if st == 4:
        return f"{s[:3]} {s[3:5]} {s[5:]}"
    if st == 5:
        return s
    if st == 6:
        dash = r.choice(DASHES[3:])
        return f"{s[:3]}{dash}{s[3:5]}{dash}{s[5:]}"
    return f"{s[:3]}\u00a0{s[3:5]}\u00a0{s[5:]}"


# --------------------------------------------------------------------------- persons


class Person:
    __slots__ = ("first", "middle", "last", "sex", "title", "cred")

    def __init__(self, r, doctor=False):
        self.first = r.choice(FIRST)
        self.middle = r.choice("ABCDEFGHJKLMNPRSTW") if r.random() < 0.5 else ""
        self.last = r.choice(PARTICLE_LAST) if r.random() < 0.12 else r.choice(LAST)
        if r.random() < 0.06:
            self.last = f"{r.choice(LAST)}-{r.choice(LAST)}".replace("--", "-")
        self.sex = r.choice("FM")
        self.title = "Dr." if doctor else (r.choice(["Ms.", "Mrs.", "Miss"]) if self.sex == "F" else "Mr.")
        self.cred = r.choice(CRED) if doctor else ""


def emit_name(g, p, form=None):
    """Emit a name of person p; cue words are the caller's business."""
    r, b = g.r, g.b
    f = form if form is not None else r.randrange(10)
    if f <= 3:
        b.i("NAME", f"{p.first} {p.last}")
    elif f == 4:
        b.i("NAME", f"{p.first} {p.middle + '. ' if p.middle else ''}{p.last}")
    elif f == 5:
        b.i("NAME", f"{p.last}, {p.first}")
    elif f == 6:
        b.i("NAME", f"{p.first[0]}. {p.last}")
    elif f == 7:
        b.i("NAME", f"{p.first} {p.last}".upper())
    elif f == 8:
        b.i("NAME", f"{p.last.upper()}, {p.first.upper()}")
    else:
        b.i("NAME", f"{p.first} {p.last}")


def emit_doctor(g, d, form=None):
    r, b = g.r, g.b
    f = form if form is not None else r.randrange(6)
    if f == 0:
        b.t("Dr. ")
        emit_name(g, d, 0)
    elif f == 1:
        emit_name(g, d, r.choice([0, 4]))
        b.t(", " + d.cred)
    elif f == 2:
        b.t("Dr. ")
        b.i("NAME", d.last)
    elif f == 3:
        b.t("Dr. ")
        emit_name(g, d, 0)
        b.t(", " + d.cred)
    elif f == 4:
        emit_name(g, d, 0)
        b.t(" " + d.cred.split(",")[0])
    else:
        b.t("Dr. ")
        emit_name(g, d, 6)


# --------------------------------------------------------------------------- document context


class G:
    def __init__(self, r):
        self.r = r
        self.b = B()
        self.pt = Person(r)
        self.docs = [Person(r, True) for _ in range(3)]
        self.rel = Person(r)
        self.rel.last = self.pt.last if r.random() < 0.6 else self.rel.last
        self.relation = r.choice(["daughter", "son", "wife", "husband", "mother", "father", "sister",
                                  "brother", "spouse", "partner", "caregiver", "guardian", "niece",
                                  "grandson"])
        self.poss = "her" if self.pt.sex == "F" else "his"
        y = r.randint(1925, 2015)
        self.dob = (y, r.randint(1, 12), r.randint(1, 28))
        self.ssn = f"{r.randint(1, 899):03d}{r.randint(1, 99):02d}{r.randint(1, 9999):04d}"
        if self.ssn.startswith("666"):
            self.ssn = "665" + self.ssn[3:]
        self.phone = f"{r.choice('23456789')}{digits(r, 2)}{r.choice('23456789')}{digits(r, 6)}"
        self.cell = f"{r.choice('23456789')}{digits(r, 2)}555{digits(r, 4)}"
        self.fax = f"{r.choice('23456789')}{digits(r, 2)}{r.choice('23456789')}{digits(r, 6)}"
        self.mrn = r.choice([digits(r, 8), digits(r, 7), "MRN" + digits(r, 6), "E" + digits(r, 9),
                             digits(r, 2) + "-" + digits(r, 6), alnum(r, 3, "ABCDEFGHJKLMNPRSTUVWXYZ") + digits(r, 6)])
        self.member = r.choice([alnum(r, 3, "ABCDEFGHJKLMNPRSTUVWXYZ") + digits(r, 9), "W" + digits(r, 9),
                                digits(r, 11), "1EG4-TE5-MK73".replace("1EG4", digits(r, 1) + alnum(r, 3)),
                                alnum(r, 2, "ABCDEFGHJKLMNPRSTUVWXYZ") + digits(r, 7) + alnum(r, 1)])
        self.acct = r.choice([digits(r, 10), digits(r, 9), "A" + digits(r, 8), digits(r, 4) + "-" + digits(r, 6)])
        self.dl = r.choice([f"S{digits(r, 3)}-{digits(r, 4)}-{digits(r, 4)}", alnum(r, 1, "ABCDEFGHJKLMNPRSTUVWXYZ") + digits(r, 7),
                            digits(r, 9), alnum(r, 2, "ABCDEFGHJKLMNPRSTUVWXYZ") + digits(r, 6)])
        self.plate = r.choice([f"{r.randint(1, 9)}{alnum(r, 3, 'ABCDEFGHJKLMNPRSTUVWXYZ')}{digits(r, 3)}",
                               f"{alnum(r, 3, 'ABCDEFGHJKLMNPRSTUVWXYZ')}-{digits(r, 4)}",
                               f"{alnum(r, 3, 'ABCDEFGHJKLMNPRSTUVWXYZ')} {digits(r, 3)}"])
        self.vin = make_vin(r)
        self.serial = r.choice([alnum(r, 3, "ABCDEFGHJKLMNPRSTUVWXYZ") + digits(r, 6) + alnum(r, 1, "ABCDEFGHJKLMNPRSTUVWXYZ"),
                                "SN" + digits(r, 8), digits(r, 4) + "-" + alnum(r, 5), alnum(r, 12)])
        self.street_no = str(r.choice([r.randint(1, 99), r.randint(100, 9999), r.randint(10000, 99999)]))
        self.street = (r.choice(["N ", "S ", "E ", "W ", "North ", ""]) if r.random() < 0.2 else "") + (
            r.choice(STREETS) if r.random() < 0.85 else f"{r.randint(2, 99)}{r.choice(['th', 'nd', 'rd', 'st'])}"
            .replace("2st", "2nd").replace("1th", "1st").replace("3th", "3rd").replace("2th", "2nd")) + (
            " " + r.choice(STREETS) if r.random() < 0.1 else "") + " " + r.choice(SUFFIX)
        self.unit = r.choice(UNIT).format(n=r.choice([str(r.randint(1, 40)), f"{r.randint(1, 9)}{r.choice('ABCD')}"])) if r.random() < 0.4 else ""
        self.city, self.st, self.state, zp = r.choice(CITIES)
        self.zip = zp + digits(r, 2)
        self.zip4 = digits(r, 4) if r.random() < 0.25 else ""
        dom = r.choice(EMAIL_DOM)
        f, l = ascii_fold(self.pt.first).lower(), ascii_fold(self.pt.last).lower().replace(" ", "").replace("'", "")
        self.email = r.choice([f"{f}.{l}@{dom}", f"{f[0]}{l}{r.randint(1, 99)}@{dom}", f"{l}_{f}@{dom}",
                               f"{f}{r.randint(1950, 2010)}@{dom}"])
        self.pid = digits(r, r.choice([5, 6, 7]))
        self.npi = [make_npi(r) for _ in self.docs]
        self.dea = [make_dea(r, ascii_fold(d.last)) for d in self.docs]
        self.age90 = r.randint(90, 108) if r.random() < 0.5 else None

    # --- emitters -------------------------------------------------------------------------
    def date(self, style=None, y=None):
        r = self.r
        y = y or r.randint(2015, 2026)
        s, parts = fmt_date(r, y, r.randint(1, 12), r.randint(1, 28), style)
        self.b.i("DATE", s, parts)

    def dob_(self, style=None):
        s, parts = fmt_date(self.r, *self.dob, style)
        self.b.i("DATE", s, parts)

    def phone_(self, num=None, kind="PHONE", style=None):
        self.b.i(kind, fmt_phone(self.r, num or self.phone, style))
        if self.r.random() < 0.12:
            self.b.t(self.r.choice([" x", " ext. ", " ext ", " extension "]) + digits(self.r, self.r.choice([2, 3, 4])))

    def ssn_(self):
        self.b.i("SSN", fmt_ssn(self.r, self.ssn))

    def addr_(self, oneline=True):
        b, r = self.b, self.r
        if r.random() < 0.08:
            b.i("ADDRESS", r.choice(["PO Box ", "P.O. Box ", "P. O. Box "]) + str(r.randint(10, 99999)))
        else:
            b.i("ADDRESS", f"{self.street_no} {self.street}" + ((r.choice([", ", " "]) + self.unit) if self.unit else ""))
        b.t(", " if oneline else "\n")
        self.cityline()

    def cityline(self):
        b, r = self.b, self.r
        b.i("CITY", self.city)
        b.t(r.choice([", ", ", ", " "]))
        if r.random() < 0.15:
            b.t(self.state + " ")
        else:
            b.t(self.st + r.choice([" ", "  "]))
        b.i("ZIP", self.zip + (("-" + self.zip4) if self.zip4 else ""))

    def clin(self, what=None):
        r, b = self.r, self.b
        w = what if what is not None else r.randrange(14)
        if w == 0:
            d, doses = r.choice(DRUGS)
            if r.random() < 0.3:
                d = d.capitalize() if r.random() < 0.6 else r.choice(BRANDS)
            b.c("DRUG", f"{d} {r.choice(doses)}")
            b.t(" " + r.choice(SIG))
        elif w == 1:
            self.vitals()
        elif w == 2:
            name, f, lo, hi = r.choice(LABS)
            b.c("LAB", f"{name} {f.format(r.uniform(lo, hi))}")
        elif w == 3:
            b.t(r.choice(DX) + r.choice([" (", " - ICD-10 ", ", code ", " ["]))
            b.c("ICD10", r.choice(ICD))
            b.t(")" if b.parts[-2].endswith("(") else ("]" if b.parts[-2].endswith("[") else ""))
        elif w == 4:
            b.t(r.choice(["CPT ", "CPT code ", "billed ", "procedure code "]))
            b.c("CPT", r.choice(CPT))
        elif w == 5:
            b.t(r.choice(["LOINC ", "LOINC code ", "(LOINC: "]))
            b.c("LOINC", r.choice(LOINC))
            b.t(")" if b.parts[-2].endswith(": ") else "")
        elif w == 6:
            b.t(r.choice(["NDC ", "NDC: ", "NDC# "]))
            b.c("NDC", r.choice([f"{digits(r, 4)}-{digits(r, 4)}-{digits(r, 2)}",
                                 f"{digits(r, 5)}-{digits(r, 4)}-{digits(r, 2)}",
                                 f"{digits(r, 5)}-{digits(r, 3)}-{digits(r, 2)}",
                                 f"{digits(r, 5)}-{digits(r, 4)}-{digits(r, 1)}"]))
        elif w == 7:
            b.t(r.choice(["RxNorm ", "RXCUI ", "RxCUI: "]))
            b.c("RXNORM", str(r.randint(100000, 2999999)))
        elif w == 8:
            b.t(r.choice(["interface ", "EHR ", "device firmware ", "app "]))
            b.c("VERSION", r.choice(VERSIONS))
        elif w == 9:
            b.t(r.choice(["diagnosed in ", "since ", "last colonoscopy ", "quit smoking in ", "surgery ("]))
            b.c("YEAR", str(r.randint(1975, 2025)))
            b.t(")" if b.parts[-2].endswith("(") else "")
        elif w == 10:
            b.t(r.choice(["at ", "dose given at ", "arrived ", "NPO after "]))
            b.c("TIME", r.choice([f"{r.randint(0, 23):02d}:{r.choice(['00', '15', '30', '45'])}",
                                  f"{r.randint(1, 12)}:{r.choice(['05', '20', '40'])} {r.choice(['AM', 'PM', 'pm'])}"]))
        elif w == 11:
            b.t(r.choice(["for ", "symptoms x ", "over the past ", "follow up in "]))
            b.c("DURATION", r.choice(DURS))
        elif w == 12:
            a = r.randint(18, 89)
            b.c("AGE", r.choice([f"{a}-year-old", f"age {a}", f"{a} y/o", f"aged {a}", f"{a} yo"]))
        else:
            b.c("EXAM", r.choice(EXAM))

    def vitals(self):
        r, b = self.r, self.b
        items = [f"BP {r.randint(95, 175)}/{r.randint(55, 105)}", f"HR {r.randint(48, 130)}",
                 f"T {r.uniform(96.8, 102.5):.1f} F", f"SpO2 {r.randint(86, 100)}%", f"RR {r.randint(10, 28)}",
                 f"Wt {r.uniform(45, 140):.1f} kg", f"BMI {r.uniform(17, 45):.1f}", f"Temp {r.uniform(36.0, 39.5):.1f} C",
                 f"P {r.randint(50, 120)}", f"O2 sat {r.randint(88, 100)}%", f"Pulse {r.randint(50, 120)}"]
        r.shuffle(items)
        sep = r.choice([", ", "  ", "; ", " | "])
        for k, it in enumerate(items[:r.randint(2, 6)]):
            if k:
                b.t(sep)
            b.c("VITAL", it)


def ascii_fold(s):
    return (s.replace("é", "e").replace("á", "a").replace("í", "i").replace("ü", "u").replace("ć", "c")
            .replace("ó", "o").replace("ñ", "n"))


# --------------------------------------------------------------------------- cue vocab

CUE = {
    "MRN": ["MRN: ", "MRN ", "MR#: ", "MR# ", "Med Rec #: ", "Medical Record Number: ", "Medical record no. ",
            "Chart #", "MRN#", "Patient ID: ", "Hospital No.: ", "Med. Rec. No. "],
    "MEMBER_ID": ["Member ID: ", "Member #: ", "Policy #: ", "Policy number ", "Subscriber ID: ", "Insurance ID: ",
                  "Medicaid ID: ", "Medicare ID ", "MBI: ", "Member No. ", "Health plan ID: ", "Beneficiary #"],
    "ACCOUNT": ["Account #: ", "Acct #", "Acct: ", "Account number ", "Billing account: ", "Account No. ",
                "Encounter #: ", "Visit acct ", "Patient account: "],
    "LICENSE": ["Driver's license: ", "DL#: ", "DL ", "Drivers Lic # ", "driver's licence ", "License #: ",
                "State ID: ", "Lic. No. "],
    "PLATE": ["Plate: ", "license plate ", "plate # ", "Plate number ", "tag # "],
    "VIN": ["VIN: ", "VIN ", "vehicle identification number ", "VIN# "],
    "DEVICE": ["pacemaker serial ", "Serial #: ", "S/N: ", "SN ", "serial number ", "Device ID: ", "device serial ",
               "insulin pump S/N ", "Implant serial no. ", "UDI serial "],
    "SSN": ["SSN: ", "SSN ", "Social Security Number: ", "SS#: ", "social security # ", "SSN#"],
    "PHONE": ["Phone: ", "Tel: ", "Ph: ", "Cell: ", "call ", "phone ", "Home phone: ", "Mobile: ", "(H) ", "Tel. ",
              "reached at "],
    "FAX": ["Fax: ", "Fax ", "F: ", "fax number ", "Fax #: ", "Fax no. "],
    "NPI": ["NPI: ", "NPI ", "NPI# ", "National Provider Identifier: "],
    "DEA": ["DEA: ", "DEA# ", "DEA number ", "DEA Reg. "],
    "EMAIL": ["Email: ", "email ", "E-mail: ", "at ", "contact: "],
    "AGE": ["{n}-year-old", "age {n}", "aged {n}", "{n} y/o", "{n} years old", "Age: {n}", "{n} yo", "{n}-yo",
            "{n} year old"],
}


def cue_id(g, kind, value, cue=True):
    b, r = g.b, g.r
    if cue:
        b.t(r.choice(CUE[kind]))
    b.i(kind, value)


def age_(g, n=None):
    b, r = g.b, g.r
    n = n or g.age90 or r.randint(90, 108)
    form = r.choice(CUE["AGE"])
    pre, post = form.split("{n}")
    b.t(pre)
    b.i("AGE", str(n))
    b.t(post)


def url_(g):
    r = g.r
    return r.choice([f"https://portal.example-health.org/patient/{g.pid}",
                     f"http://mychart.example.org/records?id={g.pid}&view=full",
                     f"www.{ascii_fold(g.pt.last).lower().replace(' ', '').replace(chr(39), '')}-family.example.com",
                     f"https://telehealth.example.net/visit/{alnum(r, 10).lower()}",
                     f"https://www.example-clinic.org/p/{g.pid}/results"])


def ip_(g):
    r = g.r
    if r.random() < 0.75:
        return f"{r.choice([10, 172, 192, 73, 98, 203])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    h = [f"{r.randint(0, 65535):x}" for _ in range(8)]
    st = r.randrange(3)
    if st == 0:
        return "2001:db8:" + ":".join(h[2:])
    if st == 1:
        return f"fe80::{h[4]}:{h[5]}:{h[6]}:{h[7]}"
    return f"2001:db8:{h[2]}::{h[7]}"


# --------------------------------------------------------------------------- sentence pools

def s_header(g):
    b, r = g.b, g.r
    b.t(r.choice(["Patient: ", "PATIENT: ", "Pt: ", "Name: ", "Patient Name: ", "Pt name: "]))
    emit_name(g, g.pt)
    b.t(r.choice(["   DOB: ", "\nDOB: ", " | Date of Birth: ", "\nD.O.B. ", ", born "]))
    g.dob_()
    b.t(r.choice(["   ", "\n", " | "]))
    cue_id(g, "MRN", g.mrn)
    b.t("\n")
    if r.random() < 0.5:
        b.t(r.choice(["Date of service: ", "DOS: ", "Visit date: ", "Encounter: ", "Date: "]))
        g.date()
        b.t("\n")


def s_hpi(g):
    b, r = g.b, g.r
    p = g.pt
    b.t(r.choice(["HPI: ", "History of present illness: ", "S: ", "Subjective: ", ""]))
    if g.age90 and r.random() < 0.5:
        age_(g)
        b.t(" " + ("woman" if p.sex == "F" else "man") + " ")
    else:
        b.c("AGE", f"{r.randint(18, 89)}-year-old")
        b.t(" " + r.choice(["patient", "female", "male", "veteran"]) + " ")
    b.t(r.choice(["with ", "with a history of ", "w/ PMH of "]) + r.choice(DX) + " (")
    b.c("ICD10", r.choice(ICD))
    b.t(r.choice([") presents with ", ") here for ", ") reports "]))
    b.t(r.choice(["chest pain", "worsening dyspnea", "follow-up", "polyuria", "fatigue", "cough"]) + " for ")
    b.c("DURATION", r.choice(DURS))
    b.t(". ")
    if r.random() < 0.6:
        b.t(r.choice(["Mr. ", "Ms. ", "Mrs. "]) if r.random() < 0.3 else p.title + " ")
        b.i("NAME", p.last)
        b.t(r.choice([" states symptoms began on ", " reports onset ", " was last seen "]))
        g.date()
        b.t(". ")
    if r.random() < 0.5:
        b.t(r.choice(["Accompanied by ", "History obtained from ", "Lives with "]) + g.poss + " " + g.relation + " ")
        b.i("NAME", g.rel.first if r.random() < 0.6 else f"{g.rel.first} {g.rel.last}")
        b.t(r.choice([", who ", ". ", " who "]))
        if r.random() < 0.5:
            b.t("can be reached at ")
            g.phone_(g.cell)
            b.t(". ")
        else:
            b.t("helps with medications. ")
    if r.random() < 0.4:
        b.i("NAME", p.first)
        b.t(r.choice([" denies fever. ", " tolerated the procedure well. ", " is anxious about results. "]))
    b.t("\n")


def s_meds(g):
    b, r = g.b, g.r
    b.t(r.choice(["Medications:\n", "Current meds:\n", "MEDS:\n", "Home medications: \n"]))
    for _ in range(r.randint(2, 5)):
        b.t(r.choice(["- ", "* ", "  ", "• "]))
        g.clin(0)
        if r.random() < 0.3:
            b.t(" (")
            g.clin(6)
            b.t(")")
        b.t("\n")


def s_vitals(g):
    b, r = g.b, g.r
    b.t(r.choice(["Vitals: ", "VS: ", "Vital signs - ", "O: "]))
    g.vitals()
    b.t("\n")
    b.t(r.choice(["Labs: ", "Recent labs ", "Lab results: "]))
    for k in range(r.randint(2, 5)):
        if k:
            b.t(", ")
        g.clin(2)
    if r.random() < 0.5:
        b.t(" (collected ")
        g.date()
        b.t(r.choice([" at ", " "]))
        g.clin(10) if False else b.c("TIME", f"{r.randint(0, 23):02d}:{r.choice(['05', '30', '50'])}")
        b.t(")")
    b.t("\n")


def s_assess(g):
    b, r = g.b, g.r
    b.t(r.choice(["Assessment/Plan:\n", "A/P:\n", "Assessment and plan\n", "Impression:\n"]))
    for k in range(r.randint(2, 4)):
        b.t(f"{k + 1}. ")
        g.clin(3)
        b.t(". ")
        g.clin(r.choice([0, 4, 5, 11, 13, 9, 7, 8, 12]))
        b.t(".\n")
    b.t(r.choice(["Return in ", "RTC ", "Follow up in "]))
    b.c("DURATION", r.choice(DURS))
    b.t(r.choice([" with ", " to see "]))
    emit_doctor(g, g.docs[1])
    b.t(".\n")


def s_contact(g):
    b, r = g.b, g.r
    opts = list(range(9))
    r.shuffle(opts)
    for o in opts[:r.randint(2, 6)]:
        if o == 0:
            b.t(r.choice(["Address: ", "Home address: ", "Lives at ", "Addr: "]))
            g.addr_()
        elif o == 1:
            cue_id(g, "PHONE", "", cue=True) if False else b.t(r.choice(CUE["PHONE"]))
            g.phone_()
        elif o == 2:
            b.t(r.choice(CUE["SSN"]))
            g.ssn_()
        elif o == 3:
            b.t(r.choice(CUE["EMAIL"][:3] + ["Email address: "]))
            b.i("EMAIL", g.email)
        elif o == 4:
            cue_id(g, "MEMBER_ID", g.member)
            if r.random() < 0.5:
                b.t(r.choice([" (", ", "]) + r.choice(["Aetna", "BCBS", "UnitedHealthcare", "Medicaid", "Humana"]) +
                    (")" if b.parts[-1].startswith(" (") else ""))
        elif o == 5:
            cue_id(g, "ACCOUNT", g.acct)
        elif o == 6:
            cue_id(g, "LICENSE", g.dl)
        elif o == 7:
            b.t("Emergency contact: ")
            emit_name(g, g.rel, r.choice([0, 0, 4, 5]))
            b.t(f" ({g.relation}) ")
            g.phone_(g.cell)
        else:
            b.t(r.choice(["Patient portal: ", "Portal link: ", "See "]))
            b.i("URL", url_(g))
        b.t(r.choice(["\n", "; ", "\n", "  "]))
    b.t("\n")


def s_signature(g):
    b, r = g.b, g.r
    d = g.docs[0]
    f = r.randrange(6)
    if f == 0:
        b.t("Electronically signed by: ")
        emit_doctor(g, d)
        b.t(" on ")
        g.date()
        b.t(" ")
        b.c("TIME", f"{r.randint(0, 23):02d}:{r.choice(['02', '17', '44'])}")
    elif f == 1:
        b.t("Signed by ")
        emit_doctor(g, d)
        b.t(", NPI ")
        b.i("NPI", g.npi[0])
    elif f == 2:
        b.t("Attending: ")
        emit_doctor(g, d)
        b.t(r.choice([" | DEA ", "  DEA# "]))
        b.i("DEA", g.dea[0])
    elif f == 3:
        b.t("Seen by ")
        emit_doctor(g, d)
        b.t(". cc: ")
        emit_doctor(g, g.docs[2])
    elif f == 4:
        b.t("-- ")
        emit_doctor(g, d, r.choice([1, 3]))
        b.t("\n")
        b.t(r.choice(HOSP) + ", Tel ")
        g.phone_(g.fax[::-1] if False else g.phone[::-1].replace("0", "5") if False else "617555" + g.fax[-4:])
        b.t(", Fax ")
        g.phone_(g.fax, kind="FAX")
    else:
        b.t("Dictated by: ")
        emit_doctor(g, d)
        b.t("; transcribed ")
        g.date()
    b.t("\n")


def s_misc(g):
    b, r = g.b, g.r
    k = r.randrange(8)
    if k == 0:
        b.t("Device: " + r.choice(["dual-chamber pacemaker", "insulin pump", "CGM", "ICD"]) + ", ")
        cue_id(g, "DEVICE", g.serial)
        b.t(", implanted ")
        g.date()
        b.t(".\n")
    elif k == 1:
        b.t(r.choice(["Patient arrived by car, ", "MVC: patient was driver; "]))
        cue_id(g, "PLATE", g.plate)
        b.t(r.choice([", ", "; "]))
        cue_id(g, "VIN", g.vin)
        b.t(".\n")
    elif k == 2:
        b.t(r.choice(["Portal login from ", "Telehealth session IP ", "Client IP: "]))
        b.i("IP", ip_(g))
        b.t(" using ")
        b.c("VERSION", r.choice(VERSIONS))
        b.t(".\n")
    elif k == 3:
        b.t(r.choice(["Prescriber DEA ", "DEA: "]))
        b.i("DEA", g.dea[1])
        b.t(", NPI ")
        b.i("NPI", g.npi[1])
        b.t(", ")
        emit_doctor(g, g.docs[1])
        b.t(".\n")
    elif k == 4:
        b.t("Social: lives in ")
        b.i("CITY", g.city)
        b.t(" with " + g.poss + " " + g.relation + " ")
        b.i("NAME", g.rel.first)
        b.t(r.choice([". Quit smoking in ", ". Retired since "]))
        b.c("YEAR", str(r.randint(1980, 2024)))
        b.t(".\n")
    elif k == 5:
        b.t(r.choice(["Referred by ", "PCP: ", "Primary care: "]))
        emit_doctor(g, g.docs[2])
        b.t(r.choice([", phone ", " - tel "]))
        g.phone_("617" + g.fax[3:])
        b.t(r.choice([", fax ", "; Fax: "]))
        g.phone_(g.fax, kind="FAX")
        b.t(".\n")
    elif k == 6:
        b.t("Prior admission ")
        g.date()
        b.t(" to ")
        g.date()
        b.t("; ")
        g.clin(r.choice([1, 2, 5]))
        b.t(".\n")
    else:
        for _ in range(r.randint(1, 3)):
            g.clin()
            b.t(r.choice(["; ", ". ", ", "]))
        b.t("\n")


def s_narrative(g):
    """Harder phrasings: names as sentence subjects, possessives, care teams, odd formats."""
    b, r = g.b, g.r
    p = g.pt
    for k in r.sample(range(12), r.randint(2, 5)):
        if k == 0:
            emit_name(g, p, r.choice([0, 0, 4]))
            b.t(r.choice([" is a ", " is an "]) if False else " is a ")
            if g.age90 and r.random() < .5:
                b.i("AGE", str(g.age90))
                b.t(r.choice(["-year-old", " year old", " y/o"]))
            else:
                b.c("AGE", f"{r.randint(20, 89)}-year-old")
            b.t(" " + r.choice(["woman", "man", "retired teacher", "patient"]) + " seen for " + r.choice(DX) + ". ")
        elif k == 1:
            b.t(p.title + " ")
            b.i("NAME", p.last + "'s")
            b.t(" " + g.relation + " ")
            b.i("NAME", g.rel.first)
            b.t(" called on ")
            g.date(r.choice([0, 2, 5, 6, 11, 12]))
            b.t(". ")
        elif k == 2:
            b.t("Care team: ")
            emit_doctor(g, g.docs[1], r.choice([0, 3]))
            b.t(" (cardiology), ")
            emit_name(g, g.docs[2], 0)
            b.t(", RN. ")
        elif k == 3:
            b.t(r.choice(["Phone: ", "Cell "]))
            a, m, e = g.phone[:3], g.phone[3:6], g.phone[6:]
            b.i("PHONE", r.choice([f"{a}/{m}-{e}", f"({a})-{m}-{e}", f"{a} {m}-{e}", f"{a}-{m}{e}"]))
            b.t(". ")
        elif k == 4:
            b.t(r.choice(["Next appointment ", "Seen again on ", "Labs drawn "]))
            y, m, d = r.randint(2019, 2026), r.randint(1, 12), r.randint(1, 28)
            st = r.randrange(4)
            if st == 0:
                val, parts = f"{MON3[m - 1]}-{d:02d}-{y}", ((0, 3), (4, 6))
            elif st == 1:
                val, parts = f"{y}-{MON3[m - 1]}-{d:02d}", ((5, 8), (9, 11))
            elif st == 2:
                val, parts = f"{m}.{d}.{y}", ((0, len(str(m))), (len(str(m)) + 1, len(str(m)) + 1 + len(str(d))))
            else:
                val, parts = f"{MONTHS[m - 1].lower()} {d}", ((0, len(MONTHS[m - 1])), (len(MONTHS[m - 1]) + 1, len(MONTHS[m - 1]) + 1 + len(str(d))))
            b.i("DATE", val, parts)
            b.t(". ")
        elif k == 5:
            words = ["ninety", "ninety-one", "ninety-two", "ninety-three", "ninety-five", "ninety-eight", "one hundred"]
            b.t("Patient is a ")
            b.i("AGE", r.choice(words))
            b.t("-year-old. ")
        elif k == 6:
            emit_name(g, p, 0)
            b.t(r.choice([" denies chest pain. ", " reports improved sleep. ", " was seen in clinic. "]))
        elif k == 7:
            b.t("Mother's name: ")
            emit_name(g, g.rel, 0)
            b.t(". ")
        elif k == 8:
            b.t(r.choice(["Pt. ", "Patient "]))
            emit_name(g, p, 0)
            b.t(r.choice([" arrived ", " was triaged at "]))
            b.c("TIME", f"{r.randint(0, 23):02d}:{r.choice(['10', '25'])}")
            b.t(". ")
        elif k == 9:
            b.t("Lives at ")
            b.i("ADDRESS", f"{g.street_no} {g.street}")
            b.t(" in ")
            b.i("CITY", g.city)
            b.t(". ")
        elif k == 10:
            b.t("Insurance: ")
            b.t(r.choice(["Aetna", "BCBS", "Cigna"]) + " ")
            b.i("MEMBER_ID", g.member)
            b.t(r.choice([" (group ", " grp # "]))
            b.i("MEMBER_ID", str(r.randint(10000, 999999)))
            b.t(r.choice([") ", " "]))
        else:
            b.t("Record #")
            b.i("MRN", str(r.randint(100000, 999999)))
            b.t(". ")
    b.t("\n")


def d_fhir(g):
    b, r = g.b, g.r
    p = g.pt
    b.t('{"resourceType": "Patient", "id": "')
    b.i("MRN", g.pid)
    b.t('", "identifier": [{"system": "urn:oid:2.16.840.1.113883.4.1", "value": "')
    b.i("SSN", f"{g.ssn[:3]}-{g.ssn[3:5]}-{g.ssn[5:]}")
    b.t('"}], "name": [{"family": "')
    b.i("NAME", p.last)
    b.t('", "given": ["')
    b.i("NAME", p.first)
    b.t('"]}], "telecom": [{"system": "phone", "value": "')
    b.i("PHONE", fmt_phone(r, g.phone, r.choice([0, 1, 2])))
    b.t('"}, {"system": "email", "value": "')
    b.i("EMAIL", g.email)
    b.t('"}], "gender": "' + ("female" if p.sex == "F" else "male") + '", "birthDate": "')
    g.dob_(3)
    b.t('", "address": [{"line": ["')
    b.i("ADDRESS", f"{g.street_no} {g.street}")
    b.t('"], "city": "')
    b.i("CITY", g.city)
    b.t(f'", "state": "{g.st}", "postalCode": "')
    b.i("ZIP", g.zip)
    b.t('"}], "generalPractitioner": [{"display": "')
    emit_doctor(g, g.docs[0], r.choice([0, 3]))
    b.t('"}], "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueString": "')
    b.c("VERSION", r.choice(VERSIONS))
    b.t('"}], "condition": [{"code": "')
    b.c("ICD10", r.choice(ICD))
    b.t('", "onset": "')
    b.c("YEAR", str(r.randint(1990, 2024)))
    b.t('"}]}\n')


# --------------------------------------------------------------------------- document kinds

def d_visit(g):
    b, r = g.b, g.r
    b.t(r.choice(["PROGRESS NOTE\n", "Clinic Visit Note\n", "OUTPATIENT NOTE\n", "SOAP note\n", ""]))
    s_header(g)
    secs = [s_hpi, s_meds, s_vitals, s_assess, s_contact, s_misc, s_misc, s_narrative]
    r.shuffle(secs)
    for s in secs[:r.randint(4, 7)]:
        s(g)
    s_signature(g)


def d_discharge(g):
    b, r = g.b, g.r
    b.t("DISCHARGE SUMMARY\n")
    s_header(g)
    b.t("Admitted: ")
    g.date()
    b.t("   Discharged: ")
    g.date()
    b.t("\nAttending physician: ")
    emit_doctor(g, g.docs[0])
    b.t("\n")
    s_hpi(g)
    if r.random() < 0.5:
        s_narrative(g)
    b.t("Hospital course: ")
    for _ in range(r.randint(3, 7)):
        g.clin()
        b.t(r.choice([". ", "; ", ", then "]))
    b.t("\nDischarge diagnoses: ")
    g.clin(3)
    b.t(", ")
    g.clin(3)
    b.t("\n")
    s_meds(g)
    if r.random() < 0.6:
        s_contact(g)
    b.t("Follow-up with ")
    emit_doctor(g, g.docs[1])
    b.t(" on ")
    g.date()
    b.t(r.choice([" at ", ", "]))
    b.c("TIME", f"{r.randint(8, 16)}:{r.choice(['00', '30'])}")
    b.t(".\n")
    s_signature(g)


def d_referral(g):
    b, r = g.b, g.r
    b.t(r.choice(HOSP) + "\n")
    b.i("ADDRESS", f"{r.randint(1, 999)} {r.choice(STREETS)} {r.choice(SUFFIX)}")
    b.t("\n")
    g.cityline()
    b.t("\n")
    g.date()
    b.t("\n\n")
    b.t(r.choice(["Dear ", "Dear Dr. ", "Dear Dr. "]))
    if b.parts[-1] == "Dear ":
        b.t("Dr. ")
    b.i("NAME", g.docs[1].last)
    b.t(",\n\nThank you for seeing ")
    b.t(r.choice(["my patient ", "our mutual patient ", ""]))
    emit_name(g, g.pt, r.choice([0, 0, 4, 9]))
    b.t(r.choice([", DOB ", " (DOB: ", ", born "]))
    g.dob_()
    b.t(")" if b.parts[-3].endswith("(DOB: ") else "")
    b.t(", ")
    cue_id(g, "MRN", g.mrn)
    b.t(r.choice([", a ", ". ", ". This is a "]))
    if g.age90:
        age_(g)
    else:
        b.c("AGE", f"{r.randint(30, 89)}-year-old")
    b.t(" with ")
    b.t(r.choice(DX) + " (")
    b.c("ICD10", r.choice(ICD))
    b.t("). ")
    for _ in range(r.randint(2, 5)):
        g.clin()
        b.t(r.choice([". ", "; "]))
    b.t("\n")
    if r.random() < 0.6:
        b.t(r.choice([g.poss.capitalize() + " " + g.relation + " ", "The patient's " + g.relation + ", "]))
        b.i("NAME", f"{g.rel.first} {g.rel.last}" if r.random() < 0.5 else g.rel.first)
        b.t(r.choice([", can be reached at ", " may be contacted at "]))
        g.phone_(g.cell)
        b.t(".\n")
    if r.random() < 0.6:
        s_contact(g)
    b.t(r.choice(["Sincerely,\n", "Best regards,\n", "Kind regards,\n\n", "Respectfully,\n"]))
    emit_doctor(g, g.docs[0], r.choice([1, 3, 4]))
    b.t("\n")
    if r.random() < 0.7:
        b.t(r.choice(["NPI: ", "NPI "]))
        b.i("NPI", g.npi[0])
        b.t(r.choice(["  Fax: ", " | F: ", "\nFax "]))
        g.phone_(g.fax, kind="FAX")
        b.t("\n")


def d_portal(g):
    b, r = g.b, g.r
    p = g.pt
    b.t(r.choice(["Subject: question about my meds\n", "Portal message\n", "RE: lab results\n", ""]))
    b.t(r.choice(["Hi Dr. ", "Hello Dr. ", "Dear Dr. ", "Good morning Dr. "]))
    b.i("NAME", g.docs[0].last)
    b.t(r.choice([",\n", "!\n", ",\n\n"]))
    b.t(r.choice(["My name is ", "This is ", "Hi, it's ", "my name is "]))
    emit_name(g, p, r.choice([0, 0, 4, 9]))
    b.t(r.choice([" and my birthday is ", ", DOB ", " (born "]))
    g.dob_(r.choice([0, 2, 5, 6, 7, 8, 16]))
    b.t(r.choice([". ", "). ", ". "]))
    b.t(r.choice(["I started ", "I've been taking ", "Since starting "]))
    g.clin(0)
    b.t(" about ")
    b.c("DURATION", r.choice(DURS))
    b.t(r.choice([" ago and my sugar was ", " ago, and this morning my "]))
    b.c("LAB", f"glucose {r.randint(80, 300)} mg/dL")
    b.t(". ")
    if r.random() < 0.6:
        b.t(r.choice(["My ", "my "]) + g.relation + " ")
        b.i("NAME", g.rel.first)
        b.t(r.choice([" says ", " thinks ", " will drive me on "]))
        if b.parts[-1].endswith("on "):
            g.date(r.choice([5, 6, 11, 12, 8]))
            b.t(". ")
        else:
            b.t("I should call. ")
    b.t(r.choice(["You can reach me at ", "Call me at ", "My cell is "]))
    g.phone_(g.cell)
    b.t(r.choice([" or email ", " or "]))
    b.i("EMAIL", g.email)
    b.t(".\n")
    if r.random() < 0.4:
        b.t("My new address is ")
        g.addr_()
        b.t(".\n")
    if r.random() < 0.3:
        b.t("Insurance changed: ")
        cue_id(g, "MEMBER_ID", g.member)
        b.t(".\n")
    b.t(r.choice(["Thanks,\n", "Thank you,\n", "Best,\n", "- "]))
    emit_name(g, p, r.choice([0, 9, 4]) if r.random() < 0.7 else None)
    b.t("\n")
    if r.random() < 0.5:
        b.t("\n--- Reply from ")
        emit_doctor(g, g.docs[0], r.choice([1, 3]))
        b.t(": Hi ")
        b.i("NAME", p.first)
        b.t(", please keep ")
        g.clin(0)
        b.t(" and recheck ")
        g.clin(2)
        b.t(r.choice([" on ", " by "]))
        g.date(r.choice([0, 2, 5, 11, 12]))
        b.t(".\n")


def _js(s):
    return json.dumps(s, ensure_ascii=False)[1:-1]


def d_json(g):
    b, r = g.b, g.r
    p = g.pt
    ind = "\n  " if r.random() < 0.5 else " "
    end = "\n" if ind != " " else " "

    def kv(key, fn, last=False):
        b.t(f'{ind}"{key}": "')
        fn()
        b.t('"' + ("" if last else ","))

    def kvc(key, kind, val, last=False):
        b.t(f'{ind}"{key}": "')
        b.c(kind, val)
        b.t('"' + ("" if last else ","))

    b.t(r.choice(['{"tool": "ehr_lookup", "result": {', '{', '{"status": "ok", "data": {']))
    wrap = not b.parts[-1] == "{"
    fields = []
    fields.append(lambda: kv(r.choice(["patient_name", "name", "patientName", "full_name"]),
                             lambda: emit_name(g, p, r.choice([0, 4, 5, 7]))))
    fields.append(lambda: kv(r.choice(["dob", "birth_date", "birthDate", "DOB"]), lambda: g.dob_(r.choice([3, 3, 0, 9]))))
    fields.append(lambda: kv(r.choice(["mrn", "MRN", "medical_record_number", "patient_id"]), lambda: b.i("MRN", g.mrn)))
    fields.append(lambda: kv(r.choice(["phone", "phone_number", "home_phone", "mobile"]), lambda: b.i("PHONE", fmt_phone(r, g.phone))))
    fields.append(lambda: kv(r.choice(["email", "email_address"]), lambda: b.i("EMAIL", g.email)))
    fields.append(lambda: kv(r.choice(["ssn", "SSN", "social_security_number"]), lambda: b.i("SSN", fmt_ssn(r, g.ssn))))
    fields.append(lambda: kv(r.choice(["address", "street", "address_line1"]), lambda: b.i("ADDRESS", f"{g.street_no} {g.street}")))
    fields.append(lambda: kv("city", lambda: b.i("CITY", g.city)))
    fields.append(lambda: (b.t(f'{ind}"state": "{g.st}",'), kv(r.choice(["zip", "postal_code", "zip_code"]), lambda: b.i("ZIP", g.zip))))
    fields.append(lambda: kv(r.choice(["member_id", "insurance_member_id", "policy_number"]), lambda: b.i("MEMBER_ID", g.member)))
    fields.append(lambda: kv(r.choice(["account_number", "account_id", "billing_account"]), lambda: b.i("ACCOUNT", g.acct)))
    fields.append(lambda: kv(r.choice(["admit_date", "encounter_date", "last_visit"]), lambda: g.date(r.choice([3, 3, 0, 9]))))
    fields.append(lambda: kv(r.choice(["attending", "provider", "pcp_name"]), lambda: emit_doctor(g, g.docs[0], r.choice([0, 1, 3]))))
    fields.append(lambda: kv(r.choice(["provider_npi", "npi"]), lambda: b.i("NPI", g.npi[0])))
    fields.append(lambda: kv(r.choice(["client_ip", "ip_address", "source_ip"]), lambda: b.i("IP", ip_(g))))
    fields.append(lambda: kv(r.choice(["portal_url", "link"]), lambda: b.i("URL", url_(g))))
    fields.append(lambda: kv(r.choice(["device_serial", "serial_number"]), lambda: b.i("DEVICE", g.serial)))
    if g.age90:
        fields.append(lambda: (b.t(f'{ind}"age": '), b.i("AGE", str(g.age90)), b.t(",")))
    fields.append(lambda: kvc(r.choice(["icd10", "diagnosis_code", "dx"]), "ICD10", r.choice(ICD)))
    fields.append(lambda: kvc("cpt", "CPT", r.choice(CPT)))
    fields.append(lambda: kvc("loinc", "LOINC", r.choice(LOINC)))
    fields.append(lambda: kvc("ndc", "NDC", f"{digits(r, 5)}-{digits(r, 4)}-{digits(r, 2)}"))
    fields.append(lambda: kvc(r.choice(["schema_version", "api_version"]), "VERSION", r.choice(VERSIONS)))
    fields.append(lambda: kvc("medication", "DRUG", f"{r.choice(DRUGS)[0]} {r.choice(DRUGS)[1][0]}"))
    fields.append(lambda: kvc(r.choice(["collected_at", "time"]), "TIME", f"{r.randint(0, 23):02d}:{r.choice(['00', '30'])}"))
    head, tail = fields[:3], fields[3:]
    r.shuffle(tail)
    chosen = head + tail[:r.randint(8, len(tail))]
    r.shuffle(chosen)
    for f in chosen:
        f()
    b.t(f'{ind}"vitals": {{')
    b.t(f'"bp": "')
    b.c("VITAL", f"{r.randint(95, 170)}/{r.randint(55, 100)}")
    b.t('", "hr": ')
    b.c("VITAL", str(r.randint(50, 120)))
    b.t(', "spo2": ')
    b.c("VITAL", str(r.randint(88, 100)))
    b.t("}," + ind + '"labs": [')
    for k in range(r.randint(1, 4)):
        name, f, lo, hi = r.choice(LABS)
        b.t((", " if k else "") + '{"test": "' + name + '", "value": ')
        b.c("LAB", f"{r.uniform(lo, hi):.1f}")
        b.t(', "loinc": "')
        b.c("LOINC", r.choice(LOINC))
        b.t('"}')
    b.t("]," + ind + '"note": "')
    # a free-text note inside JSON
    b.t("Pt ")
    b.i("NAME", p.last if r.random() < 0.5 else f"{p.first} {p.last}")
    b.t(" seen ")
    g.date(r.choice([0, 3, 5]))
    b.t(", ")
    g.clin(1)
    b.t(". Call ")
    b.i("PHONE", fmt_phone(r, g.cell, r.choice([0, 1, 2])))
    b.t('"' + end + "}" + ("}" if wrap else "") + "\n")


def d_hl7(g):
    b, r = g.b, g.r
    p, d = g.pt, g.docs[0]
    y, m, dd = g.dob
    fac = r.choice(["HOSP", "MGH", "LAKESHORE", "STB"])
    b.t(f"MSH|^~\\&|EPIC|{fac}|LAB|{fac}|")
    b.t(f"{r.randint(2019, 2026)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 23):02d}{r.randint(0, 59):02d}")
    b.t(f"||ADT^A0{r.randint(1, 8)}|MSG{digits(r, 6)}|P|")
    b.c("VERSION", r.choice(["2.3", "2.5.1", "2.4"]))
    b.t("\rPID|1||")
    b.i("MRN", g.mrn.replace("-", ""))
    b.t(f"^^^{fac}^MR||")
    mid = f"^{p.middle}" if p.middle else ""
    b.i("NAME", f"{p.last.upper()}^{p.first.upper()}{mid}")
    b.t("||")
    b.i("DATE", f"{y}{m:02d}{dd:02d}", ((4, 6), (6, 8)))
    b.t(f"|{p.sex}|||")
    b.i("ADDRESS", f"{g.street_no} {g.street}".upper())
    b.t("^^")
    b.i("CITY", g.city.upper())
    b.t(f"^{g.st}^")
    b.i("ZIP", g.zip)
    b.t("||")
    b.i("PHONE", fmt_phone(r, g.phone, r.choice([0, 5, 1, 4])))
    b.t("|||||")
    b.i("ACCOUNT", g.acct.replace("-", ""))
    b.t("|")
    b.i("SSN", f"{g.ssn[:3]}-{g.ssn[3:5]}-{g.ssn[5:]}" if r.random() < 0.6 else g.ssn)
    b.t("\r")
    if r.random() < 0.7:
        b.t("NK1|1|")
        b.i("NAME", f"{g.rel.last.upper()}^{g.rel.first.upper()}")
        b.t(f"|{g.relation.upper()[:3]}||")
        b.i("PHONE", fmt_phone(r, g.cell, r.choice([0, 5, 1])))
        b.t("\r")
    b.t(f"PV1|1|{r.choice('IEO')}|{r.choice(['4W', 'ICU', 'ED'])}^{r.randint(100, 499)}^{r.randint(1, 2)}||||")
    b.i("NPI", g.npi[0])
    b.t("^")
    b.i("NAME", f"{d.last.upper()}^{d.first.upper()}")
    b.t("^^^^MD|||||||||||")
    b.i("ACCOUNT", "V" + digits(r, 8))
    b.t("|||||||||||||||||||||||||")
    s, parts = fmt_date(r, r.randint(2019, 2026), r.randint(1, 12), r.randint(1, 28), 9)
    b.i("DATE", s, parts)
    b.t(f"{r.randint(0, 23):02d}{r.choice(['00', '30'])}\r")
    for k in range(r.randint(1, 4)):
        name, f, lo, hi = r.choice(LABS)
        b.t(f"OBX|{k + 1}|NM|")
        b.c("LOINC", r.choice(LOINC))
        b.t(f"^{name.upper()}^LN||")
        b.c("LAB", f"{r.uniform(lo, hi):.1f}")
        b.t(f"|{f.split(' ', 1)[1] if ' ' in f else ''}|||||F|||")
        s, parts = fmt_date(r, r.randint(2019, 2026), r.randint(1, 12), r.randint(1, 28), 9)
        b.i("DATE", s, parts)
        b.t("\r")
    if r.random() < 0.5:
        b.t("DG1|1|I10|")
        b.c("ICD10", r.choice(ICD))
        b.t("^" + r.choice(DX).upper() + "^I10\r")
    b.t("\n")


def d_csv(g):
    b, r = g.b, g.r
    if r.random() < 0.25:
        return d_lab_csv(g)
    cols = ["name", "dob", "mrn", "phone", "icd10", "cpt", "visit_date", "hba1c"]
    r.shuffle(cols)
    cols = cols[:r.randint(5, 8)]
    for must in ("name", "dob"):
        if must not in cols:
            cols.insert(0, must)
    k = cols.index("name")
    name_style = r.randrange(3)
    cols[k:k + 1] = [["last_name", "first_name"], ["patient_name"], ["patient_name_lf"]][name_style]
    b.t(",".join(c.replace("_lf", "") for c in cols) + "\n")
    for _ in range(r.randint(3, 8)):
        h = G(r) if r.random() < 0.8 else g
        row_started = False
        for c in cols:
            if row_started:
                b.t(",")
            row_started = True
            if c == "patient_name":
                b.i("NAME", f"{h.pt.first} {h.pt.last}")
            elif c == "patient_name_lf":
                b.i("NAME", f'"{h.pt.last}, {h.pt.first}"')
            elif c == "last_name":
                b.i("NAME", h.pt.last)
            elif c == "first_name":
                b.i("NAME", h.pt.first)
            elif c == "dob":
                h.b = b
                h.dob_(r.choice([0, 3, 2]))
            elif c == "mrn":
                b.i("MRN", h.mrn)
            elif c == "phone":
                b.i("PHONE", fmt_phone(r, h.phone, r.choice([1, 0, 2])).replace("(", "").replace(") ", "-"))
            elif c == "icd10":
                b.c("ICD10", r.choice(ICD))
            elif c == "cpt":
                b.c("CPT", r.choice(CPT))
            elif c == "visit_date":
                h.b = b
                h.date(r.choice([0, 3]))
            else:
                b.c("LAB", f"{r.uniform(5.1, 11.0):.1f}")
        b.t("\n")


def d_lab_csv(g):
    """Lab export: one patient header line, then result rows full of clinical values."""
    b, r = g.b, g.r
    b.t("# patient: ")
    emit_name(g, g.pt, r.choice([0, 5]))
    b.t(", MRN ")
    b.i("MRN", g.mrn)
    b.t("\ncollected,test,value,unit,loinc,flag\n")
    for _ in range(r.randint(3, 8)):
        g.date(r.choice([0, 3]))
        name, f, lo, hi = r.choice(LABS)
        unit = f.split(" ", 1)[1] if " " in f else ""
        b.t("," + name + ",")
        b.c("LAB", f"{r.uniform(lo, hi):.1f}")
        b.t("," + unit + ",")
        b.c("LOINC", r.choice(LOINC))
        b.t("," + r.choice(["", "H", "L", "N"]) + "\n")


def d_log(g):
    """Tool output as key=value log lines (EHR audit / integration engine)."""
    b, r = g.b, g.r
    for _ in range(r.randint(3, 7)):
        y, m, d = r.randint(2020, 2026), r.randint(1, 12), r.randint(1, 28)
        b.i("DATE", f"{y}-{m:02d}-{d:02d}", ((5, 7), (8, 10)))
        b.t(f"T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z level=INFO ")
        k = r.randrange(5)
        if k == 0:
            b.t("event=chart_view patient_mrn=")
            b.i("MRN", g.mrn)
            b.t(" src_ip=")
            b.i("IP", ip_(g))
        elif k == 1:
            b.t('event=order_signed provider="')
            emit_doctor(g, g.docs[0], r.choice([0, 1]))
            b.t('" npi=')
            b.i("NPI", g.npi[0])
            b.t(" cpt=")
            b.c("CPT", r.choice(CPT))
        elif k == 2:
            b.t('event=msg_sent to="')
            emit_name(g, g.pt, r.choice([0, 5]))
            b.t('" email=')
            b.i("EMAIL", g.email)
        elif k == 3:
            b.t("event=result_filed loinc=")
            b.c("LOINC", r.choice(LOINC))
            b.t(" value=")
            b.c("LAB", f"{r.uniform(1, 200):.1f}")
            b.t(" client=")
            b.c("VERSION", r.choice(VERSIONS))
        else:
            b.t("event=rx_sent ndc=")
            b.c("NDC", f"{digits(r, 5)}-{digits(r, 4)}-{digits(r, 2)}")
            b.t(" dea=")
            b.i("DEA", g.dea[0])
            b.t(" phone=")
            b.i("PHONE", fmt_phone(r, g.phone, r.choice([1, 4])))
        b.t("\n")


def d_referral2(g):
    """Fax-cover style referral with a To/From/Re header block."""
    b, r = g.b, g.r
    b.t("FAX REFERRAL\nTo: ")
    emit_doctor(g, g.docs[1], r.choice([0, 3]))
    b.t(", " + r.choice(["Cardiology", "Nephrology", "Endocrinology", "Sleep Medicine"]) + "\nFax: ")
    g.phone_(g.fax, kind="FAX")
    b.t("\nFrom: ")
    emit_doctor(g, g.docs[0], r.choice([1, 3]))
    b.t("\nPhone: ")
    g.phone_("617" + g.fax[3:])
    b.t("\nRe: ")
    emit_name(g, g.pt, r.choice([0, 5, 7, 8]))
    b.t(r.choice(["   DOB: ", " / DOB ", ", born "]))
    g.dob_()
    b.t("\nDate sent: ")
    g.date()
    b.t("\nReason: ")
    g.clin(3)
    b.t("; ")
    g.clin(2)
    b.t(". ")
    if g.age90:
        b.t("Patient is ")
        age_(g)
        b.t(". ")
    b.t("Please call ")
    g.phone_(g.cell)
    b.t(" to schedule (ask for " + g.poss + " " + g.relation + " ")
    b.i("NAME", g.rel.first)
    b.t(").\nAddress on file: ")
    g.addr_()
    b.t("\n")


def d_markdown(g):
    """An LLM-style markdown answer (bold labels, tables, bullets) that echoes PHI."""
    b, r = g.b, g.r
    p = g.pt
    b.t(r.choice(["## Visit summary\n\n", "### Patient overview\n", "Here is the summary you asked for:\n\n"]))
    if r.random() < 0.5:
        b.t("| Field | Value |\n|---|---|\n| Patient | ")
        emit_name(g, p, r.choice([0, 4, 5]))
        b.t(" |\n| DOB | ")
        g.dob_()
        b.t(" |\n| MRN | ")
        b.i("MRN", g.mrn)
        b.t(" |\n| Phone | ")
        b.i("PHONE", fmt_phone(r, g.phone))
        b.t(" |\n\n")
    else:
        b.t("**Patient:** ")
        emit_name(g, p, r.choice([0, 4]))
        b.t("  \n**DOB:** ")
        g.dob_()
        b.t("  \n**MRN**: ")
        b.i("MRN", g.mrn)
        b.t("  \n")
    b.t("- **Address:** ")
    g.addr_()
    b.t("\n- **Diagnoses:** ")
    g.clin(3)
    b.t(", ")
    g.clin(3)
    b.t("\n- **Key results:** ")
    g.clin(2)
    b.t("; ")
    g.vitals()
    b.t("\n- **Plan:** continue ")
    g.clin(0)
    b.t(", follow up in ")
    b.c("DURATION", r.choice(DURS))
    b.t(" with ")
    emit_doctor(g, g.docs[0], r.choice([0, 3]))
    b.t(".\n\nThe patient, **")
    emit_name(g, p, 0)
    b.t("**, " + r.choice(["should be reminded to", "was asked to"]) + " call ")
    b.i("PHONE", fmt_phone(r, g.cell, r.choice([0, 1])))
    b.t(".\n")


def d_claim(g):
    b, r = g.b, g.r
    p = g.pt
    b.t("CMS-1500 HEALTH INSURANCE CLAIM FORM\n")
    b.t("1a. INSURED'S ID NUMBER: ")
    b.i("MEMBER_ID", g.member)
    b.t("\n2. PATIENT'S NAME (Last, First, MI): ")
    b.i("NAME", f"{p.last.upper()}, {p.first.upper()}" + (f", {p.middle}" if p.middle else ""))
    b.t("\n3. PATIENT'S BIRTH DATE: ")
    g.dob_(r.choice([0, 10, 2]))
    b.t(f"  SEX: {p.sex}\n5. PATIENT'S ADDRESS: ")
    b.i("ADDRESS", f"{g.street_no} {g.street}".upper() if r.random() < 0.5 else f"{g.street_no} {g.street}")
    b.t("\n   CITY: ")
    b.i("CITY", g.city.upper() if r.random() < 0.5 else g.city)
    b.t(f"  STATE: {g.st}  ZIP CODE: ")
    b.i("ZIP", g.zip)
    b.t("  TELEPHONE: ")
    b.i("PHONE", fmt_phone(r, g.phone, 0))
    b.t("\n4. INSURED'S NAME: ")
    b.i("NAME", f"{p.last.upper()}, {p.first.upper()}")
    b.t("\n11. INSURED'S POLICY GROUP OR FECA NUMBER: ")
    b.i("MEMBER_ID", "G" + digits(r, 6))
    b.t("\n21. DIAGNOSIS OR NATURE OF ILLNESS: A. ")
    b.c("ICD10", r.choice(ICD))
    b.t("  B. ")
    b.c("ICD10", r.choice(ICD))
    b.t("\n24A. DATE(S) OF SERVICE: ")
    g.date(0)
    b.t("  24D. CPT/HCPCS: ")
    b.c("CPT", r.choice(CPT))
    b.t("  24F. CHARGES: $" + f"{r.randint(40, 900)}.00")
    b.t("\n25. FEDERAL TAX I.D. NUMBER: " + f"{digits(r, 2)}-{digits(r, 7)}")
    b.t("  26. PATIENT'S ACCOUNT NO.: ")
    b.i("ACCOUNT", g.acct)
    b.t("\n31. SIGNATURE OF PHYSICIAN: ")
    emit_doctor(g, g.docs[0], r.choice([1, 3, 4]))
    b.t("  DATE: ")
    g.date(r.choice([0, 2]))
    b.t("\n33. BILLING PROVIDER: " + r.choice(HOSP) + ", ")
    b.i("ADDRESS", f"{r.randint(1, 999)} {r.choice(STREETS)} {r.choice(SUFFIX)}")
    b.t(", ")
    g.cityline()
    b.t("  33a. NPI: ")
    b.i("NPI", g.npi[0])
    b.t("\n")


KINDS = [("visit_note", d_visit, 5), ("discharge_summary", d_discharge, 3), ("referral_letter", d_referral, 3),
         ("portal_message", d_portal, 3), ("json_tool_output", d_json, 2), ("hl7_v2", d_hl7, 2),
         ("csv", d_csv, 1), ("claim_form", d_claim, 1), ("fhir_json", d_fhir, 1),
         ("tool_log", d_log, 1), ("referral_fax", d_referral2, 2), ("llm_markdown", d_markdown, 2)]
_KIND_NAMES = [k[0] for k in KINDS]
_KIND_FN = {k[0]: k[1] for k in KINDS}
_KIND_W = [k[2] for k in KINDS]


def generate(seed: int, n_docs: int, kinds: list[str] | None = None) -> list[Doc]:
    r = random.Random(seed)
    out = []
    names = kinds or _KIND_NAMES
    weights = None if kinds else _KIND_W
    for _ in range(n_docs):
        kind = r.choices(names, weights)[0]
        g = G(r)
        _KIND_FN[kind](g)
        out.append(Doc(g.b.text(), kind, g.b.ids, g.b.cl))
    return out


# --------------------------------------------------------------------------- scoring

_TOKEN_RE = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
_ALNUM_RE = re.compile(r"[^0-9A-Za-z]+")
_WORD_RE = re.compile(r"[^\W_]{2,}")


def align(original: str, redacted: str):
    """Return a bytearray `kept` (1 = original char still present) or None if alignment fails."""
    kept = bytearray(len(original))
    pieces = []
    last = 0
    tok_iter = []
    for m in _TOKEN_RE.finditer(redacted):
        pieces.append((False, redacted[last:m.start()]))
        pieces.append((True, None))
        tok_iter.append(slice(m.start(), m.end()))
        last = m.end()
    pieces.append((False, redacted[last:]))
    pos = 0
    pending = False
    for is_tok, lit in pieces:
        if is_tok:
            tok = redacted[tok_iter.pop(0)]
            if not pending and original.startswith(tok, pos):
                lit = tok  # a literal "[I10]" in the original, not a replacement
            else:
                pending = True
                continue
        if not lit:
            continue
        if pending:
            idx = original.find(lit, pos + 1)
            if idx < 0:
                return None
            pos = idx
            pending = False
        elif not original.startswith(lit, pos):
            # a literal "[X]" in the original text would land here; give up
            return None
        kept[pos:pos + len(lit)] = b"\x01" * len(lit)
        pos += len(lit)
    if not pending and pos != len(original):
        return None
    return kept


def _leaked_aligned(idt: Ident, text: str, kept) -> bool:
    s, e = idt.start, idt.end
    if idt.kind in NUMBER_KINDS:
        chars = [i for i in range(s, e) if text[i].isalnum()]
        return bool(chars) and all(kept[i] for i in chars)
    if idt.kind == "DATE":
        return any(all(kept[s + a:s + b]) for a, b in idt.parts)
    if idt.kind == "AGE":
        return all(kept[s:e])
    # words: any token of >= 2 chars fully kept
    if idt.kind == "ADDRESS":
        toks = [m for m in _WORD_RE.finditer(idt.value)
                if m.group().rstrip(".").lower() not in _ADDR_STOP]
    else:
        toks = list(_WORD_RE.finditer(idt.value))
    return any(all(kept[s + m.start():s + m.end()]) for m in toks)


_ADDR_STOP = {s.lower().rstrip(".") for s in SUFFIX} | {"apt", "unit", "suite", "ste", "po", "box", "apartment",
                                                       "fl", "bldg", "north", "n", "s", "e", "w"}


def _leaked_global(idt: Ident, text: str, out: str, out_alnum: str) -> bool:
    if idt.kind in NUMBER_KINDS:
        a = _ALNUM_RE.sub("", idt.value).upper()
        return a in out_alnum
    if idt.kind == "DATE":
        return idt.value in out
    if idt.kind == "AGE":
        return re.search(rf"(?<!\d){idt.value}(?!\d)", out) is not None and text[idt.start:idt.end + 10] in out
    return any(re.search(rf"(?<!\w){re.escape(m.group())}(?!\w)", out) for m in _WORD_RE.finditer(idt.value))


def score(docs, redacted_texts, examples: int = 0) -> dict:
    """Per-kind recall and clinical destruction.  Returns
    {"kinds": {kind: {"n", "caught", "recall"}}, "clinical": {kind: {"n", "destroyed"}},
     "clinical_destroyed_rate", "recall_all", "aligned_docs", "leaks": [(kind, value, doc_kind, context)]}.
    """
    kinds: dict = {}
    clin: dict = {}
    leaks = []
    destroyed_ex = []
    aligned = 0
    for doc, out in zip(docs, redacted_texts):
        text = doc.text
        kept = align(text, out)
        if kept is not None:
            aligned += 1
            out_alnum = None
        else:
            out_alnum = _ALNUM_RE.sub("", out).upper()
        for idt in doc.identifiers:
            k = kinds.setdefault(idt.kind, [0, 0])
            k[0] += 1
            leaked = (_leaked_aligned(idt, text, kept) if kept is not None
                      else _leaked_global(idt, text, out, out_alnum))
            if not leaked:
                k[1] += 1
            elif len(leaks) < 100000:
                leaks.append((idt.kind, idt.value, doc.kind, text[max(0, idt.start - 40):idt.end + 20]))
        for c in doc.clinical:
            k = clin.setdefault(c.kind, [0, 0])
            k[0] += 1
            if kept is not None:
                bad = not all(kept[c.start:c.end])
            else:
                bad = c.value not in out
            if bad:
                k[1] += 1
                destroyed_ex.append((c.kind, c.value, doc.kind, text[max(0, c.start - 40):c.end + 20]))
    n_id = sum(v[0] for v in kinds.values())
    n_ok = sum(v[1] for v in kinds.values())
    n_cl = sum(v[0] for v in clin.values())
    n_bad = sum(v[1] for v in clin.values())
    return {
        "kinds": {k: {"n": v[0], "caught": v[1], "recall": v[1] / v[0] if v[0] else 1.0} for k, v in sorted(kinds.items())},
        "clinical": {k: {"n": v[0], "destroyed": v[1]} for k, v in sorted(clin.items())},
        "recall_all": n_ok / n_id if n_id else 1.0,
        "clinical_destroyed_rate": n_bad / n_cl if n_cl else 0.0,
        "aligned_docs": aligned,
        "n_docs": len(docs),
        "leaks": leaks,
        "destroyed": destroyed_ex,
    }


def format_table(res: dict) -> str:
    lines = [f"{'kind':<12}{'n':>7}{'caught':>8}{'recall':>9}"]
    for k, v in res["kinds"].items():
        lines.append(f"{k:<12}{v['n']:>7}{v['caught']:>8}{v['recall'] * 100:>8.2f}%")
    lines.append(f"{'ALL':<12}{'':>7}{'':>8}{res['recall_all'] * 100:>8.2f}%")
    lines.append(f"{'clinical':<12}{'n':>7}{'destr.':>8}")
    for k, v in res["clinical"].items():
        lines.append(f"{k:<12}{v['n']:>7}{v['destroyed']:>8}")
    lines.append(f"clinical destroyed: {res['clinical_destroyed_rate'] * 100:.3f}%   "
                 f"aligned docs: {res['aligned_docs']}/{res['n_docs']}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import sys
    import time
    t = time.perf_counter()
    ds = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1, int(sys.argv[2]) if len(sys.argv) > 2 else 5)
    el = time.perf_counter() - t
    if len(ds) <= 10:
        for d in ds:
            print("=" * 20, d.kind)
            print(d.text)
    n = sum(len(d.text) for d in ds)
    print(f"{len(ds)} docs, {n / 1e6:.2f} MB in {el:.2f}s", file=sys.stderr)
