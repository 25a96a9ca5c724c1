"""Session tables: which recording is which subject, session label and condition.

A comparison starts from a list of recordings (or of ``harmonix analyze``
output folders) and needs, for each, the subject it belongs to and its
session label (``pre``/``post``, or any ordered labels). These come, in order
of precedence, from:

1. a small CSV the user writes (columns ``path, subject, session`` and
   optionally ``condition``), see :func:`read_session_csv`;
2. a file-name pattern: a regular expression with named groups ``subject``,
   ``session`` and/or ``condition`` (:func:`entities_from_name`);
3. BIDS entities in the file name (``sub-01_ses-pre_task-rest_eeg.edf``:
   subject ``01``, session ``pre``, condition ``rest`` from the task);
4. for ``harmonix compare PRE... --post POST...`` without any of those, the
   position: the i-th pre recording is paired with the i-th post recording.

The tidy session table (:func:`session_table`) is every metric row of every
analysis with ``subject``, ``session`` (label) and ``condition`` columns
added; :func:`pair_sessions` splits it into the pre and post tables that
:func:`harmonix.compare.compare_tables` takes, and lists what could not be
paired instead of dropping it silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from harmonix.errors import InputFileError, ParameterError

SESSION_COLUMNS = ("subject", "session", "condition", "path")
"""Columns of a session list (one row per recording)."""

SUMMARY_COMPONENT = "mean"
"""Component name of channel-level metrics averaged over channels."""

_BIDS_CONDITION_ENTITIES = ("task", "acq", "run")


def is_analysis_folder(path: str | PathLike) -> bool:
    """True when ``path`` is an output folder of ``harmonix analyze`` (metrics.csv and params.json)."""
    path = Path(path)
    return path.is_dir() and (path / "metrics.csv").is_file() and (path / "params.json").is_file()


def is_analysis_output(path: str | PathLike) -> bool:
    """True for any ``harmonix analyze`` output of one recording, complete or not.

    A plain output folder (:func:`is_analysis_folder`, or a folder that
    lost one of its files: it holds ``metrics.csv``, or ``params.json`` and
    ``arrays.npz``) or the ``*_desc-harmonix_metrics.tsv`` of a
    BIDS-derivatives dataset. :func:`read_analysis` says what is wrong with
    an incomplete one.
    """
    path = Path(path)
    if path.suffix == ".tsv":
        return path.is_file() and path.name.endswith("_desc-harmonix_metrics.tsv")
    return path.is_dir() and ((path / "metrics.csv").exists() or
                              ((path / "params.json").exists() and (path / "arrays.npz").exists()))


def analysis_name(path: str | PathLike) -> str:
    """The recording label of an analysis output (folder name, or BIDS basename without ``desc``/suffix).

    Examples
    --------
    >>> analysis_name("deriv/sub-01/eeg/sub-01_task-rest_desc-harmonix_metrics.tsv")
    'sub-01_task-rest'
    >>> analysis_name("results/rec01")
    'rec01'
    """
    name = Path(path).name
    suffix = "_desc-harmonix_metrics.tsv"
    return name[: -len(suffix)] if name.endswith(suffix) else name


def analysis_arrays_file(path: str | PathLike) -> Path:
    """Where the arrays of an analysis output are (``arrays.npz`` or ``*_desc-harmonix_arrays.npz``)."""
    path = Path(path)
    if path.suffix == ".tsv":
        from harmonix.study.derivatives import arrays_path

        return arrays_path(path)
    return path / "arrays.npz"


def analysis_metrics_file(path: str | PathLike) -> Path:
    """The metrics table of an analysis output."""
    path = Path(path)
    return path if path.suffix == ".tsv" else path / "metrics.csv"


def entities_from_name(path: str | PathLike, pattern: str | None = None) -> dict[str, str]:
    """Subject, session and condition from a file name.

    Parameters
    ----------
    path : path-like
        A recording or an analysis folder; only its name is used.
    pattern : str | None
        A regular expression searched in the name, with named groups among
        ``subject``, ``session`` and ``condition``. Without it, BIDS entities
        are read (``sub``, ``ses``, and ``task``/``acq``/``run`` joined as the
        condition).

    Returns
    -------
    dict
        The entities found (possibly none).

    Examples
    --------
    >>> entities_from_name("sub-07_ses-post_task-rest_eeg.edf")
    {'subject': '07', 'session': 'post', 'condition': 'rest'}
    >>> entities_from_name("S001R04.edf", pattern=r"S(?P<subject>\\d+)R(?P<condition>\\d+)")
    {'subject': '001', 'condition': '04'}
    """
    name = Path(path).name
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except re.error as err:
            raise ParameterError(f"--pattern {pattern!r} is not a regular expression: {err}") from None
        unknown = set(compiled.groupindex) - {"subject", "session", "condition"}
        if unknown or not compiled.groupindex:
            raise ParameterError(
                f"--pattern {pattern!r}: use named groups among subject, session, condition, e.g. "
                r"'S(?P<subject>\d+)_(?P<session>pre|post)'"
            )
        match = compiled.search(name)
        if match is None:
            raise ParameterError(f"{name}: does not match --pattern {pattern!r}")
        return {k: v for k, v in match.groupdict().items() if v is not None}
    found = dict(re.findall(r"(?:^|_)([a-z]+)-([A-Za-z0-9]+)", name))
    entities = {}
    if "sub" in found:
        entities["subject"] = found["sub"]
    if "ses" in found:
        entities["session"] = found["ses"]
    condition = [found[key] for key in _BIDS_CONDITION_ENTITIES if key in found]
    if condition:
        entities["condition"] = "-".join(condition)
    return entities


def read_session_csv(path: str | PathLike) -> pd.DataFrame:
    """Read a session list: columns ``path``, ``subject``, ``session`` and optionally ``condition``.

    Relative paths are taken relative to the CSV's folder. Every path must
    exist (a recording or an analysis folder).
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot read the session list ({err})") from None
    table.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in ("path", "subject", "session") if c not in table.columns]
    if missing:
        raise InputFileError(
            f"{path}: session list needs columns path, subject, session (optional: condition); missing {', '.join(missing)}"
        )
    if table.empty:
        raise InputFileError(f"{path}: the session list has no rows")
    if "condition" not in table.columns:
        table["condition"] = ""
    blank = table[(table["path"].str.strip() == "") | (table["subject"].str.strip() == "")
                  | (table["session"].str.strip() == "")]
    if not blank.empty:
        raise InputFileError(f"{path}: row {int(blank.index[0]) + 2} has an empty path, subject or session")
    table["path"] = [str(p if Path(p).is_absolute() else path.parent / p) for p in table["path"].str.strip()]
    _check_paths_exist(table["path"], f"{path}: ")
    return table[list(SESSION_COLUMNS)].reset_index(drop=True)


