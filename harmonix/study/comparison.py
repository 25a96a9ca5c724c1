"""The output folder of ``harmonix compare``: analyses kept as they complete, results replaced as a set.

``OUT/analysis/`` holds one analysis per recording, written by
:func:`harmonix.study.batch.run_batch` (so an interruption or a bad
recording costs only that recording, and a re-run resumes). The comparison
itself (``comparison.csv``, ``comparison_windows.csv``, ``sessions.csv``,
``session_table.csv``, ``report.html``, ``params.json``) is staged and
renamed into ``OUT`` file by file, ``params.json`` (which carries the
provenance record) removed first and renamed last: results without their
``params.json`` are never taken as complete.

A comparison is up to date when its parameters, harmonix version and the
analyses it read (SHA-256 of their metrics tables) are those of this run and
no recording had failed; it is replaced without ``--overwrite`` when only the
set of analyses changed (a re-run finishing what failed or was missing), and
only with ``--overwrite`` when its parameters or the version differ.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from harmonix import __version__
from harmonix.errors import OutputError
from harmonix.study.provenance import RECORD_KEY, _canonical, differences
from harmonix.tables import OUTPUT_MARKER, STAGING_SUFFIX, _check_replaceable, file_sha256, uninterruptible

RESULT_FILES = ("comparison.csv", "comparison_windows.csv", "sessions.csv", "session_table.csv", "report.html")
"""Files of a comparison besides ``params.json``."""


def _dataset_root(path: Path) -> Path | None:
    """The BIDS dataset (raw or derivatives) a file belongs to."""
    for parent in path.parents:
        if (parent / "dataset_description.json").is_file():
            return parent
    return None


def check_out(out: str | PathLike, inputs: Sequence[str | PathLike] = ()) -> None:
    """Refuse, before any work, an ``--out`` the comparison must not write into (nothing is written).

    Refused: a file; a folder harmonix did not write (or the current folder);
    an input, or a folder inside an input (an analysis folder, a directory
    recording) or inside the BIDS dataset an input belongs to (outside its
    ``derivatives/``, for a raw dataset); the folder that holds an input (a
    recording, or an analysis output), whose ``params.json`` and other files
    the comparison's would replace or mix with.
    """
    out = Path(out)
    _check_replaceable(out)
    resolved = out.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if resolved == source:
            raise OutputError(f"--out {out}: is an input of this comparison ({given}); choose another output folder")
        if source.is_dir() and source in resolved.parents:
            raise OutputError(f"--out {out}: is inside the input {given}; write the comparison outside its inputs")
        if source.parent == resolved:
            raise OutputError(f"--out {out}: holds the input {given}; the comparison's files (params.json, ...) "
                              "would be written beside it: choose another output folder")
        dataset = _dataset_root(source)
        if dataset is not None and dataset in resolved.parents:
            from harmonix.study.inputs import is_derivatives_root

            if is_derivatives_root(dataset) or (dataset / "derivatives") not in resolved.parents:
                raise OutputError(f"--out {out}: is inside the BIDS dataset {dataset} that {given} belongs to; "
                                  "write the comparison outside it")


def mark_out(out: str | PathLike) -> None:
    """Create ``out`` as a harmonix output folder (just before the first file is written into it)."""
    out = Path(out)
    try:
        with uninterruptible():
            out.mkdir(parents=True, exist_ok=True)
            marker = out / OUTPUT_MARKER
            if not marker.exists():
                marker.touch()
    except OSError as err:
        raise OutputError(f"{out}: cannot create the output folder ({err.strerror})") from err


def existing_record(out: str | PathLike) -> dict | None:
    """The provenance record of the comparison in ``out`` (None when there is none)."""
    try:
        params = json.loads((Path(out) / "params.json").read_text())
    except (OSError, ValueError):
        return None
    return (params.get(RECORD_KEY) or {}) if isinstance(params, dict) else {}


def check_parameters(out: str | PathLike, parameters: Mapping[str, Any], *, overwrite: bool) -> None:
    """Refuse, before any work, to replace a comparison made with other parameters or another version."""
    old = existing_record(out)
    if old is None or overwrite:
        return
    probe = {"harmonix_version": __version__, "inputs": old.get("inputs", {}), "parameters": _canonical(dict(parameters))}
    changed = differences(old, probe)
    if changed:
        raise OutputError(f"{out}: holds a comparison made differently ({'; '.join(changed[:3])}); "
                          "pass --overwrite to replace it")


def make_record(parameters: Mapping[str, Any], metrics_files: Sequence[str | PathLike], *, complete: bool) -> dict:
    """The provenance record of a comparison of these analyses (their metrics tables hashed)."""
    return {"harmonix_version": __version__, "inputs": {str(f): file_sha256(f) for f in metrics_files},
            "parameters": _canonical(dict(parameters)), "complete": bool(complete)}


def _inputs_by_path(record: Mapping) -> dict[str, str]:
    return dict(record.get("inputs", {}))


def is_up_to_date(out: str | PathLike, record: Mapping) -> bool:
    """True when ``out`` holds a complete comparison with exactly this record."""
    old = existing_record(out)
    if not old or not old.get("complete") or not (Path(out) / "comparison.csv").is_file():
        return False
    # Analyses are matched by path here: the same file names can occur in several subjects' folders.
    return (_inputs_by_path(old) == _inputs_by_path(record) and old.get("parameters") == record["parameters"]
            and old.get("harmonix_version") == record["harmonix_version"])


class ResultStaging:
    """A hidden staging folder in ``out`` whose files replace the comparison's on :meth:`commit`."""

    def __init__(self, out: str | PathLike) -> None:
        self.out = Path(out)
        self.path: Path | None = None

    def __enter__(self) -> Path:
        try:
            with uninterruptible():
                self.path = Path(tempfile.mkdtemp(prefix=".comparison.", suffix=STAGING_SUFFIX, dir=self.out))
                (self.path / OUTPUT_MARKER).write_text(f"{os.getpid()}\n")
        except OSError as err:
            self.__exit__()
            raise OutputError(f"{self.out}: cannot write output ({err.strerror})") from err
        return self.path

    def __exit__(self, *exc) -> None:
        if self.path is not None:
            with uninterruptible():
                shutil.rmtree(self.path, ignore_errors=True)

    def commit(self) -> None:
        """Move the staged files into ``out``: old ``params.json`` out first, new one in last."""
        try:
            with uninterruptible():
                (self.out / "params.json").unlink(missing_ok=True)
                for name in RESULT_FILES:
                    staged, final = self.path / name, self.out / name
                    if staged.is_file():
                        os.replace(staged, final)
                    else:
                        final.unlink(missing_ok=True)  # a result of an earlier comparison this one does not make
                os.replace(self.path / "params.json", self.out / "params.json")
        except OSError as err:
            raise OutputError(f"{self.out}: cannot write output ({err.strerror or err})") from err
