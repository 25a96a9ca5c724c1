"""The pre/post comparison of a study: analyse (or read) every session, pair, compare, report.

:func:`run_comparison` analyses recordings through the study runner
(:func:`harmonix.study.batch.run_batch`, via
:func:`harmonix.workflows.run_eeg_file`), so its analyses resume; it reads
analyses given as inputs, pairs sessions, runs
:func:`harmonix.compare.compare_tables` (and the within-subject window
comparison for fewer than three pairs), and writes the tables and the report
as one set.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harmonix.harmonics.model import HarmonicModel
from harmonix.pipeline import Analysis
from harmonix.workflows import _run_provenance, run_eeg_file

def _recording_layout(paths: Sequence[str]) -> tuple[list[str], float | None, list[str], dict[str, BaseException]]:
    """Shared EEG channels and lowest sampling rate of recordings (headers only), with notes on what differs.

    Recordings whose header cannot be read are returned in the last item
    (``{path: error}``) instead of stopping the comparison.
    """
    import mne

    from harmonix.errors import ChannelError, HarmonixError
    from harmonix.io import load_eeg

    layouts = {}
    failed: dict[str, BaseException] = {}
    for path in paths:
        try:
            inst = load_eeg(path, preload=False)
        except HarmonixError as err:
            failed[path] = err
            continue
        picks = mne.pick_types(inst.info, eeg=True, exclude="bads")
        layouts[path] = ([inst.ch_names[i] for i in picks], float(inst.info["sfreq"]))
    if not layouts:
        return [], None, [], failed
    first = next(iter(layouts.values()))[0]
    shared = [c for c in first if all(c in channels for channels, _ in layouts.values())]
    notes = []
    for path, (channels, _) in layouts.items():
        dropped = [c for c in channels if c not in shared]
        if dropped:
            notes.append(f"{Path(path).name}: channels {', '.join(dropped)} left out (not in every recording)")
    if len(shared) < 8:
        raise ChannelError(
            f"the recordings share only {len(shared)} EEG channels ({', '.join(shared) or 'none'}); at least 8 are "
            "needed to compare them: " + "; ".join(f"{Path(p).name}: {len(c)} channels" for p, (c, _) in layouts.items())
        )
    rates = {path: rate for path, (_, rate) in layouts.items()}
    lowest = min(rates.values())
    for path, rate in rates.items():
        if rate != lowest:
            notes.append(f"{Path(path).name}: resampled from {rate:g} Hz to {lowest:g} Hz (the lowest rate of the set)")
    return shared, lowest, notes, failed


def _analyse_recordings(
    paths: Sequence[str],
    out_dir: Path,
    *,
    harmonic_model: Any,
    layout: str,
    overwrite: bool,
    fail_fast: bool,
    conditions: Any = None,
    steady_state: Any = None,
    protected: Sequence[str] = (),
    seed: int = 0,
    client: Any = None,
) -> tuple[dict[Path, tuple], list[tuple[str, str, str]], list[str]]:
    """Align and analyse the recordings of a comparison into ``out_dir / 'analysis'`` (resumable).

    Returns ``({resolved path: (location, analysis or None, provenance record)}, failures, notes)``;
    failures are ``(path, error kind, message)`` rows, already reported on stderr. No
    output may replace one of the ``protected`` paths (the analysis outputs the
    comparison reads). ``out_dir`` is created just before the first analysis is written.
    """
    from harmonix.progress import write_line
    from harmonix.study.batch import one_line, run_batch
    from harmonix.study.cluster import recording_seed
    from harmonix.study.comparison import mark_out
    from harmonix.study.layouts import choose_layout
    from harmonix.study.inputs import resolve_inputs

    recordings = resolve_inputs(paths)
    channels, rate, notes, unreadable = _recording_layout([str(r.path) for r in recordings])
    failures = []
    for path, error in unreadable.items():
        write_line(f"harmonix: error: {one_line(error)}", file=sys.stderr)
        failures.append((path, type(error).__name__, one_line(error)))
    if failures and fail_fast:
        return {}, failures, notes
    readable = [r for r in recordings if str(r.path) not in unreadable]
    if not readable:
        return {}, failures, notes
    target = choose_layout(readable, out_dir / "analysis", layout)
    parameters = {"channels": channels, "resample_to": rate, "harmonics": "off" if harmonic_model is None else "auto",
                  "conditions": conditions.describe() if hasattr(conditions, "describe") else None,
                  "steady_state": list(steady_state) if isinstance(steady_state, (list, tuple)) else steady_state}
    models: dict[str, HarmonicModel | None] = {}

    def model() -> HarmonicModel | None:
        # Built only when a recording needs analysing: a resumed comparison never loads it.
        if "model" not in models:
            models["model"] = harmonic_model() if callable(harmonic_model) else harmonic_model
        return models["model"]

    def analyse(recording, record, layout_) -> tuple[Path, str, Analysis]:
        def write(outputs):
            mark_out(out_dir)  # OUT is made a harmonix folder just before its first file
            return layout_.write(recording, outputs)

        location, analysis = run_eeg_file(
            recording.path, layout_.root, session=recording.name, channels=channels, resample_to=rate,
            harmonic_model=model(), provenance=record, writer=write, seed=recording_seed(record, seed),
            conditions=conditions, steady_state=steady_state)
        return location, f"{recording.path} -> {layout_.metrics_file(recording)}", analysis

    batch = run_batch(readable, target, analyse, parameters=parameters, overwrite=overwrite, fail_fast=fail_fast,
                      desc="sessions", protected=protected, client=client)
    failures += [(str(o.recording.path), o.error_kind, o.message) for o in batch.failed]
    done: dict[Path, tuple] = {}
    for outcome in batch.outcomes:
        if outcome.status != "failed":
            analysis = outcome.result if outcome.status == "written" else None
            done[outcome.recording.path.resolve()] = (outcome.location, analysis, outcome.record)
    return done, failures, notes


def _choose_labels(sessions: "pd.DataFrame", labels: tuple[str, str] | None, *, strict: bool = True) -> tuple:
    """The two session labels a comparison compares (as :func:`~harmonix.compare.sessions.pair_sessions` picks them).

    With ``strict``, a ParameterError when they cannot be chosen or are absent;
    otherwise whatever labels are known (possibly fewer than two).
    """
    from harmonix.errors import ParameterError

    present = list(dict.fromkeys(sessions["session"].astype(str)))
    if labels is None:
        if {"pre", "post"} <= set(present):
            return ("pre", "post")
        if len(present) == 2:
            return tuple(present)
        if strict:
            raise ParameterError(f"session labels {', '.join(present)}: say which two to compare with --labels PRE,POST")
        return tuple(present)
    missing = [label for label in labels if label not in present]
    if missing and strict:
        raise ParameterError(f"no session labelled {', '.join(missing)} (labels present: {', '.join(present)})")
    return tuple(labels)


def _uses_windows(sessions: "pd.DataFrame", labels, *, design: str, contrast) -> bool:
    """True when the comparison will compare windows within subjects (fewer than three paired subjects)."""
    if design != "paired" or contrast is not None:
        return False
    chosen = _choose_labels(sessions, labels, strict=False)
    if len(chosen) != 2:
        return True
    subjects = [set(sessions.loc[sessions["session"].astype(str) == label, "subject"].astype(str)) for label in chosen]
    return len(subjects[0] & subjects[1]) < 3


def _comparison_failure(failures: list, path: str, error: BaseException, *, fail_fast: bool, out_dir: Path,
                        done: dict) -> None:
    """Report an analysis a comparison cannot use (one stderr line, a failures row); stop with ``fail_fast``."""
    from harmonix.progress import write_line
    from harmonix.study.batch import EXIT_SOME_FAILED, EXIT_USAGE, BatchFailed, one_line

    message = one_line(error)
    write_line(f"harmonix: error: {message}", file=sys.stderr)
    failures.append((str(path), type(error).__name__, message))
    if fail_fast:
        raise BatchFailed(f"stopped at the first failure (--fail-fast); analyses written so far are kept in "
                          f"{out_dir / 'analysis'}; no comparison made",
                          exit_status=EXIT_SOME_FAILED if done else EXIT_USAGE)


def _checked_analyses(sessions: "pd.DataFrame", recordings: Sequence[str], given: dict, done: dict, failures: list,
                      notes: list, *, labels, design: str, contrast, fail_fast: bool, out_dir: Path) -> tuple:
    """The session rows whose analyses are usable, and ``{path: (metrics, params, location, arrays, record)}``.

    ``given`` holds the analysis outputs given as inputs (checked already);
    the analyses of this run's ``recordings`` (``done``) are checked here. A
    damaged one is a failure of its recording (a stderr line, a row added to
    ``failures``, a note) and the others go on; with ``fail_fast`` it stops.
    """
    from harmonix.compare.sessions import read_analysis, read_analysis_arrays
    from harmonix.errors import HarmonixError

    paths = [str(p) for p in sessions["path"]]
    read: dict[str, tuple] = dict(given)
    failed = {Path(p).resolve() for p, _, _ in failures}
    for path in dict.fromkeys(recordings):
        key = Path(path).resolve()
        if key in failed:
            continue
        location, analysis, record = done[key]
        if analysis is not None:
            read[path] = (analysis.metrics, analysis.params, location, analysis.arrays, record)
            continue
        try:
            metrics, params = read_analysis(location)
        except HarmonixError as err:
            _comparison_failure(failures, path, err, fail_fast=fail_fast, out_dir=out_dir, done=done)
            continue
        read[path] = (metrics, params, location, None, record)
    keep = [path in read for path in paths]
    for path, kept in zip(paths, keep):
        if not kept:
            notes.append(f"{path}: failed (see failures.tsv); left out of the comparison")
    sessions = sessions[keep].reset_index(drop=True)
    if _uses_windows(sessions, labels, design=design, contrast=contrast):
        # Fewer than three paired subjects: the per-window arrays are compared too, so they are checked now.
        wanted = set(_choose_labels(sessions, labels, strict=False))
        arrays_of = {}
        for path, label in zip(sessions["path"], sessions["session"]):
            if str(label) not in wanted or path in arrays_of:
                continue
            metrics, params, location, arrays, record = read[path]
            if arrays is None:
                try:
                    arrays = read_analysis_arrays(location, params)
                except HarmonixError as err:
                    _comparison_failure(failures, path, err, fail_fast=fail_fast, out_dir=out_dir, done=done)
                    notes.append(f"{path}: failed (see failures.tsv); left out of the comparison")
                    continue
            arrays_of[path] = arrays
        failed_now = {p for p, _, _ in failures}
        sessions = sessions[[p not in failed_now for p in sessions["path"]]].reset_index(drop=True)
        read = {p: (*read[p][:3], arrays_of.get(p, read[p][3]), read[p][4]) for p in sessions["path"]}
    return sessions, read


def _content_of(entry: tuple) -> str | None:
    """SHA-256 of the recording behind an analysis: from this run's provenance record, else its parameters."""
    from harmonix.compare.sessions import input_content

    _, params, location, _, record = entry
    if record is not None:
        return input_content({"input": {"path": next(iter(record["inputs"]), None), "sha256": record["inputs"]}})
    return input_content(params)


