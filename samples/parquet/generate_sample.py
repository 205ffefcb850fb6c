#!/usr/bin/env python3
"""Writes yellow_tripdata_2024-01.parquet: 20 NYC yellow-taxi trips in TLC's 2024 file layout, 5 of them bad.

Deterministic (no randomness), so the committed file and expected.json can be regenerated and compared:
    .venv/bin/python samples/parquet/generate_sample.py

Column types follow TLC's 2024 files (VendorID int32, timestamp[us] without zone, passenger_count int64,
``Airport_fee`` capitalised as TLC spells it since 2023 — the job matches names case-insensitively).
The bad rows, one per data-quality rule plus one breaking two:
    row 16 VendorID null                        -> null_key
    row 17 drop-off 10 minutes before pick-up   -> dropoff_before_pickup
    row 18 fare_amount and total_amount < 0     -> negative_amount
    row 19 trip_distance < 0                    -> negative_distance
    row 20 PULocationID null and tip_amount < 0 -> null_key (detail: null_key,negative_amount)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
FILE = HERE / "yellow_tripdata_2024-01.parquet"

SCHEMA = pa.schema(
    [
        ("VendorID", pa.int32()),
        ("tpep_pickup_datetime", pa.timestamp("us")),
        ("tpep_dropoff_datetime", pa.timestamp("us")),
        ("passenger_count", pa.int64()),
        ("trip_distance", pa.float64()),
        ("RatecodeID", pa.int64()),
        ("store_and_fwd_flag", pa.string()),
        ("PULocationID", pa.int32()),
        ("DOLocationID", pa.int32()),
        ("payment_type", pa.int64()),
        ("fare_amount", pa.float64()),
        ("extra", pa.float64()),
        ("mta_tax", pa.float64()),
        ("tip_amount", pa.float64()),
        ("tolls_amount", pa.float64()),
        ("improvement_surcharge", pa.float64()),
        ("total_amount", pa.float64()),
        ("congestion_surcharge", pa.float64()),
        ("Airport_fee", pa.float64()),
    ]
)


def trip(i: int) -> dict:
    pickup = datetime(2024, 1, 15, 6, 0) + timedelta(minutes=37 * i)
    distance = round(0.8 + 0.45 * i, 2)
    fare = round(3.0 + 2.5 * distance, 2)
    tip = round(fare * 0.18, 2) if i % 3 else 0.0
    airport = 1.75 if i % 7 == 0 else 0.0
    total = round(fare + 1.0 + 0.5 + tip + 1.0 + 2.5 + airport, 2)
    return {
        "VendorID": 1 + i % 2,
        "tpep_pickup_datetime": pickup,
        "tpep_dropoff_datetime": pickup + timedelta(minutes=6 + 2 * i),
        "passenger_count": None if i == 9 else 1 + i % 4,  # TLC leaves it null on some rows; not a key
        "trip_distance": distance,
        "RatecodeID": 1,
        "store_and_fwd_flag": "Y" if i == 4 else "N",
        "PULocationID": 132 + i,
        "DOLocationID": 236 - i,
        "payment_type": 1 if i % 3 else 2,
        "fare_amount": fare,
        "extra": 1.0,
        "mta_tax": 0.5,
        "tip_amount": tip,
        "tolls_amount": 0.0,
        "improvement_surcharge": 1.0,
        "total_amount": total,
        "congestion_surcharge": 2.5,
        "Airport_fee": None if i == 11 else airport,
    }


def rows() -> list[dict]:
    out = [trip(i) for i in range(1, 16)]
    bad = [trip(i) for i in range(16, 21)]
    bad[0]["VendorID"] = None
    bad[1]["tpep_dropoff_datetime"] = bad[1]["tpep_pickup_datetime"] - timedelta(minutes=10)
    bad[2]["fare_amount"], bad[2]["total_amount"] = -12.5, -5.5
    bad[3]["trip_distance"] = -1.2
    bad[4]["PULocationID"], bad[4]["tip_amount"] = None, -2.0
    return out + bad


EXPECTED = {
    FILE.name: {
        "rows_in": 20,
        "record_count": 15,
        "rows_quarantined": 5,
        "quarantine_reasons": {"null_key": 2, "dropoff_before_pickup": 1, "negative_amount": 1, "negative_distance": 1},
        "rule_violations": {"null_key": 2, "dropoff_before_pickup": 1, "negative_amount": 2, "negative_distance": 1},
    }
}


def main() -> None:
    table = pa.Table.from_pylist(rows(), schema=SCHEMA)
    pq.write_table(table, FILE, compression="snappy")
    (HERE / "expected.json").write_text(json.dumps(EXPECTED, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {FILE} ({table.num_rows} rows) and expected.json")


if __name__ == "__main__":
    main()
