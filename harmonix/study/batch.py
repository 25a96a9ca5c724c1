"""Run one analysis per recording: keep going past failures, resume by provenance, never overwrite silently.

:func:`run_batch` first *plans* (cheap: hash every input, read every
existing output's provenance record, nothing imported or analysed):

* an output whose record matches this run (same input bytes, parameters and
  harmonix version) is **up to date** and skipped;
* an output that differs is replaced only with ``overwrite=True``; otherwise
  the whole batch is refused before any work, with one line naming the
  output and what differs;
* everything else is analysed, one recording at a time. A recording that
  fails is reported (one line on stderr, a row of ``failures.tsv``) and the
  others go on, unless ``fail_fast``.

Each output is written atomically (staging folder, then rename), so a run
stopped by Ctrl-C or ``kill`` leaves no partial output, and running the same
command again finishes only what is missing. Where outputs go is a
:class:`Layout`: :class:`PlainLayout` (``OUT/<recording>/metrics.csv ...``)
or :class:`BidsLayout` (a BIDS-derivatives dataset, see
:mod:`harmonix.study.derivatives`).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from harmonix.errors import HarmonixError, OutputError, ParameterError
from harmonix.progress import study, write_line
from harmonix.study.inputs import Recording, recording_files
from harmonix.study.provenance import RECORD_KEY, differences, make_record
from harmonix.tables import (
    FAILURES_FILE,
    OUTPUT_MARKER,
    SessionOutputs,
    _check_replaceable,
    remove_failures,
    remove_stale_staging,
    write_failures,
    write_plain_outputs,
)

EXIT_OK = 0
"""Every recording was analysed or was already up to date."""
EXIT_SOME_FAILED = 1
"""Some recordings failed (listed in ``failures.tsv``); the others were written or up to date."""
EXIT_USAGE = 2
"""A usage error (nothing was done), or every recording failed (nothing was written)."""



class BatchFailed(HarmonixError):
    """A study stopped because recordings failed (``--fail-fast``, or too few left to compare).

    The failures themselves were reported as they happened; ``exit_status``
    is :data:`EXIT_SOME_FAILED` when some outputs exist, else :data:`EXIT_USAGE`.
    """

    def __init__(self, message: str, *, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status


LAYOUTS = ("auto", "plain", "bids")
"""Values of ``--layout``: ``auto`` is ``bids`` when every input belongs to a BIDS dataset."""


# --------------------------------------------------------------------------- layouts


class Layout:
    """Where a batch's outputs go, and how to read an existing output's provenance."""

    root: Path

    def prepare(self) -> None:
        """Check the output root and remove staging folders of killed runs (writes nothing)."""

    def location(self, recording: Recording) -> Path:
        """The output of ``recording``: a folder (plain) or a metrics TSV (BIDS)."""
        raise NotImplementedError

    def metrics_file(self, recording: Recording) -> Path:
        """The metrics table inside :meth:`location`."""
        raise NotImplementedError

    def existing_record(self, recording: Recording) -> tuple[bool, dict | None]:
        """``(exists, provenance record or None)`` of the current output of ``recording``.

        Raises :class:`~harmonix.errors.OutputError` when the place is taken
        by something harmonix did not write.
        """
        raise NotImplementedError

    def write(self, recording: Recording, outputs: SessionOutputs) -> Path:
        """Write one recording's outputs atomically; return :meth:`location`."""
        raise NotImplementedError


class PlainLayout(Layout):
    """``OUT/<recording>/`` with ``metrics.csv``, ``params.json``, ``arrays.npz`` (and ``report.html``)."""

    def __init__(self, root: str | PathLike) -> None:
        self.root = Path(root)

    def prepare(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"{self.root}: exists and is not a folder; choose another output path")
        remove_stale_staging(self.root)

    def location(self, recording: Recording) -> Path:
        return self.root / recording.name

    def metrics_file(self, recording: Recording) -> Path:
        return self.location(recording) / "metrics.csv"

    def existing_record(self, recording: Recording) -> tuple[bool, dict | None]:
        folder = self.location(recording)
        _check_replaceable(folder)  # a file, or a foreign folder: refused here, before any work
        if not folder.is_dir() or not any(folder.iterdir()):
            return False, None
        if not (folder / OUTPUT_MARKER).is_file():
            return False, None
        try:
            params = json.loads((folder / "params.json").read_text())
        except (OSError, ValueError):
            return True, None
        return True, params.get(RECORD_KEY)

    def write(self, recording: Recording, outputs: SessionOutputs) -> Path:
        return write_plain_outputs(self.location(recording), outputs)