def same_recording_warnings(sessions: "pd.DataFrame", labels: Sequence[str], contents: dict) -> list[str]:
    """Warnings for a recording compared with itself: the same file, or the same bytes, on both sides.

    Its difference is zero by construction: most likely a mistake in the
    session list. It is kept (a deliberate null check is legitimate) and
    the warning goes to stderr, ``params.json`` and the report.
    """
    first, second = (str(label) for label in labels)
    rows = sessions[sessions["session"].astype(str).isin([first, second])]
    warnings = []
    for _, pre in rows[rows["session"].astype(str) == first].iterrows():
        for _, post in rows[rows["session"].astype(str) == second].iterrows():
            same_file = Path(pre["path"]).resolve() == Path(post["path"]).resolve()
            same_bytes = contents.get(pre["path"]) is not None and contents.get(pre["path"]) == contents.get(post["path"])
            if not (same_file or same_bytes):
                continue
            who = (f"subject {pre['subject']}" if pre["subject"] == post["subject"]
                   else f"subjects {pre['subject']} and {post['subject']}")
            what = (f"{pre['path']} is both the {first} and the {second} recording" if same_file else
                    f"{pre['path']} ({first}) and {post['path']} ({second}) are the same recording (identical SHA-256)")
            warnings.append(f"{what} ({who}): the difference is zero by construction; check the session list")
    return warnings


