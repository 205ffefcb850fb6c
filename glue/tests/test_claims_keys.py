"""The claims job reads its key literally, like the file jobs (issue: data fidelity, item 6).

The claims validation Lambda accepts keys holding ``*?[]{}`` and ``\\`` (only path tricks are REJECTED), so the
claims job must read exactly that object: each hostile name sits next to a neighbour its pattern would match,
and the neighbour holds bytes that are not UTF-8, so reading it (the glob) would reject a clean file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from glue_pipeline.claims_job import non_utf8_lines

HOSTILE = ["r[1].csv", "s*.csv", "q?.csv", "a{b,c}.csv", "[!x]{}.csv"]
NEIGHBOURS = ["r1.csv", "sx.csv", "qz.csv", "ab.csv", "ac.csv", "y{}.csv"]


@pytest.mark.parametrize("name", HOSTILE)
def test_the_encoding_check_reads_only_the_file_named(spark: SparkSession, tmp_path: Path, name: str) -> None:
    for neighbour in NEIGHBOURS:
        (tmp_path / neighbour).write_bytes(b"claim_id\n\xff\xfe latin-1 or worse\n")
    (tmp_path / name).write_bytes("claim_id\nCLM-1 café\n".encode("utf-8"))

    assert non_utf8_lines(spark, str(tmp_path / name)) == 0


def test_the_encoding_check_still_finds_bad_bytes_in_the_file_named(spark: SparkSession, tmp_path: Path) -> None:
    # The literal read is not a read of nothing: the file's own bad line is counted.
    (tmp_path / "r[1].csv").write_bytes(b"claim_id\nok\n\xff bad\n")
    assert non_utf8_lines(spark, str(tmp_path / "r[1].csv")) == 1