class BidsLayout(Layout):
    """A BIDS-derivatives dataset (:mod:`harmonix.study.derivatives`)."""

    def __init__(self, root: str | PathLike, recordings: Sequence[Recording], *, command: str | None = None) -> None:
        from harmonix.study import derivatives

        self.root = Path(root)
        self.recordings = list(recordings)
        self.command = command
        self._described = False
        self._paths = {}
        taken: dict[Path, Recording] = {}
        roots = derivatives._source_roots(self.recordings)
        self._roots = roots
        for recording in self.recordings:
            try:
                path = Path(derivatives.derivative_path(recording, self.root).fpath)
            except (ValueError, RuntimeError) as err:  # mne-bids refuses the entities
                raise ParameterError(f"{recording.path}: cannot name its BIDS-derivative output ({err}); "
                                     "use --layout plain") from None
            if path in taken:
                raise ParameterError(
                    f"{taken[path].path} and {recording.path} would both be written to {path}: give them "
                    "different BIDS entities (or use --layout plain)"
                )
            taken[path] = recording
            self._paths[recording.path] = path

    def prepare(self) -> None:
        from harmonix.study import derivatives

        derivatives.check_root(self.root, self.recordings)
        derivatives.remove_stale(self.root)

    def location(self, recording: Recording) -> Path:
        return self._paths[recording.path]

    def metrics_file(self, recording: Recording) -> Path:
        return self.location(recording)

    def existing_record(self, recording: Recording) -> tuple[bool, dict | None]:
        from harmonix.study import derivatives

        path = self.location(recording)
        if not derivatives.sidecar_path(path).is_file():
            return False, None  # absent, or a write that was interrupted before its sidecar: redo it
        provenance = derivatives.read_sidecar(path).get("Provenance") or {}
        return True, provenance.get(RECORD_KEY)

    def write(self, recording: Recording, outputs: SessionOutputs) -> Path:
        from harmonix.study import derivatives

        if not self._described:
            # Described once per run, just before its first output: a run that writes nothing leaves nothing.
            derivatives.write_dataset_description(self.root, self.recordings, command=self.command)
            self._described = True
        return derivatives.write_recording(self.root, recording, outputs,
                                           sources=derivatives._sources(recording, self._roots))


