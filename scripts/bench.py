#!/usr/bin/env python3
"""`npm run bench`: CSV -> Snappy Parquet throughput of FileProcessorV2 on local Spark against DuckDB and pyarrow.

    .venv/bin/python scripts/bench.py                 # ~100 MB and ~1 GB
    .venv/bin/python scripts/bench.py --sizes 100     # a quick run

Inputs are generated once and cached under .bench/: realistic sales orders (ints, dates, timestamps, doubles,
booleans, unicode names, quoted commas, escaped quotes, a note with a line break in 1 row of 1000) plus a few
ragged rows, so every engine meets the same malformed rows. Each engine converts each file:

* spark:   file_processor.main, the Glue job's own entry point (schema inference, quarantine, reconciliation,
           the count read back from the written Parquet), in one local SparkSession warmed up on a sample;
* duckdb:  COPY (SELECT * FROM read_csv(..., store_rejects)) TO parquet (snappy), rejected rows kept aside;
* pyarrow: pyarrow.csv streaming reader (newlines_in_values, invalid rows handed to a handler) -> ParquetWriter;
* fast:    glue_pipeline.csv_fast.convert_csv_file, the fast path's engine (DuckDB under the Spark path's rules:
           the same layout, value checks, quarantine and reconciliation), as the converter Lambda runs it.

MB/s is input megabytes (10^6 bytes) per wall-clock second. The last line holds the ratios (the fast path's
goal: fast/duckdb >= 0.5x on 100 MB, docs/fast-path.md).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "glue" / "lib"), str(ROOT / "glue" / "jobs")]
BENCH_DIR = ROOT / ".bench"
GENERATOR_VERSION = "v1"
BYTES_PER_ROW = 101.7  # measured average of the generated rows
RAGGED_ROWS = (
    "900000001,2024-01-01,2024-01-01 00:00:00,1,Short Row,DE,SKU-000001",
    "900000002,2024-01-01,2024-01-01 00:00:00,2,Long Row,DE,SKU-000002,1,1.0,0.0,false,note,unexpected,extra",
)
THREADS = os.cpu_count() or 2


@dataclass(frozen=True)
class Measurement:
    engine: str
    size_label: str
    input_bytes: int
    seconds: float
    rows_written: int
    rows_rejected: int
    output_bytes: int
    cpu_seconds: float

    @property
    def mb_per_s(self) -> float:
        return self.input_bytes / 1e6 / self.seconds


def _rows_query(first: int, last: int) -> str:
    return f"""
SELECT
  i AS order_id,
  DATE '2023-01-01' + CAST(i % 730 AS INTEGER) AS order_date,
  TIMESTAMP '2023-01-01 00:00:00' + to_seconds(CAST((i * 7919) % 63072000 AS BIGINT)) AS ordered_at,
  CAST(1 + (i * 31) % 250000 AS INTEGER) AS customer_id,
  (['Smith, John','Zoë Müller','José Álvarez','Ana Lima','李雷','Øyvind Ærø','O''Brien, Seán',
    'Acme "Wholesale" Ltd','Dubois','Nakamura Ken'])[1 + (i % 10)] AS customer_name,
  (['GB','DE','ES','PT','CN','NO','IE','US','FR','JP'])[1 + (i % 10)] AS country,
  'SKU-' || lpad(CAST((i * 13) % 50000 AS VARCHAR), 6, '0') AS product_sku,
  CAST(1 + (i % 9) AS INTEGER) AS quantity,
  round(1 + ((i * 37) % 99999) / 100.0, 2) AS unit_price,
  round(((i * 17) % 30) / 100.0, 2) AS discount,
  (i % 7 = 0) AS is_gift,
  CASE WHEN i % 1000 = 0 THEN 'Leave at the door,' || chr(10) || 'ring twice'
       WHEN i % 5 = 0 THEN 'Deliver after 5pm, side entrance'
       WHEN i % 11 = 0 THEN 'Geschenkverpackung – bitte ohne Preis'
       ELSE NULL END AS notes