def _check_paths_exist(paths: Sequence[str], prefix: str = "") -> None:
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise InputFileError(f"{prefix}{len(missing)} file(s) not found: {', '.join(missing[:5])}")


def sessions_from_files(
    pre: Sequence[str | PathLike],
    post: Sequence[str | PathLike],
    *,
    pattern: str | None = None,
    labels: tuple[str, str] = ("pre", "post"),
) -> tuple[pd.DataFrame, list[str]]:
    """A session list from pre and post recordings (``harmonix compare PRE... --post POST...``).

    Subjects come from ``pattern`` or BIDS entities; when no name carries a
    subject, recordings are paired by position (then both lists must be the
    same length). The condition comes from the name when present.

    Returns
    -------
    sessions : DataFrame
        Columns :data:`SESSION_COLUMNS`, one row per recording.
    notes : list of str
        How subjects were assigned.
    """
    if not pre or not post:
        raise ParameterError("give at least one pre recording and one --post recording")
    _check_paths_exist([str(p) for p in [*pre, *post]])
    rows = []
    for label, paths in zip(labels, (pre, post)):
        for path in paths:
            entities = entities_from_name(path, pattern)
            rows.append({"subject": entities.get("subject", ""), "session": label,
                         "condition": entities.get("condition", ""), "path": str(path)})
    table = pd.DataFrame(rows, columns=list(SESSION_COLUMNS))
    named = table["subject"] != ""
    if named.all():
        return table, ["subjects from the file names" + (f" (pattern {pattern})" if pattern else " (BIDS sub- entity)")]
    if named.any():
        unnamed = table.loc[~named, "path"].tolist()
        raise ParameterError(
            f"{len(unnamed)} recording(s) carry no subject in their name ({', '.join(unnamed[:3])}) while others do; "
            "name them consistently, give --pattern, or a SESSIONS.csv"
        )
    if len(pre) != len(post):
        raise ParameterError(
            f"{len(pre)} pre and {len(post)} post recordings and no subject in the file names: cannot pair them; "
            "give --pattern with a subject group or a SESSIONS.csv with a subject column"
        )
    width = len(str(len(pre)))
    subjects = [f"pair{i + 1:0{width}d}" for i in range(len(pre))]
    table["subject"] = subjects + subjects
    return table, ["no subject in the file names: the i-th pre recording is paired with the i-th post recording"]