def _stopped_comparing(done: dict, out_dir: Path) -> str:
    """What an interruption during the comparison itself kept."""
    from harmonix.study.batch import places

    written = [location for location, analysis, _ in done.values() if analysis is not None]
    kept = (f"the {len(written)} recording(s) analysed in this run are kept ({places(written)}); " if written else "")
    return (f"interrupted while comparing: {kept}no comparison was written (an earlier one in {out_dir} is left "
            "as it was); nothing partial was kept; run the same command again to finish")


def run_comparison(
    sessions: "pd.DataFrame",
    out_dir: str | Path,
    *,
    labels: tuple[str, str] | None = None,
    design: str = "paired",
    level: str = "summary",
    harmonic_model: HarmonicModel | Callable[[], HarmonicModel] | None = None,
    n_permutations: int = 10000,
    n_bootstrap: int = 2000,
    seed: int = 0,
    report: bool = True,
    notes: Sequence[str] = (),
    overwrite: bool = False,
    fail_fast: bool = False,
    layout: str = "auto",
    conditions: Any = None,
    steady_state: Any = None,
    contrast: tuple[str, str] | None = None,
    client: Any = None,
) -> tuple[Path, "pd.DataFrame"]:
    """Analyse (or read) every session, compare pre and post, write tables and the report.

    Parameters
    ----------
    sessions : DataFrame
        :data:`harmonix.compare.sessions.SESSION_COLUMNS`; each ``path`` is a
        recording (analysed here after aligning channels and sampling rates
        across all of them) or a ``harmonix analyze`` output (a folder, or a
        ``*_desc-harmonix_metrics.tsv`` of a derivatives dataset).
    out_dir : path
        ``analysis/`` (one analysis per recording, kept as each completes and
        resumed on a re-run; a BIDS-derivatives dataset when the recordings
        are BIDS, see ``layout``), and the comparison, replaced as a set:
        ``comparison.csv`` (across subjects when at least two subjects have
        both sessions, else within subject over windows: see its ``design``
        column), ``comparison_windows.csv`` (within subject over windows,
        when two subjects are paired), ``session_table.csv`` (every metric
        row of every session), ``sessions.csv``, ``params.json`` (with its
        provenance record), ``report.html``, and ``failures.tsv`` when some
        recordings failed.
    labels : (str, str) | None
        Session labels to compare (see :func:`~harmonix.compare.sessions.pair_sessions`).
    conditions, steady_state
        Conditions from events (and stimulation frequencies) for the
        recordings analysed here (see :func:`run_eeg_file`); each metric is
        then compared per condition.
    contrast : (str, str) | None
        Compare these two conditions within each recording (e.g. rest, stim),
        paired across recordings, instead of two sessions
        (:func:`~harmonix.compare.sessions.condition_contrast`).
    client : distributed.Client | None
        Analyse the recordings as tasks on this Dask cluster
        (:func:`harmonix.study.cluster.compute_cluster`); ``None``: here, one
        after another. ``seed`` also seeds each recording's surrogates
        (:func:`~harmonix.study.cluster.recording_seed`), so the tables do not
        depend on where or in which order the recordings ran.
    design : {'paired', 'unpaired'}
        Paired by subject, or two independent groups (``labels`` name them).
    level : {'summary', 'channel'}
        Channel-level metrics averaged over the shared channels, or compared per channel.
    harmonic_model : HarmonicModel | callable | None
        Decompose recordings onto these harmonics when analysing them (a
        callable is called only if a recording needs analysing).
    notes : sequence of str
        Lines to show in the report (e.g. how subjects were assigned).
    overwrite : bool
        Replace analyses and a comparison made with other parameters.
    fail_fast : bool
        Stop at the first recording that fails (no comparison is made).
    layout : {'auto', 'plain', 'bids'}
        Layout of ``analysis/`` (see :func:`harmonix.study.layouts.choose_layout`).

    Returns
    -------
    folder : Path
    comparison : DataFrame
        The table written to ``comparison.csv``; ``attrs`` hold ``issues``,
        ``notes``, ``failures`` (rows of ``failures.tsv``) and ``up_to_date``.

    Raises
    ------
    BatchFailed
        ``fail_fast`` stopped at a failure, or too few recordings were
        analysed to compare anything (its ``exit_status`` says which).
    """
    import pandas as pd

    from harmonix.compare import compare_tables
    from harmonix.compare.sessions import (
        SessionTable,
        analysis_metrics_file,
        comparable_rows,
        condition_contrast,
        is_analysis_output,
        pair_sessions,
        read_analysis,
        read_analysis_arrays,
        session_table,
        summarize_channels,
    )
    from harmonix.compare.windows import compare_windows, window_metrics
    from harmonix.errors import ParameterError
    from harmonix.study import comparison as output
    from harmonix.study.batch import EXIT_SOME_FAILED, EXIT_USAGE, BatchFailed, BatchInterrupted, Interrupted
    from harmonix.tables import remove_failures, write_failures, write_json

    if design not in ("paired", "unpaired"):
        raise ParameterError(f"design={design!r}: use 'paired' or 'unpaired'")
    if level not in ("summary", "channel"):
        raise ParameterError(f"level={level!r}: use 'summary' or 'channel'")
    for name, value in (("permutations", n_permutations), ("bootstrap", n_bootstrap)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"--{name} {value}: give a positive whole number")
    out_dir = Path(out_dir)
    sessions = sessions.reset_index(drop=True)
    paths = [str(p) for p in sessions["path"]]
    output.check_out(out_dir, paths)
    if contrast is None:
        _choose_labels(sessions, labels)  # a usage error found before any work
    parameters = {"labels": list(labels) if labels else None, "design": design, "level": level,
                  "harmonics": "off" if harmonic_model is None else "auto", "n_permutations": n_permutations,
                  "n_bootstrap": n_bootstrap, "seed": seed, "report": report,
                  "conditions": conditions.describe() if hasattr(conditions, "describe") else None,
                  "steady_state": list(steady_state) if isinstance(steady_state, (list, tuple)) else steady_state,
                  "contrast": list(contrast) if contrast else None}
    output.check_parameters(out_dir, parameters, overwrite=overwrite)
    outputs_given = [p for p in paths if is_analysis_output(p)]
    recordings = [p for p in paths if not is_analysis_output(p)]
    # Analyses given as inputs are checked before any work: a damaged one (metrics, parameters or arrays) is a
    # usage error naming its file, found before anything is analysed or any folder created. Their window arrays
    # are kept only when the comparison will use them (fewer than three paired subjects).
    windows_likely = _uses_windows(sessions, labels, design=design, contrast=contrast)
    given: dict[str, tuple] = {}
    for path in dict.fromkeys(outputs_given):
        metrics, params = read_analysis(path)
        arrays = read_analysis_arrays(path, params)
        given[path] = (metrics, params, Path(path), arrays if windows_likely else None, None)
    notes = list(notes)
    done, failures = {}, []
    try:
        if recordings:
            done, failures, aligned = _analyse_recordings(recordings, out_dir, harmonic_model=harmonic_model,
                                                          layout=layout, overwrite=overwrite, fail_fast=fail_fast,
                                                          conditions=conditions, steady_state=steady_state,
                                                          protected=outputs_given, seed=seed, client=client)
            notes += aligned
    except BatchInterrupted as stopped:
        raise BatchInterrupted(stopped.result, stopped.total, after="no comparison was written") from None
    try:
        if failures and fail_fast:
            status = EXIT_SOME_FAILED if done else EXIT_USAGE
            raise BatchFailed(f"stopped at the first failure (--fail-fast); analyses written so far are kept in "
                              f"{out_dir / 'analysis'}; no comparison made", exit_status=status)

        sessions, read = _checked_analyses(sessions, recordings, given, done, failures, notes, labels=labels,
                                           design=design, contrast=contrast, fail_fast=fail_fast, out_dir=out_dir)
        analyses = [read[path][:3] for path in sessions["path"]]
        stored_arrays = {str(read[path][2]): read[path][3] for path in sessions["path"] if read[path][3] is not None}
        if failures and len(analyses) < 2:
            raise BatchFailed(f"{len(failures)} recording(s) failed and {len(analyses)} analysed: nothing to compare",
                              exit_status=EXIT_USAGE if not analyses else EXIT_SOME_FAILED)
        contents = {path: _content_of(read[path]) for path in sessions["path"]}
        record = output.make_record(parameters, [analysis_metrics_file(loc) for _, _, loc in analyses],
                                    complete=not failures)
        if output.is_up_to_date(out_dir, record):
            comparison = pd.read_csv(out_dir / "comparison.csv", keep_default_na=False, na_values=[""])
            previous = json.loads((out_dir / "params.json").read_text())
            comparison.attrs.update(issues=previous.get("issues", []), notes=previous.get("notes", []), failures=[],
                                    warnings=previous.get("warnings", []), up_to_date=True)
            return out_dir, comparison

        table = session_table(sessions, analyses)
        notes += table.notes
        params_by_folder = {str(folder): params for _, params, folder in analyses}
        metrics = comparable_rows(table.metrics)
        if level == "summary":
            metrics = summarize_channels(metrics, table.channels)
        paired_table = SessionTable(metrics, table.sessions)
        if contrast is not None:
            paired_table, labels = condition_contrast(paired_table, contrast), contrast
        pre, post, issues, labels = pair_sessions(paired_table, labels=labels)
        if design == "unpaired":
            issues = []
        warnings = [] if contrast is not None else same_recording_warnings(table.sessions, labels, contents)
        subjects = sorted(set(pre["subject"]) & set(post["subject"]))
        results = {}
        if design == "unpaired" or len(subjects) >= 2:
            results["comparison"] = compare_tables(pre, post, design=design, n_permutations=n_permutations,
                                                   n_bootstrap=n_bootstrap, seed=seed)
        if design == "paired" and len(subjects) < 3 and contrast is None:
            window_tables = []
            for subject in subjects:
                windows = {}
                for label in labels:
                    rows = table.sessions[(table.sessions["subject"] == subject) & (table.sessions["session"] == label)]
                    if len(rows) != 1:
                        continue
                    folder = rows["analysis"].iloc[0]
                    arrays = stored_arrays.get(folder, {})
                    windows[label] = window_metrics(arrays, params_by_folder[folder], level=level,
                                                    channels=table.channels)
                if len(windows) == 2 and not any(w.empty for w in windows.values()):
                    window_tables.append(compare_windows(windows[labels[0]], windows[labels[1]], subject=subject,
                                                         n_permutations=n_permutations, n_bootstrap=n_bootstrap,
                                                         seed=seed))
                else:
                    issues.append(f"subject {subject}: no per-window values (recordings or epoch sets shorter "
                                  "than 4 windows), no within-subject comparison")
            if window_tables:
                results["comparison_windows"] = pd.concat(window_tables, ignore_index=True)
                results["comparison_windows"].attrs["parameters"] = dict(window_tables[0].attrs["parameters"])
        if not results:
            if contrast is not None:
                raise ParameterError(f"--contrast {','.join(contrast)}: {len(subjects)} recording(s) have both conditions; "
                                     "a contrast across recordings needs at least 2")
            raise ParameterError(
                f"nothing to compare: {len(subjects)} subject(s) have both a {labels[0]} and a {labels[1]} session"
                + (f" ({'; '.join(issues)})" if issues else "")
            )
        if "comparison" not in results:
            # Within-subject windows are then the only comparison: it is the comparison table.
            results = {"comparison": results["comparison_windows"]}
        from harmonix.compare.regions import crosstalk_map, flag_crosstalk
        from harmonix.compare.tables import significance_warning

        reach = significance_warning(results["comparison"])
        if reach:
            warnings.append(reach)

        explains = crosstalk_map(params_by_folder.values())
        results = {name: flag_crosstalk(frame, explains) if name == "comparison" else frame
                   for name, frame in results.items()}
        output.mark_out(out_dir)
        staged = output.ResultStaging(out_dir)
        with staged as staging:
            for name, frame in results.items():
                frame.to_csv(staging / f"{name}.csv", index=False)
            table.sessions.to_csv(staging / "sessions.csv", index=False)
            metrics.to_csv(staging / "session_table.csv", index=False)
            comparison = results["comparison"]
            summary = {"labels": list(labels), "design": design, "level": level, "n_subjects_paired": len(subjects),
                       "n_permutations": n_permutations, "n_bootstrap": n_bootstrap, "seed": seed,
                       "tables": {name: frame.attrs.get("parameters", {"design": "windows"})
                                  for name, frame in results.items()},
                       "notes": notes, "issues": issues, "warnings": warnings}
            if report:
                from harmonix.report.comparison import comparison_report

                html = comparison_report(comparison, table.sessions, summary, issues=warnings + issues + notes)
                (staging / "report.html").write_text(html, encoding="utf-8")
            write_json(staging / "params.json", {**summary, **_run_provenance(), "provenance": record})
            staged.commit()
        if failures:
            write_failures(out_dir, failures)
        else:
            remove_failures(out_dir)
    except KeyboardInterrupt:
        raise Interrupted(_stopped_comparing(done, out_dir)) from None
    comparison.attrs.update(issues=issues, notes=notes, failures=failures, warnings=warnings, up_to_date=False)
    return out_dir, comparison