FROM range({first}, {last} + 1) t(i)
"""


def generate(size_mb: int) -> Path:
    """Writes (once) a CSV of about size_mb MB: two DuckDB COPYs with ragged rows between and after them."""
    target = BENCH_DIR / f"sales_orders_{size_mb}mb_{GENERATOR_VERSION}.csv"
    if target.exists():
        return target
    import duckdb  # noqa: PLC0415 - a benchmark-only dependency (glue/requirements-bench.txt)

    BENCH_DIR.mkdir(exist_ok=True)
    rows = int(size_mb * 1e6 / BYTES_PER_ROW)
    split = rows // 3
    parts = [BENCH_DIR / "part_a.csv", BENCH_DIR / "part_b.csv"]
    started = time.monotonic()
    con = duckdb.connect()
    con.execute(f"SET threads={THREADS}")
    con.execute("SET preserve_insertion_order=false")
    con.execute(f"COPY ({_rows_query(1, split)}) TO '{parts[0]}' (HEADER true, DELIMITER ',')")
    con.execute(f"COPY ({_rows_query(split + 1, rows)}) TO '{parts[1]}' (HEADER false, DELIMITER ',')")
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        with parts[0].open("rb") as part:
            shutil.copyfileobj(part, out, 16 << 20)
        out.write((RAGGED_ROWS[0] + "\n").encode())
        with parts[1].open("rb") as part:
            shutil.copyfileobj(part, out, 16 << 20)
        out.write((RAGGED_ROWS[1] + "\n").encode())
    partial.rename(target)
    for part in parts:
        part.unlink()
    print(f"generated {target.name}: {target.stat().st_size / 1e6:.0f} MB, {rows + 2} rows in {time.monotonic() - started:.1f} s")
    return target


def _dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_spark(source: Path, out: Path) -> tuple[int, int]:
    import file_processor  # noqa: PLC0415

    with contextlib.redirect_stdout(io.StringIO()):
        summary = file_processor.main(
            [
                "--input_path", str(source),
                "--output_path", str(out / "data"),
                "--quarantine_path", str(out / "quarantine"),
                "--source_file", source.name,
            ]
        )
    assert summary["rows_in"] == summary["record_count"] + summary["rows_quarantined"]
    return summary["record_count"], summary["rows_quarantined"]


def run_duckdb(source: Path, out: Path) -> tuple[int, int]:
    import duckdb  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads={THREADS}")
    written = con.execute(
        f"COPY (SELECT * FROM read_csv('{source}', header=true, store_rejects=true)) "
        f"TO '{out / 'data.parquet'}' (FORMAT parquet, COMPRESSION snappy)"
    ).fetchone()
    # reject_errors has one entry per error; a row can have several.
    rejected = con.execute("SELECT count(DISTINCT (file_id, line)) FROM reject_errors").fetchone()
    return int(written[0]) if written else -1, int(rejected[0]) if rejected else -1


def run_fast(source: Path, out: Path) -> tuple[int, int]:
    from datetime import datetime, timezone  # noqa: PLC0415

    from glue_pipeline.csv_fast import convert_csv_file  # noqa: PLC0415

    result = convert_csv_file(
        source, out / "data", out / "quarantine", source_file=source.name, processing_job="bench",
        processed_at=datetime.now(timezone.utc), temp_dir=out / "tmp",
    )
    assert result.rows_in == result.rows_written + result.rows_quarantined
    return result.rows_written, result.rows_quarantined


def run_pyarrow(source: Path, out: Path) -> tuple[int, int]:
    import pyarrow.csv as pacsv  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    rejected: list[str] = []

    def keep_aside(row: pacsv.InvalidRow) -> str:
        rejected.append(row.text)
        return "skip"

    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=16 << 20, use_threads=True),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep_aside),
    )
    written = 0
    with pq.ParquetWriter(out / "data.parquet", reader.schema, compression="snappy") as writer:
        for batch in reader:
            writer.write_batch(batch)
            written += batch.num_rows
    return written, len(rejected)


ENGINES: dict[str, Callable[[Path, Path], tuple[int, int]]] = {
    "duckdb": run_duckdb,
    "fast": run_fast,
    "pyarrow": run_pyarrow,
    "spark": run_spark,
}


def _cpu_seconds() -> float:
    """CPU time of this process (all threads) plus the local Spark JVM, which is a child process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):
        for pid in subprocess.run(["pgrep", "-P", str(os.getpid()), "java"], capture_output=True, text=True).stdout.split():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure(engine: str, source: Path, size_label: str) -> Measurement:
    out = BENCH_DIR / "out" / engine / size_label
    shutil.rmtree(out, ignore_errors=True)
    cpu_before = _cpu_seconds()
    started = time.monotonic()
    written, rejected = ENGINES[engine](source, out)
    seconds = time.monotonic() - started
    cpu = _cpu_seconds() - cpu_before
    result = Measurement(engine, size_label, source.stat().st_size, seconds, written, rejected, _dir_size(out), cpu)
    print(
        f"{engine:<8} {size_label:>7}: {seconds:7.1f} s  {result.mb_per_s:7.1f} MB/s  cpu {cpu:6.1f} s"
        f"  rows written {written:,}  rejected {rejected}  parquet {result.output_bytes / 1e6:.0f} MB"
        f"  (load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return result


def run_bundle_benchmark() -> None:
    script = ROOT / "scripts" / "benchBundle.ts"
    ts_node = ROOT / "node_modules" / ".bin" / "ts-node"
    if not script.exists():
        print("bundle benchmark: skipped (scripts/benchBundle.ts does not exist yet)")
        return
    completed = subprocess.run(
        [str(ts_node), "--transpile-only", str(script)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    sys.stdout.write(completed.stdout)
    sys.stderr.write(completed.stderr)
    if completed.returncode != 0:
        print(f"bundle benchmark: exited with {completed.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000", help="comma-separated input sizes in MB (default 100,1000)")
    parser.add_argument("--engines", default="spark,duckdb,fast,pyarrow", help="subset of spark,duckdb,fast,pyarrow")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    engines = [e for e in ("spark", "duckdb", "fast", "pyarrow") if e in args.engines.split(",")]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other processes compete for the same cores)")

    inputs = {f"{size}MB": generate(size) for size in sizes}
    results: list[Measurement] = []
    for engine in ("duckdb", "fast", "pyarrow"):
        if engine in engines:
            results += [measure(engine, source, label) for label, source in inputs.items()]

    run_bundle_benchmark()
    if "spark" in engines:
        from glue_pipeline.runtime import local_spark_session  # noqa: PLC0415

        started = time.monotonic()
        local_spark_session("bench")
        with contextlib.redirect_stdout(io.StringIO()):  # JIT warm-up, so the first size is not penalised
            run_spark(ROOT / "samples" / "csv" / "sales_orders.csv", BENCH_DIR / "out" / "warmup")
        print(f"spark: session started and warmed up in {time.monotonic() - started:.1f} s")
        results += [measure("spark", source, label) for label, source in inputs.items()]

    by_key = {(r.engine, r.size_label): r for r in results}
    ratios = []
    for label in inputs:
        spark = by_key.get(("spark", label))
        for other in ("duckdb", "pyarrow"):
            base = by_key.get((other, label))
            if spark and base:
                ratios.append(f"{label} spark/{other} throughput {spark.mb_per_s / base.mb_per_s:.2f}x")
        fast, duckdb = by_key.get(("fast", label)), by_key.get(("duckdb", label))
        if fast and duckdb:
            ratios.append(f"{label} fast/duckdb throughput {fast.mb_per_s / duckdb.mb_per_s:.2f}x")
    print("ratios: " + (" | ".join(ratios) if ratios else "need spark or fast, and duckdb or pyarrow"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
