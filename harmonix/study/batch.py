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
:class:`~harmonix.study.layouts.Layout` (:mod:`harmonix.study.layouts`).
"""

from __future__ import annotations

import contextlib
import functools
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from harmonix.errors import HarmonixError, InputFileError, OutputError
from harmonix.progress import study, write_line
from harmonix.study.inputs import Recording, recording_files
from harmonix.study.layouts import Layout
from harmonix.study.provenance import differences, make_record
from harmonix.tables import FAILURES_FILE, remove_failures, uninterruptible, write_failures

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


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or ``kill`` stopped a command; ``message`` says exactly what was kept."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def places(paths: Sequence[Path], limit: int = 3) -> str:
    """The first ``limit`` paths, comma-separated, and how many more (for one-line messages).

    Examples
    --------
    >>> places([Path("a"), Path("b"), Path("c"), Path("d")], limit=2)
    'a, b and 2 more'
    """
    shown = ", ".join(str(p) for p in paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


class BatchInterrupted(Interrupted):
    """A batch was interrupted; ``result`` holds the outcomes of the recordings finished before."""

    def __init__(self, result: "BatchResult", total: int, *, after: str = "") -> None:
        self.result, self.total, self.after = result, total, after
        super().__init__(self.describe())

    def describe(self, after: str | None = None) -> str:
        """One line: how many recordings were finished and kept (and where), and that nothing partial was."""
        after = self.after if after is None else after
        kept = self.result.ok
        noun = "recording" if self.total == 1 else "recordings"
        if kept:
            where = [o.location for o in kept if o.location is not None]
            text = f"interrupted: {len(kept)} of {self.total} {noun} finished and kept ({places(where)})"
        else:
            text = f"interrupted: none of the {self.total} {noun} finished"
        if self.result.failed:
            text += f"; {len(self.result.failed)} failed (see the errors above)"
        text += "; nothing partial was kept" + (f"; {after}" if after else "")
        return text + "; run the same command again to finish"


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
    record : dict | None
        The provenance record of this run for the recording (its input
        SHA-256 under ``inputs``), when its files could be read.
    """

    recording: Recording
    status: str
    location: Path | None = None
    message: str = ""
    error_kind: str = ""
    result: Any = None
    record: dict | None = None


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
    protected: Sequence[str | PathLike] = (),
) -> list[tuple[Recording, str, dict | None, str]]:
    """Decide, per recording, ``'up to date'``, ``'todo'`` or ``'failed'`` (with its record or error).

    The recordings come back named as their outputs are (:meth:`Layout.assign`).

    Raises
    ------
    OutputError
        Outputs differ from this run and ``overwrite`` is not set (one line
        naming the first and what differs); an output's place is taken by
        something harmonix did not write; or an output would replace, or sit
        inside, an input or one of the ``protected`` paths.
    """
    layout.prepare()
    recordings = layout.assign(recordings)
    layout.check_inputs(recordings, protected)
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
    protected: Sequence[str | PathLike] = (),
    client: Any = None,
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
    protected : sequence of path-like
        Paths besides the recordings that no output may replace (e.g. the
        analysis folders a comparison reads).
    client : distributed.Client | None
        Run the recordings as tasks on this Dask cluster
        (:func:`harmonix.study.cluster.compute_cluster`), each analysed and
        written by a worker; ``None`` runs them here, one after another. The
        outcomes, the index and ``failures.tsv`` are the same either way
        (listed in the recordings' order, not in the order they finished).

    Returns
    -------
    BatchResult
        Result lines go to stdout and one-line errors to stderr as it runs.

    Raises
    ------
    BatchInterrupted
        Ctrl-C or ``kill``: the outputs finished so far are kept (and listed
        in its message), the one being written is not.
    """
    from harmonix.study.cluster import ClusterError

    plan = plan_batch(recordings, layout, parameters=parameters, overwrite=overwrite, protected=protected)
    result = BatchResult()
    try:
        run = _run_plan if client is None else functools.partial(_run_plan_on_cluster, client=client)
        run(plan, layout, analyse, result, fail_fast=fail_fast, desc=desc, verbose=verbose)
    except ClusterError:
        with uninterruptible():  # the cluster went away: what its workers finished is kept, and indexed
            _keep_finished(plan, layout, result)
            with contextlib.suppress(HarmonixError, OSError):
                layout.finish(result)
        raise
    except KeyboardInterrupt:
        with uninterruptible():
            _keep_finished(plan, layout, result)
            with contextlib.suppress(HarmonixError, OSError):
                layout.finish(result)
        raise BatchInterrupted(result, len(plan)) from None
    _in_plan_order(plan, result)
    layout.finish(result)
    return result


def _keep_finished(plan, layout: Layout, result: BatchResult) -> None:
    """After an interruption: count as written the outputs renamed into place before it (they are complete)."""
    seen = {id(o.recording) for o in result.outcomes}
    for recording, state, record, _ in plan:
        if state == "todo" and id(recording) not in seen and _finished(layout, recording, record):
            result.outcomes.append(Outcome(recording, "written", layout.location(recording), record=record))
    _in_plan_order(plan, result)


def _in_plan_order(plan, result: BatchResult) -> None:
    order = {id(recording): i for i, (recording, *_) in enumerate(plan)}
    result.outcomes.sort(key=lambda o: order.get(id(o.recording), len(order)))


def _finished(layout: Layout, recording: Recording, record: dict | None) -> bool:
    """True when ``recording``'s output is in place and made by this run (same provenance record)."""
    if record is None:
        return False
    try:
        exists, old = layout.existing_record(recording)
    except (HarmonixError, OSError):
        return False
    return exists and not differences(old, record)


def _planned_outcome(layout: Layout, recording: Recording, state: str, record: dict | None, error: str) -> Outcome:
    """The outcome of a recording that needs no analysis: up to date, or failed while planning."""
    if state == "up to date":
        return Outcome(recording, "up to date", layout.location(recording),
                       f"{recording.path} -> {layout.metrics_file(recording)} (up to date, skipped)", record=record)
    return Outcome(recording, "failed", message=error, error_kind="InputFileError")


def _analysed_outcome(recording: Recording, record: dict | None, value: Any, error: BaseException | None,
                      verbose: bool) -> Outcome:
    if error is None:
        location, line, result = value
        return Outcome(recording, "written", location, line, result=result, record=record)
    if verbose and not isinstance(error, (HarmonixError, OSError)):
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    return _failure(recording, error)


def _report(outcome: Outcome, result: BatchResult, total: int, fail_fast: bool) -> bool:
    """Record and print one outcome; True when the batch must stop here (``--fail-fast``)."""
    result.outcomes.append(outcome)
    if outcome.status != "failed":
        write_line(outcome.message)
        return False
    write_line(f"harmonix: error: {outcome.message}", file=sys.stderr)
    if fail_fast:
        result.not_attempted = total - len(result.outcomes)
    return fail_fast


def _run_plan(plan, layout: Layout, analyse: Analyse, result: BatchResult, *, fail_fast: bool, desc: str,
              verbose: bool) -> None:
    with study(len(plan), desc=desc) as shown:
        for recording, state, record, error in plan:
            shown.start(recording.name)
            try:
                if state != "todo":
                    outcome = _planned_outcome(layout, recording, state, record, error)
                else:
                    try:
                        # One BLAS thread, as on a cluster worker: sums then add up in the same order whatever
                        # runs the batch, so --jobs 1 and --jobs N write byte-identical tables.
                        with threadpool_limits(limits=1, user_api="blas"):
                            value, failure = analyse(recording, record, layout), None
                    except Exception as err:  # noqa: BLE001 - one recording's failure must not end the batch
                        value, failure = None, err
                    outcome = _analysed_outcome(recording, record, value, failure, verbose)
            finally:
                shown.finish()
            if _report(outcome, result, len(plan), fail_fast):
                break


def _run_plan_on_cluster(plan, layout: Layout, analyse: Analyse, result: BatchResult, *, fail_fast: bool, desc: str,
                         verbose: bool, client: Any) -> None:
    """:func:`_run_plan` with the analyses as tasks on a Dask cluster; outcomes reported as they finish."""
    with study(len(plan), desc=desc) as shown:
        todo = []
        for recording, state, record, error in plan:
            if state == "todo":
                todo.append((recording, record))
                continue
            shown.start(recording.name)
            shown.finish()
            if _report(_planned_outcome(layout, recording, state, record, error), result, len(plan), fail_fast):
                return
        if not todo:
            return
        try:
            _run_tasks(todo, plan, layout, analyse, result, fail_fast=fail_fast, verbose=verbose, client=client,
                       shown=shown)
        finally:
            layout.remove_leftovers()  # what a worker killed mid-write staged


def _run_tasks(todo, plan, layout: Layout, analyse: Analyse, result: BatchResult, *, fail_fast: bool, verbose: bool,
               client: Any, shown) -> None:
    from harmonix.study.cluster import map_tasks

    tasks = map_tasks(client, lambda item: analyse(item[0], item[1], layout), todo,
                      names=[recording.name for recording, _ in todo])
    for index, value, error in tasks:
        recording, record = todo[index]
        if isinstance(error, (InputFileError, FileNotFoundError)) and Path(recording.path).exists():
            error = InputFileError(f"{one_line(error)} on the Dask worker, though this machine has it: inputs "
                                   "must be on a file system every worker shares")
        shown.start(recording.name)
        shown.finish()
        if _report(_analysed_outcome(recording, record, value, error, verbose), result, len(plan), fail_fast):
            tasks.close()  # cancels the tasks still queued
            return


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
    "EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "FAILURES_FILE", "BatchFailed", "BatchInterrupted", "BatchResult",
    "Interrupted", "Outcome", "places", "plan_batch", "record_failures", "run_batch",
]
