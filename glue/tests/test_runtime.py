"""Local argument parsing mirrors Glue's flags, including optional ones and Glue's own extras."""

from __future__ import annotations

import pytest

from glue_pipeline.runtime import _present, parse_local_args


def test_required_optional_and_glue_flags() -> None:
    args = parse_local_args(
        ["--input_path", "in.csv", "--output_path=out", "--job-bookmark-option", "job-bookmark-disable", "--file_id", "f1"],
        required=["input_path", "output_path"],
        optional={"file_id": None, "sample_lines": "20000"},
        default_job_name="FileProcessorV2-local",
    )
    assert args == {
        "JOB_NAME": "FileProcessorV2-local", "JOB_RUN_ID": None, "input_path": "in.csv", "output_path": "out",
        "file_id": "f1", "sample_lines": "20000",
    }


def test_a_missing_required_flag_is_an_error() -> None:
    with pytest.raises(SystemExit):
        parse_local_args(["--output_path", "out"], required=["input_path"], optional={}, default_job_name="j")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["--file_id", "x"], True), (["--file_id=x"], True), (["--file_ids", "x"], False), (["x", "file_id"], False)],
)
def test_optional_flags_are_detected_before_asking_glue_for_them(argv: list[str], expected: bool) -> None:
    assert _present("file_id", argv) is expected
