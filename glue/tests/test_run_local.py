"""`npm run local -- NAME` passes names through unexpanded (issue: data fidelity, item 6).

npm appends the arguments after ``--`` to the script's command line and runs it with ``sh -c``; its quoting
leaves ``[``, ``]``, ``{`` and ``}`` bare, so without ``set -f`` in the script the shell globbed ``r[1].csv``
into ``r1.csv`` before run_local.py ever saw it. This runs the real ``npm run local`` (a separate process,
its own Spark) on a file whose bracketed name matches a neighbour holding other rows.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

from conftest import REPO_ROOT


def test_npm_run_local_processes_the_file_named_not_the_files_its_name_would_match(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    named = tmp_path / f"k[1]-{tag}.csv"
    neighbour = tmp_path / f"k1-{tag}.csv"  # what the shell's glob of the name matches
    named.write_bytes(b"v\nown\n")
    neighbour.write_bytes(b"v\nneighbour\nneighbour\nneighbour\n")
    out_dir = REPO_ROOT / ".local-output" / "file-processor" / named.stem
    try:
        done = subprocess.run(
            ["npm", "run", "--silent", "local", "--", "--job", "file-processor", str(named)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert f"ok   {named.name}: rows in 1, written 1, quarantined 0" in done.stdout, done.stdout
        assert neighbour.name not in done.stdout
        assert out_dir.is_dir(), "the output is named after the file given"
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.rmtree(REPO_ROOT / ".local-output" / "file-processor" / neighbour.stem, ignore_errors=True)