def expand_compare_inputs(
    specs: Sequence[str | PathLike],
    *,
    filters: dict[str, Sequence[str]] | None = None,
) -> list[str]:
    """What ``harmonix compare`` was given, as one path per recording or analysis.

    Analysis outputs (plain folders, ``*_desc-harmonix_metrics.tsv``) are
    kept; a harmonix derivatives dataset stands for every metrics table in it
    (found by entity, ``filters`` applied), and a folder of plain analyze
    outputs (``harmonix analyze ... --out results/``) for each of them;
    everything else (files, globs, folders, BIDS roots) is resolved by
    :func:`harmonix.study.inputs.resolve_inputs` with ``filters``.
    """
    from harmonix.study.derivatives import find_outputs, is_harmonix_derivatives
    from harmonix.study.inputs import entities_from_name as bids_entities
    from harmonix.study.inputs import matches_filters, resolve_inputs

    filters = {k: v for k, v in (filters or {}).items() if v}
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            out.extend(str(r.path) for r in resolve_inputs(pending, filters=filters))
            pending.clear()

    for spec in specs:
        spec = str(spec)
        if is_analysis_output(spec):
            flush()
            out.append(spec)
        elif Path(spec).is_dir() and is_harmonix_derivatives(spec):
            flush()
            found = find_outputs(spec, filters)
            if not found:
                where = " matching the entity filters" if filters else ""
                raise InputFileError(f"{spec}: no harmonix metrics tables (*_desc-harmonix_metrics.tsv){where} in "
                                     "this derivatives dataset")
            out.extend(str(path) for path, _ in found)
        elif Path(spec).is_dir() and (outputs := [c for c in sorted(Path(spec).iterdir())
                                                 if c.is_dir() and is_analysis_output(c)]):
            flush()
            kept = [c for c in outputs if matches_filters(bids_entities(c.name), filters)]
            if not kept:
                raise ParameterError(f"{spec}: no analysis output matches the entity filters")
            out.extend(str(c) for c in kept)
        else:
            pending.append(spec)
    flush()
    return list(dict.fromkeys(out))


