"""Writes the bundled claims sample files (deterministic: same bytes on every run).

    .venv/bin/python samples/claims/generate_samples.py

* ``claims_2024_03.csv`` passes validation: 80 records, of which 4 are bad (one each: malformed row,
  NPI check digit, negative amount, service after paid; quality score 95.00) and one claim appears in two
  versions. It mixes the three accepted date formats, a lowercase claim type and ICD-10 codes with and
  without the dot, which the job standardises.
* ``claims_2024_04.csv`` passes: 24 records, all valid, with an extra free-text ``remarks`` column whose
  quoted values hold commas, doubled quotes and a line break (the extra column is dropped by the job).
* ``claims_2024_05_rejected.csv`` fails validation: 20 records, 8 of them bad (quality score 60.00), so the
  whole file is quarantined.

``expected.json`` lists, per file, the rule failures of every bad record by line number: the validation
Lambda's tests and the Glue job's tests both check their verdicts against it.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = [
    "claim_id", "claim_version", "patient_id", "provider_npi", "claim_type", "service_date", "paid_date",
    "diagnosis_code", "procedure_code", "billed_amount", "allowed_amount", "paid_amount", "units",
    "claim_status", "place_of_service",
]
DIAGNOSES = ["E11.9", "I10", "J44.1", "M54.5", "Z00.00", "N18.3", "C50.911", "F32.9", "K21.9", "R07.9", "U07.1", "S52.501A"]
PROCEDURES = ["99213", "99214", "80053", "71046", "93000", "36415", "J1100", "G0439", "0001F", "0042T", "27447", "00140", "81001", "97110"]
TYPES = ["PROFESSIONAL", "INSTITUTIONAL", "DENTAL", "PHARMACY"]
PLACES = ["11", "21", "22", "23", "81"]


def npi_with_check_digit(base9: str) -> str:
    total = 24
    for i, ch in enumerate(base9):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return base9 + str((10 - total % 10) % 10)


NPIS = [npi_with_check_digit(b) for b in ["123456789", "198765432", "145678123", "176543210", "112233445", "287654321"]]


def claim(rng: random.Random, number: int, month: int, version: int = 1) -> dict[str, str]:
    service = date(2024, month, rng.randint(1, 28))
    status = rng.choice(["PAID", "PAID", "PAID", "DENIED", "PENDING", "ADJUSTED"])
    billed = rng.choice([rng.randint(5000, 40000), rng.randint(40000, 300000), rng.randint(1_000_000, 2_500_000)]) / 100
    allowed = round(billed * rng.uniform(0.5, 1.0), 2)
    paid = round(allowed * rng.uniform(0.6, 1.0), 2) if status in ("PAID", "ADJUSTED") else 0.0
    paid_date = service + timedelta(days=rng.randint(5, 120)) if status in ("PAID", "ADJUSTED", "DENIED") else None
    return {
        "claim_id": f"CLM-2024{month:02d}-{number:05d}",
        "claim_version": str(version),
        "patient_id": f"PAT-{rng.randint(1, 400):05d}",
        "provider_npi": rng.choice(NPIS),
        "claim_type": rng.choice(TYPES),
        "service_date": service.isoformat(),
        "paid_date": paid_date.isoformat() if paid_date else "",
        "diagnosis_code": rng.choice(DIAGNOSES),
        "procedure_code": rng.choice(PROCEDURES),
        "billed_amount": f"{billed:.2f}",
        "allowed_amount": f"{allowed:.2f}",
        "paid_amount": f"{paid:.2f}" if status in ("PAID", "ADJUSTED", "DENIED") else "",
        "units": str(rng.randint(1, 4)),
        "claim_status": status,
        "place_of_service": rng.choice(PLACES),
    }


def csv_line(values: list[str]) -> str:
    out = []
    for v in values:
        if any(c in v for c in ',"\n\r'):
            v = '"' + v.replace('"', '""') + '"'
        out.append(v)
    return ",".join(out)


def march() -> tuple[str, dict[str, list[str]]]:
    rng = random.Random(202403)
    rows = [claim(rng, n, 3) for n in range(1, 80)]
    # Standardisation cases: other date formats, lowercase type, ICD-10 without the dot.
    rows[2]["service_date"] = "03/05/2024"
    rows[3]["service_date"] = "20240307"
    rows[4]["claim_type"] = "professional"
    rows[5]["diagnosis_code"] = "e119"
    # A second version of claim 10 (an adjustment): the job keeps it and quarantines the first as superseded.
    adjusted = dict(rows[9], claim_version="2", claim_status="ADJUSTED")
    rows.insert(40, adjusted)
    expected: dict[str, list[str]] = {}
    lines = [",".join(COLUMNS)]
    for i, row in enumerate(rows):
        lines.append(csv_line([row[c] for c in COLUMNS]))
    # The four bad records (line numbers are 1-based, the header is line 1).
    bad = {
        12: ("provider_npi", "1234567890", ["INVALID_NPI_CHECK_DIGIT:provider_npi"]),
        25: ("billed_amount", "-125.00", ["NEGATIVE_AMOUNT:billed_amount"]),
        51: ("service_date", "2024-03-28", None),
    }
    for line_no, (col, value, rules) in bad.items():
        row = rows[line_no - 2]
        row[col] = value
        if col == "billed_amount":
            row["allowed_amount"], row["paid_amount"] = "", ""
        if col == "service_date":
            row["paid_date"], row["claim_status"] = "2024-03-20", "PAID"
            rules = ["SERVICE_AFTER_PAID:service_date"]
        lines[line_no - 1] = csv_line([row[c] for c in COLUMNS])
        expected[str(line_no)] = rules
    # A record cut short by the export: too few fields.
    lines[66 - 1] = ",".join([rows[64][c] for c in COLUMNS[:9]])
    expected["66"] = ["MALFORMED_ROW"]
    return "\n".join(lines) + "\n", expected


def april() -> tuple[str, dict[str, list[str]]]:
    rng = random.Random(202404)
    lines = [",".join(COLUMNS + ["remarks"])]
    remarks = ["", "resubmitted, corrected modifier", 'patient said "no prior visit"', "two-line note:\nsee attachment", ""]
    for n in range(1, 25):
        row = claim(rng, n, 4)
        lines.append(csv_line([row[c] for c in COLUMNS] + [remarks[n % len(remarks)]]))
    return "\r\n".join(lines) + "\r\n", {}


def may() -> tuple[str, dict[str, list[str]]]:
    rng = random.Random(202405)
    rows = [claim(rng, n, 5) for n in range(1, 21)]
    expected: dict[str, list[str]] = {}
    breaks = [
        ("service_date", "2024-13-01", "INVALID_DATE:service_date"),
        ("service_date", "31/05/2024", "INVALID_DATE:service_date"),
        ("claim_type", "VISION", "UNKNOWN_CLAIM_TYPE:claim_type"),
        ("patient_id", "", "MISSING_REQUIRED_FIELD:patient_id"),
        ("diagnosis_code", "999.9", "INVALID_FORMAT:diagnosis_code"),
        ("procedure_code", "ABCDE", "INVALID_FORMAT:procedure_code"),
        ("billed_amount", "12,50", "INVALID_DECIMAL:billed_amount"),
        ("units", "0", "NON_POSITIVE_COUNT:units"),
    ]
    for i, (col, value, rule) in enumerate(breaks):
        index = 2 * i + 1
        rows[index][col] = value
        expected[str(index + 2)] = [rule]
    lines = [",".join(COLUMNS)] + [csv_line([r[c] for c in COLUMNS]) for r in rows]
    return "\n".join(lines) + "\n", expected


def main() -> None:
    expected = {}
    for name, build in [("claims_2024_03.csv", march), ("claims_2024_04.csv", april), ("claims_2024_05_rejected.csv", may)]:
        text, bad = build()
        (HERE / name).write_bytes(text.encode("utf-8"))
        expected[name] = bad
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