def choose_layout(
    recordings: Sequence[Recording],
    out: str | PathLike,
    layout: str = "auto",
    *,
    command: str | None = None,
) -> Layout:
    """The output layout of a batch: ``'bids'`` (derivatives), ``'plain'``, or ``'auto'``.

    ``'auto'`` writes a derivatives dataset when every recording belongs to
    a BIDS dataset, the plain per-file layout otherwise.
    """
    if layout not in LAYOUTS:
        raise ParameterError(f"--layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = "bids" if recordings and all(r.is_bids for r in recordings) else "plain"
    if layout == "bids":
        return BidsLayout(out, recordings, command=command)
    return PlainLayout(out)


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    """What happened to one recording.

    Attributes
    ----------
    recording : Recording
    status : {'written', 'up to date', 'failed'}
    location : Path | None
        Its output (folder or metrics TSV), when it has one.
    message : str
        The result line, or the one-line error.
    error_kind : str
        The exception's class for failures (e.g. ``InputFileError``).
    result : object
        What the analysis returned (in memory, for ``written`` only).
    """

    recording: Recording
    status: str
    location: Path | None = None
    message: str = ""
    error_kind: str = ""
    result: Any = None


@dataclass
class BatchResult:
    """The outcomes of a batch, in input order."""

    outcomes: list[Outcome] = field(default_factory=list)
    not_attempted: int = 0
    """Recordings left after ``fail_fast`` stopped the batch."""

    def with_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def failed(self) -> list[Outcome]:
        return self.with_status("failed")

    @property
    def ok(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("written", "up to date")]

    @property
    def exit_status(self) -> int:
        """:data:`EXIT_OK`, :data:`EXIT_SOME_FAILED`, or :data:`EXIT_USAGE` when every recording failed."""
        if not self.failed:
            return EXIT_OK
        return EXIT_SOME_FAILED if self.ok else EXIT_USAGE

    def summary(self) -> str:
        """One line: how many were analysed, up to date, failed."""
        n = len(self.outcomes) + self.not_attempted
        parts = [f"{len(self.with_status('written'))} analysed", f"{len(self.with_status('up to date'))} up to date",
                 f"{len(self.failed)} failed"]
        if self.not_attempted:
            parts.append(f"{self.not_attempted} not attempted (--fail-fast)")
        return f"{n} recording{'s' if n != 1 else ''}: {', '.join(parts)}"


def one_line(error: BaseException) -> str:
    """An exception as one line (messages may span lines)."""
    return " ".join(str(error).split()) or type(error).__name__


def _failure(recording: Recording, error: BaseException) -> Outcome:
    if isinstance(error, (HarmonixError, OSError)):
        kind, message = type(error).__name__, one_line(error)
        if isinstance(error, OSError) and error.filename:
            message = f"{error.filename}: {error.strerror or message}"
    else:
        # Not a problem with the input that harmonix recognised: say so, the batch still goes on.
        kind, message = f"unexpected {type(error).__name__}", f"{one_line(error)} (please report this)"
    if str(recording.path) not in message:
        message = f"{recording.path}: {message}"
    return Outcome(recording, "failed", message=message, error_kind=kind)


# --------------------------------------------------------------------------- running


Analyse = Callable[[Recording, dict, Layout], tuple[Path, str, Any]]
"""``analyse(recording, provenance_record, layout) -> (location, result line, result)``."""


def plan_batch(
    recordings: Sequence[Recording],
    layout: Layout,
    *,
    parameters: Mapping[str, Any],
    overwrite: bool = False,
) -> list[tuple[Recording, str, dict | None, str]]:
    """Decide, per recording, ``'up to date'``, ``'todo'`` or ``'failed'`` (with its record or error).

    Raises
    ------
    OutputError
        Outputs differ from this run and ``overwrite`` is not set (one line
        naming the first and what differs); or an output's place is taken by
        something harmonix did not write.
    """
    layout.prepare()
    plan = []
    stale = []
    for recording in recordings:
        try:
            record = make_record(recording_files(recording), parameters)
        except HarmonixError as err:
            plan.append((recording, "failed", None, one_line(err)))
            continue
        exists, old = layout.existing_record(recording)
        if not exists:
            plan.append((recording, "todo", record, ""))
            continue
        changed = differences(old, record)
        if not changed:
            plan.append((recording, "up to date", record, ""))
        else:
            stale.append((recording, changed))
            plan.append((recording, "todo", record, ""))
    if stale and not overwrite:
        recording, changed = stale[0]
        more = f"; {len(stale) - 1} more output(s) differ too" if len(stale) > 1 else ""
        raise OutputError(
            f"{layout.location(recording)}: exists and was made differently ({'; '.join(changed[:3])}); "
            f"pass --overwrite to replace it{more}"
        )
    return plan


def run_batch(
    recordings: Sequence[Recording],
    layout: Layout,
    analyse: Analyse,
    *,
    parameters: Mapping[str, Any],
    overwrite: bool = False,
    fail_fast: bool = False,
    desc: str = "analyze",
    verbose: bool = False,
) -> BatchResult:
    """Analyse every recording that is not up to date; keep going past failures.

    Parameters
    ----------
    recordings : sequence of Recording
    layout : Layout
        Where outputs go (:func:`choose_layout`).
    analyse : callable
        ``analyse(recording, record, layout) -> (location, line, result)``:
        analyse one recording and write it through ``layout`` with ``record``
        (its provenance) in its parameters. Raising fails that recording only.
    parameters : mapping
        Everything the user chose that changes results (the provenance's
        ``parameters``).
    overwrite : bool
        Replace outputs that differ from this run (otherwise refused).
    fail_fast : bool
        Stop at the first failure.
    desc : str
        Label of the progress bar.
    verbose : bool
        Print the traceback of unexpected errors.

    Returns
    -------
    BatchResult
        Result lines go to stdout and one-line errors to stderr as it runs.
    """
    plan = plan_batch(recordings, layout, parameters=parameters, overwrite=overwrite)
    result = BatchResult()
    with study(len(plan), desc=desc) as shown:
        for recording, state, record, error in plan:
            shown.start(recording.name)
            try:
                if state == "up to date":
                    location = layout.location(recording)
                    outcome = Outcome(recording, "up to date", location,
                                      f"{recording.path} -> {layout.metrics_file(recording)} (up to date, skipped)")
                elif state == "failed":
                    outcome = Outcome(recording, "failed", message=error, error_kind="InputFileError")
                else:
                    try:
                        location, line, value = analyse(recording, record, layout)
                    except Exception as err:  # noqa: BLE001 - one recording's failure must not end the batch
                        if verbose and not isinstance(err, (HarmonixError, OSError)):
                            traceback.print_exc(file=sys.stderr)
                        outcome = _failure(recording, err)
                    else:
                        outcome = Outcome(recording, "written", location, line, result=value)
            finally:
                shown.finish()
            result.outcomes.append(outcome)
            if outcome.status == "failed":
                write_line(f"harmonix: error: {outcome.message}", file=sys.stderr)
                if fail_fast:
                    result.not_attempted = len(plan) - len(result.outcomes)
                    break
            else:
                write_line(outcome.message)
    return result


def record_failures(folder: str | PathLike, result: BatchResult) -> Path | None:
    """Keep ``failures.tsv`` in ``folder`` in step with ``result``; return it when written.

    Written when some recordings failed and others have an output (then the
    exit status is :data:`EXIT_SOME_FAILED`); removed (if harmonix wrote it)
    when nothing failed. When every recording failed nothing is written:
    the stderr lines are the whole report.
    """
    if not result.failed:
        remove_failures(folder)
        return None
    if not result.ok:
        return None
    rows = [(str(o.recording.path), o.error_kind, o.message) for o in result.failed]
    return write_failures(folder, rows)


__all__ = [
    "EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "FAILURES_FILE", "LAYOUTS", "BatchFailed", "BatchResult", "BidsLayout", "Layout",
    "Outcome", "PlainLayout", "choose_layout", "plan_batch", "record_failures", "run_batch",
]