def sessions_from_entities(paths: Sequence[str | PathLike], *, pattern: str | None = None) -> pd.DataFrame:
    """A session list from recordings or analyses whose names carry subject and session (BIDS, or ``pattern``).

    Raises
    ------
    ParameterError
        A path without a subject or a session in its name: then say which
        are pre and post (``--post``) or write a SESSIONS.csv.
    """
    rows = []
    for path in paths:
        entities = entities_from_name(analysis_name(path), pattern)
        if not entities.get("subject") or not entities.get("session"):
            raise ParameterError(
                f"{path}: no subject and session in its name (BIDS sub-/ses-); give PRE... --post POST..., "
                "--pattern, or a SESSIONS.csv"
            )
        rows.append({"subject": entities["subject"], "session": entities["session"],
                     "condition": entities.get("condition", ""), "path": str(path)})
    if not rows:
        raise ParameterError("no recordings to compare")
    return pd.DataFrame(rows, columns=list(SESSION_COLUMNS))


def sessions_for_contrast(paths: Sequence[str | PathLike], *, pattern: str | None = None) -> pd.DataFrame:
    """A session list where every recording is compared with itself (conditions within recordings).

    Subject and session come from the name (BIDS, or ``pattern``) when it
    carries them; otherwise each recording is its own subject (its name),
    with an empty session label.
    """
    rows = []
    for path in paths:
        name = analysis_name(path)
        entities = entities_from_name(name, pattern)
        rows.append({"subject": entities.get("subject") or name, "session": entities.get("session") or "",
                     "condition": "", "path": str(path)})
    if not rows:
        raise ParameterError("no recordings to compare")
    return pd.DataFrame(rows, columns=list(SESSION_COLUMNS))


@dataclass
class SessionTable:
    """Every metric row of every session, with subject, label and condition.

    Attributes
    ----------
    metrics : DataFrame
        :data:`harmonix.tables.METRIC_COLUMNS` (``condition``: the event
        condition of the row, ``''`` for the whole recording) plus
        ``subject``, ``label`` (the session label, e.g. pre/post) and
        ``recording`` (the analysis' session name).
    sessions : DataFrame
        One row per recording: :data:`SESSION_COLUMNS` plus ``recording``,
        ``sfreq``, ``n_channels`` and ``analysis`` (its output folder).
    notes : list of str
        What was aligned, and how.
    channels : list of str
        Channels analysed in every session (the channel-level rows kept).
    """

    metrics: pd.DataFrame
    sessions: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)


_TEXT_COLUMNS = ("session", "condition", "metric", "band", "component", "unit")


_REQUIRED_COLUMNS = ("metric", "band", "component", "value", "unit")
_WINDOW_ARRAYS = ("window_band_power", "window_starts", "ch_names", "window_harmonic_power", "window_harmonic_starts",
                  "harmonic_bands", "energy", "energy_times")
"""The arrays a comparison reads (:func:`harmonix.compare.windows.window_metrics`)."""


def _unusable(path: Path, what: str) -> InputFileError:
    return InputFileError(f"{path}: {what}; analyse the recording again (harmonix analyze) or leave it out")


