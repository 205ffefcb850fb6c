"""Where a file run may write: path checks that need no Spark (keys are data, issue: data fidelity).

Hadoop's Path normalises ``.``/``..`` segments and S3 treats ``//`` as an empty-named folder, so a path holding
them could write somewhere its text does not say; every path a run writes, moves or deletes must lie under
the prefixes it owns for its file. Both engines ask the same questions: the Spark file jobs through
``hadoop_fs`` (which re-exports these), the fast path's converter directly, on S3 keys.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

# What a run-scoped path must avoid so that every later read of it is literal without escaping: the glob
# characters, and ':' (Hadoop's Path parses "a:b" in a relative child name as a URI scheme and fails).
_UNSAFE_IN_SCRATCH = re.compile(r"[\\*?\[\]{}:]")


class PathOutsideScopeError(RuntimeError):
    """A write or delete aimed outside the prefixes this run owns for its file."""


def _split_uri(path: str) -> tuple[str, str]:
    """(``scheme://authority`` or "", the path part)."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/]*)(/.*)?$", path)
    if match:
        return match.group(1), match.group(2) or "/"
    return "", path


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be trusted to mean what its text says, or None.

    Hadoop's Path normalises ``.`` and ``..`` segments (``processed/x/../../`` is the bucket root) and S3
    treats ``//`` as an empty-named folder, so a path holding any of them is refused rather than resolved.
    """
    _, rest = _split_uri(path)
    segments = rest.split("/")
    inner = segments[1:-1] if rest.startswith("/") else segments[:-1]
    # Every segment but the leading root and a trailing slash must be a real name.
    for segment in inner + ([segments[-1]] if segments[-1] else []):
        if segment in (".", ".."):
            return f"path {path!r} has a '{segment}' segment"
        if segment == "":
            return f"path {path!r} has an empty segment ('//')"
    return None


def is_within(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` itself or lies below it (both taken literally, no normalisation)."""
    prefix = prefix.rstrip("/")
    return path.rstrip("/") == prefix or path.startswith(prefix + "/")


_SCOPE: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar("write_scope", default=None)


@contextmanager
def write_scope(prefixes: Iterable[str]) -> Iterator[tuple[str, ...]]:
    """Within the block, :func:`delete_path` and :func:`rename_path` refuse any path outside ``prefixes``
    (see :func:`assert_in_scope`). A file job opens one around its conversion and publication."""
    scope = tuple(prefixes)
    for prefix in scope:
        problem = path_problem(prefix)
        if problem:
            raise PathOutsideScopeError(problem)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def assert_in_scope(path: str) -> None:
    """Raises PathOutsideScopeError unless ``path`` is clean and under the active write scope (if any)."""
    scope = _SCOPE.get()
    if scope is None:
        return
    problem = path_problem(path)
    if problem:
        raise PathOutsideScopeError(problem)
    if not any(is_within(path, prefix) for prefix in scope):
        raise PathOutsideScopeError(f"refusing to write or delete {path!r}: outside this run's prefixes {list(scope)}")


def scratch_root(path: str) -> str:
    """The nearest ancestor of ``path`` (a directory, ending with '/') whose text needs no escaping: no glob
    characters, no ':' beyond the scheme's. A run's staging prefix goes under it, so Spark can write and
    read back its output there with plain paths whatever characters the key held."""
    base, rest = _split_uri(path)
    segments = [s for s in rest.split("/") if s]
    kept: list[str] = []
    for segment in segments[:-1]:
        if _UNSAFE_IN_SCRATCH.search(segment):
            break
        kept.append(segment)
    lead = "/" if rest.startswith("/") else ""
    return base + lead + "".join(s + "/" for s in kept) if kept else base + lead