def _check_metrics(metrics: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The metrics table with a float ``value`` column; InputFileError naming what is wrong."""
    missing = [c for c in _REQUIRED_COLUMNS if c not in metrics.columns]
    if missing:
        raise _unusable(path, f"not a harmonix metrics table (no column {', '.join(missing)})")
    if metrics.empty:
        raise _unusable(path, "the metrics table has no rows")
    values = pd.to_numeric(metrics["value"], errors="coerce")
    given = metrics["value"].astype(str).str.strip()
    bad = np.flatnonzero(values.isna().to_numpy() & metrics["value"].notna().to_numpy()
                         & ~given.isin(["", "n/a", "nan", "NaN"]).to_numpy())
    if bad.size:
        raise _unusable(path, f"row {int(bad[0]) + 2}: value {metrics['value'].iloc[bad[0]]!r} is not a number")
    metrics = metrics.assign(value=values.astype(float))
    if "condition" not in metrics.columns:
        metrics.insert(1, "condition", "")
    for column in _TEXT_COLUMNS:
        if column in metrics.columns:
            metrics[column] = metrics[column].fillna("").astype(str)
    return metrics


def _check_params(params, path: Path) -> dict:
    """The analysis parameters, checked for what a comparison reads; InputFileError naming what is wrong."""
    if not isinstance(params, dict):
        raise _unusable(path, f"holds a JSON {type(params).__name__}, not the analysis parameters (an object)")
    sfreq = params.get("sfreq")
    if isinstance(sfreq, bool) or not isinstance(sfreq, (int, float)) or not np.isfinite(sfreq) or sfreq <= 0:
        raise _unusable(path, f"no valid sampling rate (sfreq: {sfreq!r})")
    channels = params.get("channels_analysed")
    if not isinstance(channels, list) or not channels or not all(isinstance(c, str) for c in channels):
        raise _unusable(path, "no list of analysed channels (channels_analysed)")
    bands = params.get("bands", [])
    if not isinstance(bands, list) or not all(isinstance(b, dict) and isinstance(b.get("name"), str) for b in bands):
        raise _unusable(path, "its bands are not a list of {name, fmin, fmax}")
    return params


def read_analysis(folder: str | PathLike) -> tuple[pd.DataFrame, dict]:
    """Read and check the metrics and parameters of a ``harmonix analyze`` output.

    ``folder`` is a plain output folder (``metrics.csv``, ``params.json``) or
    the ``*_desc-harmonix_metrics.tsv`` of a derivatives dataset (parameters
    from its sidecar). Text columns, ``condition`` included, are strings
    with ``''`` for empty (never NaN); outputs made before ``condition``
    existed get an empty one.

    Raises
    ------
    InputFileError
        One line naming the file and what is wrong with it: missing,
        unreadable, not a metrics table (columns), a value that is not a
        number, parameters that are not an object or lack the sampling rate,
        channels or bands.
    """
    folder = Path(folder)
    if folder.suffix == ".tsv":
        from harmonix.study.derivatives import read_metrics, read_sidecar, sidecar_path

        if not folder.is_file():
            raise InputFileError(f"{folder}: no such metrics table")
        sidecar = sidecar_path(folder)
        if not sidecar.is_file():
            raise _unusable(sidecar, "missing (the metrics table's JSON sidecar)")
        try:
            json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise _unusable(sidecar, f"cannot be read as JSON ({_first_line(err)})") from None
        described = read_sidecar(folder)
        if not isinstance(described, dict) or "Provenance" not in described:
            raise _unusable(sidecar, "has no Provenance (the analysis parameters)")
        params = _check_params(described["Provenance"], sidecar)
        return _check_metrics(read_metrics(folder), folder), params
    if not folder.is_dir():
        raise InputFileError(f"{folder}: not a harmonix analyze output folder")
    for name in ("metrics.csv", "params.json"):
        if not (folder / name).is_file():
            raise _unusable(folder / name, "missing (not a complete harmonix analyze output)")
    try:
        metrics = pd.read_csv(folder / "metrics.csv", keep_default_na=False, na_values=[""],
                              dtype={c: str for c in _TEXT_COLUMNS})
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise _unusable(folder / "metrics.csv", f"cannot be read as a table ({_first_line(err)})") from None
    try:
        params = json.loads((folder / "params.json").read_text())
    except (OSError, ValueError) as err:
        raise _unusable(folder / "params.json", f"cannot be read as JSON ({_first_line(err)})") from None
    params = _check_params(params, folder / "params.json")
    return _check_metrics(metrics, folder / "metrics.csv"), params


def _first_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def read_arrays_file(path: str | PathLike, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Every array (or those among ``keys``) of an analysis' ``.npz`` file, read now; never a pickled object.

    Reading every member at once turns a damaged file (random bytes, cut
    short, a corrupt member) into one error here rather than a failure
    wherever an array happens to be used later.

    Raises
    ------
    InputFileError
        Naming the file and why it cannot be read.
    """
    import zipfile
    import zlib

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                raise _unusable(path, "not a NumPy .npz file (no zip header)")
        with np.load(path, allow_pickle=False) as stored:
            wanted = stored.files if keys is None else [key for key in keys if key in stored.files]
            return {key: stored[key] for key in wanted}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise _unusable(path, f"cannot be read as a NumPy .npz file ({_first_line(err)})") from None


def read_analysis_arrays(folder: str | PathLike, params: dict) -> dict[str, np.ndarray]:
    """The per-window arrays of an analysis output (``{}`` when it has none), checked against its parameters.

    Only the arrays a comparison reads are loaded (see
    :func:`harmonix.compare.windows.window_metrics`); no pickled objects.

    Raises
    ------
    InputFileError
        The file is not a readable ``.npz``, or its window arrays do not fit
        together (window count, channels, bands).
    """
    path = analysis_arrays_file(folder)
    if not path.exists():
        return {}
    arrays = read_arrays_file(path, _WINDOW_ARRAYS)
    if "window_band_power" not in arrays:
        return arrays

    def wrong(what: str) -> InputFileError:
        return _unusable(path, f"arrays of the wrong shape: {what}")

    power = arrays["window_band_power"]
    if power.ndim != 3 or not np.issubdtype(power.dtype, np.number):
        raise wrong(f"window_band_power has shape {power.shape} ({power.dtype}), not (windows, channels, bands)")
    for key, size, what in (("window_starts", power.shape[0], "windows"), ("ch_names", power.shape[1], "channels")):
        value = arrays.get(key)
        if value is None or value.ndim != 1 or value.size != size:
            raise wrong(f"{key} has shape {None if value is None else value.shape}, not the {size} {what} "
                        f"of window_band_power {power.shape}")
    if not np.issubdtype(arrays["window_starts"].dtype, np.number):
        raise wrong("window_starts is not numeric")
    if len(params.get("bands", [])) != power.shape[2]:
        raise wrong(f"window_band_power has {power.shape[2]} bands, params has {len(params.get('bands', []))}")
    harmonic = arrays.get("window_harmonic_power")
    if harmonic is not None:
        bands = arrays.get("harmonic_bands")
        if harmonic.ndim != 3 or bands is None or bands.ndim != 1 or bands.size != harmonic.shape[1]:
            raise wrong(f"window_harmonic_power {harmonic.shape} does not match harmonic_bands "
                        f"{None if bands is None else bands.shape}")
        starts = arrays.get("window_harmonic_starts")
        if starts is not None and (starts.ndim != 1 or starts.size != harmonic.shape[0]):
            raise wrong(f"window_harmonic_starts {starts.shape} does not match window_harmonic_power {harmonic.shape}")
    energy, times = arrays.get("energy"), arrays.get("energy_times")
    if (energy is None) != (times is None) or (energy is not None and (energy.ndim != 1 or energy.shape != times.shape)):
        raise wrong(f"energy {None if energy is None else energy.shape} does not match energy_times "
                    f"{None if times is None else times.shape}")
    return arrays


def input_content(params: dict) -> str | None:
    """SHA-256 of the recording an analysis was made from (``None`` when its parameters do not say)."""
    source = params.get("input") if isinstance(params, dict) else None
    if not isinstance(source, dict) or not isinstance(source.get("sha256"), dict):
        return None
    hashes = source["sha256"]
    return hashes.get(source.get("path")) or (next(iter(hashes.values())) if len(hashes) == 1 else None)


def session_table(sessions: pd.DataFrame, analyses: Sequence[tuple[pd.DataFrame, dict, Path]]) -> SessionTable:
    """Join analyses to their session rows; channel-level rows are restricted to the shared channels.

    Parameters
    ----------
    sessions : DataFrame
        :data:`SESSION_COLUMNS`, one row per recording, in the order of ``analyses``.
    analyses : sequence of (metrics, params, folder)
        One analysis per session row.

    Raises
    ------
    ParameterError
        The analyses were made at different sampling rates (say which), so
        their band estimates are not comparable: analyse the recordings
        together with ``harmonix compare`` (which resamples them to one rate).
    """
    if len(sessions) != len(analyses):
        raise ParameterError(f"{len(sessions)} session rows but {len(analyses)} analyses")
    # Keyed by the full path: analyses of different recordings can share a name (A/x and B/x).
    rates = {str(folder): float(params.get("sfreq", np.nan)) for _, params, folder in analyses}
    if len(set(rates.values())) > 1:
        names = [analysis_name(folder) for folder in rates]
        labels = [str(f) if names.count(n) > 1 else n for f, n in zip(rates, names)]
        listing = ", ".join(f"{label} {rate:g} Hz" for label, rate in zip(labels, rates.values()))
        raise ParameterError(
            f"analyses made at different sampling rates ({listing}); pass the recordings themselves to "
            "harmonix compare, which resamples them to the lowest rate before analysing"
        )
    channel_sets = [list(params.get("channels_analysed") or []) for _, params, _ in analyses]
    shared = set(channel_sets[0]).intersection(*channel_sets[1:]) if channel_sets else set()
    notes = []
    frames = []
    info = []
    for (metrics, params, folder), (_, row), channels in zip(analyses, sessions.iterrows(), channel_sets):
        name = analysis_name(folder)
        dropped = [c for c in channels if c not in shared]
        if dropped:
            notes.append(f"{name}: channel-level rows of {', '.join(dropped)} left out (not in every session)")
            metrics = metrics[~metrics["component"].isin(dropped)]
        # ``condition`` of a metric row is the event condition it was computed over (part of its key);
        # the session list's condition (e.g. the BIDS task) describes the recording and stays in ``sessions``.
        if "condition" not in metrics.columns:
            metrics = metrics.assign(condition="")
        frame = metrics.assign(condition=metrics["condition"].fillna("").astype(str), subject=str(row["subject"]),
                               label=str(row["session"]), recording=name)
        frames.append(frame)
        info.append({**{c: row.get(c, "") for c in SESSION_COLUMNS}, "recording": name,
                     "sfreq": params.get("sfreq"), "n_channels": len(channels), "analysis": str(folder)})
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    channels = [c for c in channel_sets[0] if c in shared] if channel_sets else []
    return SessionTable(table, pd.DataFrame(info), notes, channels)


def comparable_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """Leave out rows that describe individual events (``energy_episode_*`` of one episode).

    The first episode of a pre session and the first of a post session are
    different events, not repeated measures of one quantity; their count
    (``energy_episode_count``) is compared instead.
    """
    per_event = metrics["metric"].str.startswith("energy_episode_") & metrics["component"].str.startswith("episode")
    return metrics[~per_event]


def channel_components(metrics: pd.DataFrame, channels: Sequence[str]) -> np.ndarray:
    """Boolean mask of rows whose component is one of ``channels``."""
    return metrics["component"].isin(list(channels)).to_numpy()


def summarize_channels(metrics: pd.DataFrame, channels: Sequence[str]) -> pd.DataFrame:
    """Average channel-level rows over channels (component :data:`SUMMARY_COMPONENT`); other rows pass.

    One whole-head value per metric x band keeps the number of tests (and so
    the false-discovery correction) proportionate to the questions asked;
    per-channel comparisons are available with ``level='channel'``.
    """
    is_channel = channel_components(metrics, channels)
    keys = [c for c in metrics.columns if c not in ("component", "value")]
    per_channel = metrics[is_channel]
    averaged = (per_channel.groupby(keys, dropna=False, sort=False)["value"].mean().reset_index()
                .assign(component=SUMMARY_COMPONENT))
    return pd.concat([metrics[~is_channel], averaged[metrics.columns]], ignore_index=True)


def pair_sessions(
    table: SessionTable,
    *,
    labels: tuple[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], tuple[str, str]]:
    """Split a session table into pre and post metric tables, reporting what cannot be paired.

    Parameters
    ----------
    table : SessionTable
    labels : (str, str) | None
        The two session labels to compare, in order (pre, post). By default
        ``('pre', 'post')`` when both occur, else the two labels in order of
        first appearance (an error when there are more than two).

    Returns
    -------
    pre, post : DataFrame
        Metric rows with a ``subject`` column. A subject with several
        recordings under one label (e.g. runs) is averaged per metric.
    issues : list of str
        Subjects with a pre and no post recording (and vice versa), and
        averaged repeats; shown in the report, never silently dropped.
    labels : (str, str)
        The labels used.
    """
    sessions = table.sessions
    present = list(dict.fromkeys(sessions["session"].astype(str)))
    if labels is None:
        if {"pre", "post"} <= set(present):
            labels = ("pre", "post")
        elif len(present) == 2:
            labels = (present[0], present[1])
        else:
            raise ParameterError(
                f"session labels {', '.join(present)}: say which two to compare with --labels PRE,POST"
            )
    missing = [label for label in labels if label not in present]
    if missing:
        raise ParameterError(f"no session labelled {', '.join(missing)} (labels present: {', '.join(present)})")
    issues = []
    subjects = {label: set(sessions.loc[sessions["session"] == label, "subject"].astype(str)) for label in labels}
    for subject in sorted(subjects[labels[0]] - subjects[labels[1]]):
        issues.append(f"subject {subject}: {labels[0]} recording without a {labels[1]} recording (not in the paired test)")
    for subject in sorted(subjects[labels[1]] - subjects[labels[0]]):
        issues.append(f"subject {subject}: {labels[1]} recording without a {labels[0]} recording (not in the paired test)")
    counts = sessions.groupby(["subject", "session"]).size()
    for (subject, label), count in counts[counts > 1].items():
        if label in labels:
            issues.append(f"subject {subject}: {count} {label} recordings averaged")
    metrics = table.metrics
    keys = ["subject", "metric", "band", "component", "unit"]
    if "condition" in metrics.columns:
        keys.insert(4, "condition")
        metrics = metrics.assign(condition=metrics["condition"].fillna("").astype(str))
    sides = []
    for label in labels:
        rows = metrics[metrics["label"] == label]
        sides.append(rows.groupby(keys, dropna=False, sort=False)["value"].mean().reset_index())
    return sides[0], sides[1], issues, tuple(labels)


def condition_contrast(table: SessionTable, contrast: tuple[str, str]) -> SessionTable:
    """Recast a session table so that two conditions of each recording are what gets paired.

    Each recording becomes a "subject" (``<subject>:<session>``) whose two
    "sessions" are the conditions ``contrast`` (e.g. ``('rest', 'stim')``):
    :func:`pair_sessions` with ``labels=contrast`` then compares the
    conditions within recordings, paired across recordings. Rows of other
    conditions and of the whole recording are left out.

    Raises
    ------
    ParameterError
        A condition that no recording has.
    """
    first, second = contrast
    metrics = table.metrics
    present = set(metrics["condition"].astype(str)) - {""} if "condition" in metrics.columns else set()
    missing = [c for c in contrast if c not in present]
    if missing:
        raise ParameterError(
            f"--contrast: no recording has condition {', '.join(missing)} "
            f"(conditions present: {', '.join(sorted(present)) or 'none; analyse with --conditions'})")
    unit = metrics["subject"].astype(str) + ":" + metrics["label"].astype(str)
    rows = metrics.assign(subject=unit, label=metrics["condition"].astype(str), condition="")
    rows = rows[rows["label"].isin(contrast)]
    sessions = []
    for _, session in table.sessions.iterrows():
        for condition in (first, second):
            sessions.append({**session.to_dict(), "subject": f"{session['subject']}:{session['session']}",
                             "session": condition})
    return SessionTable(rows.reset_index(drop=True), pd.DataFrame(sessions), list(table.notes), list(table.channels))
