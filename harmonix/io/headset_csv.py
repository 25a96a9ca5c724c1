"""Read CSV exports of consumer EEG headsets (Muse, eeg-notebooks, OpenBCI-like).

The layout is one row per sample: a timestamp column, one column per
electrode in µV, and optional marker columns whose non-zero values flag
stimulus onsets (numbers, or labels such as ``'left'`` that are given integer
codes, see :func:`read_headset_csv`). Such files carry no sampling rate, so it is estimated from
the timestamps, which are jittery (Bluetooth packets arrive in bursts and are
time-stamped on arrival) and may have gaps (lost packets).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from harmonix.errors import DataWarning, InputFileError, ParameterError

__all__ = ["SamplingEstimate", "estimate_sfreq", "read_headset_csv", "read_headset_csv_with_timing"]

_TIME_COLUMNS = ("timestamps", "timestamp", "time", "times", "time_s", "time_ms", "timestamp_ms")
_MARKER_COLUMN = re.compile(r"^(markers?|marker\s*\d+|events?|triggers?)$", re.IGNORECASE)
_INDEX_COLUMN = re.compile(r"^(sample[\s_]*index|index|sample|counter)$", re.IGNORECASE)

_COMMON_RATES = (100.0, 128.0, 160.0, 200.0, 250.0, 256.0, 500.0, 512.0, 1000.0, 1024.0, 2000.0, 2048.0)
_SNAP_TOLERANCE = 0.005
"""Relative distance to a common device rate under which the estimate is rounded to it."""

_GAP_FACTOR = 10.0
"""A step this many nominal periods long is a gap (lost samples), not jitter."""

_IRREGULAR_JITTER = 0.5
"""Timestamp jitter (robust std) above this fraction of a period is reported as irregular."""


_MAX_REPAIR_RUN = 3
"""Longest run of consecutive bad cells (samples) that ``repair=True`` interpolates."""

_TEXT_COLUMN = 0.5
"""A column whose present cells are less than this fraction numbers is text (ignored), not a channel."""


@dataclass(frozen=True)
class SamplingEstimate:
    """Sampling rate estimated from timestamps, and how regular they are.

    Attributes
    ----------
    sfreq : float
        Estimated sampling rate in Hz (rounded to a common device rate when
        within 0.5 %).
    raw_sfreq : float
        The estimate before rounding, in Hz.
    jitter : float
        Standard deviation of the timestamp steps (gaps and jumps excluded), in s.
    n_gaps : int
        Steps longer than ten periods (lost samples: the data after a gap are
        *not* shifted; samples are assumed contiguous).
    max_gap : float
        Longest step in s (0 when there is no gap).
    n_backwards : int
        Steps where the timestamp decreases (arrival jitter included).
    n_jumps : int
        Backward jumps: steps back by more than ten periods (a clock reset,
        rows out of order, or one mis-stamped sample). They and the step that
        returns from a lone mis-stamped sample are left out of the estimate.
    max_jump : float
        Largest backward jump in s (0 when there is none).
    first_jump : int | None
        Index of the first sample stamped earlier than its predecessor by a jump.
    """

    sfreq: float
    raw_sfreq: float
    jitter: float
    n_gaps: int
    max_gap: float
    n_backwards: int
    n_jumps: int = 0
    max_jump: float = 0.0
    first_jump: int | None = None

    @property
    def irregular(self) -> bool:
        """Whether the timestamps jitter by more than half a period, have gaps, or go backwards."""
        return self.n_gaps > 0 or self.n_backwards > 0 or self.jitter * self.sfreq > _IRREGULAR_JITTER

    def describe(self) -> str:
        """One line for logs and reports."""
        text = f"sampling rate {self.sfreq:g} Hz estimated from timestamps (raw estimate {self.raw_sfreq:.4f} Hz)"
        if self.irregular:
            text += (
                f"; timestamps irregular: jitter {self.jitter * 1e3:.2f} ms, {self.n_gaps} gap(s)"
                f" (longest {self.max_gap:.3f} s), {self.n_backwards} backward step(s)"
            )
        if self.n_jumps:
            text += (
                f", {self.n_jumps} backward jump(s) (largest {self.max_jump:.3f} s, first at sample "
                f"{self.first_jump}) left out of the rate estimate; samples are kept in file order"
            )
        return text


def estimate_sfreq(timestamps: np.ndarray) -> SamplingEstimate:
    """Estimate the sampling rate from per-sample timestamps in seconds.

    The rate is ``(n - 1) / (t[-1] - t[0])`` over the stretches between gaps,
    which averages out arrival jitter exactly (a median step would return the
    timestamp resolution instead: Muse steps are 3, 4 or 5 ms at 256 Hz).
    Gaps are steps longer than ten median steps; they are excluded from the
    span so that lost packets do not lower the estimate. Backward jumps,
    steps back by more than ten median steps, are excluded too (counting one
    would shorten the span and raise the rate: a 1.2-s jump in 30 s at
    256 Hz reads as 267 Hz); when a lone sample is mis-stamped, the jump and
    the step back to the regular clock both go. Small backward steps are
    arrival jitter and stay in: they cancel against the longer steps beside them.

    Parameters
    ----------
    timestamps : ndarray, shape (n_times,)
        Sample times in seconds.

    Returns
    -------
    estimate : SamplingEstimate
        The rate and the regularity of the timestamps.

    Examples
    --------
    >>> t = np.arange(2560) / 256.0
    >>> estimate_sfreq(np.round(t, 3)).sfreq
    256.0
    >>> t[1000:] -= 1.2  # the clock jumps back
    >>> estimate = estimate_sfreq(t)
    >>> estimate.sfreq, estimate.n_jumps, estimate.first_jump
    (256.0, 1, 1000)
    """
    t = np.asarray(timestamps, dtype=float)
    if t.ndim != 1 or t.size < 3 or not np.all(np.isfinite(t)):
        raise ParameterError("need at least 3 finite timestamps to estimate a sampling rate")
    steps = np.diff(t)
    typical = np.median(steps)
    if typical <= 0:
        raise ParameterError("timestamps do not increase; pass sfreq explicitly")
    limit = _GAP_FACTOR * typical
    gaps = steps > limit
    jumps = steps < -limit
    # A lone mis-stamped sample shows as a jump and a gap side by side; when the
    # samples around it are regular, the gap is the way back, not lost samples.
    for k in np.flatnonzero(jumps):
        for a in (k - 1, k):
            if 0 <= a and a + 1 < steps.size and (gaps[a] or gaps[a + 1]) and 0 < steps[a] + steps[a + 1] <= limit:
                gaps[a if gaps[a] else a + 1] = False
                jumps[a] = jumps[a + 1] = True
    n_jumps = int(np.count_nonzero(steps[jumps] < 0))
    used = ~(gaps | jumps)
    span = steps[used].sum()
    n_intervals = int(used.sum())
    if span <= 0 or n_intervals == 0:
        raise ParameterError("timestamps do not increase; pass sfreq explicitly")
    raw_sfreq = n_intervals / span
    backward = np.flatnonzero(jumps & (steps < 0))
    return SamplingEstimate(
        sfreq=_snap_rate(raw_sfreq),
        raw_sfreq=float(raw_sfreq),
        jitter=float(np.std(steps[used])),
        n_gaps=int(gaps.sum()),
        max_gap=float(steps[gaps].max()) if gaps.any() else 0.0,
        n_backwards=int((steps < 0).sum()),
        n_jumps=n_jumps,
        max_jump=float(-steps[backward].min()) if backward.size else 0.0,
        first_jump=int(backward[0] + 1) if backward.size else None,
    )


def _snap_rate(sfreq: float) -> float:
    nearest = min(_COMMON_RATES, key=lambda rate: abs(rate - sfreq))
    if abs(nearest - sfreq) <= _SNAP_TOLERANCE * nearest:
        return nearest
    return float(sfreq)


def _skip_comment_lines(path: Path) -> int:
    # OpenBCI GUI files start with '%' metadata lines; counting them lets pandas
    # skip them without treating '%' inside later fields as a comment.
    count = 0
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith("%"):
                break
            count += 1
    return count


def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    """The table and the file line number (1-based) of its first data row."""
    try:
        n_comments = _skip_comment_lines(path)
        # Only empty cells are missing: a cell reading "NaN" or "NA" stays text, so that a refusal quotes it.
        table = pd.read_csv(path, skiprows=n_comments, skipinitialspace=True, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        detail = " ".join(str(err).split())
        raise InputFileError(f"{path}: not a readable CSV table ({detail})") from err
    table.columns = [str(c).strip() for c in table.columns]
    if len(table) < 3:
        raise InputFileError(f"{path}: a headset CSV needs at least 3 samples, found {len(table)} rows")
    return table, n_comments + 2


def _time_column(table: pd.DataFrame) -> str | None:
    lower = {c.lower(): c for c in table.columns}
    for name in _TIME_COLUMNS:
        if name in lower:
            return lower[name]
    return None


def _timestamps_in_seconds(values: np.ndarray, column: str, time_unit: str) -> np.ndarray:
    if time_unit == "auto":
        # No EEG device samples slower than 10 Hz, so a median step of 0.1 or more
        # means milliseconds (1 ms steps = 1 kHz; 0.1 ms would be 10 kHz).
        time_unit = "ms" if column.lower().endswith("_ms") or np.median(np.diff(values)) >= 0.1 else "s"
    if time_unit not in ("s", "ms"):
        raise ParameterError(f"time_unit must be 'auto', 's' or 'ms', got {time_unit!r}")
    return values / 1e3 if time_unit == "ms" else values


def _cell_present(cells: pd.Series) -> np.ndarray:
    """Mask of the cells that hold something (not empty or blank)."""
    if pd.api.types.is_numeric_dtype(cells):
        return cells.notna().to_numpy(dtype=bool)
    return (cells.notna() & (cells.astype("string").str.strip() != "")).to_numpy(dtype=bool)


def _parse_column(table: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(values, bad, is_text)`` of a column: numbers (NaN where a cell is empty or not a number),
    the mask of those cells, and whether the column is text (fewer than half its present cells numbers)."""
    cells = table[column]
    if pd.api.types.is_numeric_dtype(cells):
        values = cells.to_numpy(dtype=float)
    else:
        values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values)
    n_numbers = int((~bad).sum())
    is_text = n_numbers == 0 or n_numbers < _TEXT_COLUMN * int(_cell_present(cells).sum())
    return values, bad, is_text


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _cell(table: pd.DataFrame, column: str, row: int) -> str:
    value = table[column].iloc[row]
    return "" if pd.isna(value) else str(value).strip()


# How exports spell a missing value (pandas' default NA strings). The table is read with only
# empty cells missing, so that a refused cell is quoted as written; markers still treat these as none.
_MISSING_TEXT = frozenset({
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
})


def _is_nan_text(text: str) -> bool:
    """Whether a cell spells a missing value ("NaN", "NA", "null", ...)."""
    return text in _MISSING_TEXT


def _repair_cells(
    table: pd.DataFrame, column: str, values: np.ndarray, bad: np.ndarray, path: Path, first_line: int, repair: bool
) -> tuple[np.ndarray, str | None]:
    """Refuse, or with ``repair`` interpolate, the non-numeric or empty cells of one column.

    Returns the values and a one-line description of the repair (None when nothing was bad).
    """
    if not bad.any():
        return values, None
    rows = np.flatnonzero(bad)
    first = int(rows[0])
    shown = _cell(table, column, first)
    what = "an empty cell" if not shown else f"a {'missing' if _is_nan_text(shown) else 'non-numeric'} value {shown!r}"
    more = f" ({rows.size} bad cells in all)" if rows.size > 1 else ""
    if not repair:
        raise InputFileError(
            f"{path}: column {column!r} has {what} at line {first_line + first}{more}; correct the file, or "
            "interpolate isolated bad cells with --repair-csv (repair=True in Python)"
        )
    longest = max(_runs(bad), key=lambda run: run[1] - run[0])
    if longest[1] - longest[0] > _MAX_REPAIR_RUN:
        raise InputFileError(
            f"{path}: column {column!r} has {longest[1] - longest[0]} consecutive non-numeric or empty cells "
            f"(lines {first_line + longest[0]}-{first_line + longest[1] - 1}); --repair-csv only "
            f"interpolates runs of up to {_MAX_REPAIR_RUN}"
        )
    good = np.flatnonzero(~bad)
    repaired = values.copy()
    repaired[rows] = np.interp(rows, good, values[good])
    return repaired, (
        f"column {column!r}: interpolated {rows.size} non-numeric or empty cell(s) from their neighbours "
        f"(first at line {first_line + first}: {shown!r})"
    )


def _timestamps(
    table: pd.DataFrame, column: str, path: Path, first_line: int, repair: bool
) -> tuple[np.ndarray, str | None]:
    values, bad, is_text = _parse_column(table, column)
    if is_text:
        raise ParameterError(
            f"{path}: timestamp column {column!r} is not numeric (e.g. dates or text); "
            "pass sfreq=... to give the sampling rate instead"
        )
    return _repair_cells(table, column, values, bad, path, first_line, repair)


def _marker_labels(table: pd.DataFrame, columns: list[str]) -> list[pd.Series]:
    """Per marker column: the stripped text of cells that are present but not numbers."""
    labels = []
    for column in columns:
        values = table[column]
        text = values.where(values.notna()).astype("string").str.strip()
        numeric = pd.to_numeric(values, errors="coerce")
        labels.append(text.where(numeric.isna() & text.notna() & (text != "") & ~text.isin(_MISSING_TEXT)))
    return labels


def _marker_codes(table: pd.DataFrame, columns: list[str], path: Path) -> tuple[np.ndarray, dict[str, int]]:
    """Merge marker columns into one integer code per sample (first non-zero wins).

    Numeric markers keep their value. Text markers (``'left'``, ``'stim_on'``)
    get the codes ``1..n`` in sorted order of the distinct labels, or
    ``max + 1..max + n`` above the largest numeric code when the columns hold
    numbers too, so that no label shares a code with a number. Returns the
    codes and the ``{label: code}`` mapping (empty without text markers).
    """
    labels = _marker_labels(table, columns)
    distinct = sorted({str(v) for series in labels for v in series.dropna()})
    numbers = [pd.to_numeric(table[c], errors="coerce").fillna(0).to_numpy(dtype=float) for c in columns]
    for column, values in zip(columns, numbers):
        if np.any(values != np.round(values)):
            raise InputFileError(f"{path}: marker column {column!r} holds non-integer values")
    top = max((float(np.max(values)) for values in numbers), default=0.0)
    offset = int(max(top, 0.0))
    mapping = {label: offset + i for i, label in enumerate(distinct, start=1)}
    codes = np.zeros(len(table), dtype=float)
    for values, text in zip(numbers, labels):
        is_label = text.notna().to_numpy()
        if is_label.any():
            values = values.copy()
            values[is_label] = [mapping[str(v)] for v in text[is_label]]
        codes = np.where(codes == 0, values, codes)
    return codes, mapping


def _label_annotations(codes: np.ndarray, mapping: dict[str, int], sfreq: float) -> mne.Annotations:
    """One zero-length annotation per text marker, described by its label."""
    names = {code: label for label, code in mapping.items()}
    onsets = np.flatnonzero(np.isin(codes, list(names)))
    return mne.Annotations(
        onset=onsets / sfreq,
        duration=np.zeros(len(onsets)),
        description=[names[int(codes[i])] for i in onsets],
    )


def describe_marker_codes(mapping: dict[str, int]) -> str:
    """One line for reports: ``'text markers coded as: left=1, right=2'``."""
    return "text markers coded as: " + ", ".join(f"{label}={code}" for label, code in mapping.items())


def read_headset_csv_with_timing(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    unit_scale: float = 1e-6,
    time_unit: str = "auto",
    ch_types: dict[str, str] | None = None,
    verbose: bool | str | int | None = None,
    repair: bool = False,
) -> tuple[mne.io.RawArray, SamplingEstimate | None]:
    """Like :func:`read_headset_csv`, also returning the timestamp analysis.

    Returns
    -------
    raw : mne.io.RawArray
        The recording.
    timing : SamplingEstimate | None
        ``None`` when ``sfreq`` was given or the file has no timestamp column.
    """
    raw, timing, _, _, repairs = _read_headset_csv(
        path, sfreq=sfreq, unit_scale=unit_scale, time_unit=time_unit, ch_types=ch_types, verbose=verbose,
        repair=repair,
    )
    for text in repairs:
        warnings.warn(f"{path}: {text}", DataWarning, stacklevel=2)
    return raw, timing


def _read_headset_csv(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    unit_scale: float = 1e-6,
    time_unit: str = "auto",
    ch_types: dict[str, str] | None = None,
    verbose: bool | str | int | None = None,
    repair: bool = False,
) -> tuple[mne.io.RawArray, SamplingEstimate | None, dict[str, int], tuple[str, ...], tuple[str, ...]]:
    """Read the CSV; also return the ``{label: code}`` mapping of text markers, notes, and what was repaired."""
    path = Path(path)
    table, first_line = _read_table(path)
    time_col = _time_column(table)
    marker_cols = [c for c in table.columns if _MARKER_COLUMN.match(c)]
    candidates = [
        c
        for c in table.columns
        if c not in (time_col, *marker_cols) and not _INDEX_COLUMN.match(c) and not c.startswith("Unnamed")
    ]
    repairs: list[str] = []
    columns: dict[str, np.ndarray] = {}
    for column in candidates:
        values, bad, is_text = _parse_column(table, column)
        if is_text:
            continue  # formatted dates, labels: not a channel
        columns[column], note = _repair_cells(table, column, values, bad, path, first_line, repair)
        if note:
            repairs.append(note)
    if not columns:
        raise InputFileError(f"{path}: no numeric channel columns found (columns: {', '.join(table.columns)})")
    ignored = [c for c in candidates if c not in columns]
    empty = [c for c in ignored if not _cell_present(table[c]).any()]
    text = [c for c in ignored if c not in empty]
    notes = tuple(
        f"{kind} column(s) {', '.join(map(repr, names))} ignored (not channels)"
        for kind, names in (("text", text), ("empty", empty))
        if names
    )

    timing = None
    if sfreq is None:
        if time_col is None:
            raise ParameterError(
                f"{path}: no timestamp column ({', '.join(_TIME_COLUMNS)}); pass sfreq to give the sampling rate"
            )
        values, note = _timestamps(table, time_col, path, first_line, repair)
        if note:
            repairs.append(note)
        seconds = _timestamps_in_seconds(values, time_col, time_unit)
        try:
            timing = estimate_sfreq(seconds)
        except ParameterError as err:
            raise ParameterError(f"{path}: {err}") from err
        if timing.n_jumps and not repair:
            k = timing.first_jump
            raise InputFileError(
                f"{path}: timestamps go back by {seconds[k - 1] - seconds[k]:.3f} s at line {first_line + k} "
                f"({_cell(table, time_col, k - 1)} then {_cell(table, time_col, k)})"
                + (f", {timing.n_jumps} backward jumps in all" if timing.n_jumps > 1 else "")
                + "; rows are out of order or the clock was reset. Keep the samples in file order and estimate the "
                "rate around the jumps with --repair-csv (repair=True in Python), or give the rate (--sfreq)"
            )
        sfreq = timing.sfreq
        if timing.n_gaps:
            # Only gaps shift the time axis of everything after them; jitter and
            # backward steps are arrival-time noise and only go into the report.
            warnings.warn(f"{path}: {timing.describe()}", DataWarning, stacklevel=3)
    if not sfreq > 0:
        raise ParameterError(f"{path}: sfreq must be positive, got {sfreq}")

    names = list(columns)
    data = np.vstack([columns[c] for c in names]) * unit_scale
    types = ["eeg"] * len(names)
    mapping: dict[str, int] = {}
    if marker_cols:
        codes, mapping = _marker_codes(table, marker_cols, path)
        data = np.vstack([data, codes[np.newaxis]])
        names.append("STI")
        types.append("stim")
    info = mne.create_info(names, float(sfreq), types)
    raw = mne.io.RawArray(data, info, verbose=verbose)
    if mapping:
        raw.set_annotations(_label_annotations(codes, mapping, float(sfreq)))
        raw.info["description"] = describe_marker_codes(mapping)
    if ch_types:
        raw.set_channel_types(ch_types, on_unit_change="ignore")
    return raw, timing, mapping, notes, tuple(repairs)


def read_headset_csv(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    unit_scale: float = 1e-6,
    time_unit: str = "auto",
    ch_types: dict[str, str] | None = None,
    verbose: bool | str | int | None = None,
    repair: bool = False,
) -> mne.io.RawArray:
    """Read a consumer-headset CSV export (e.g. Muse via eeg-notebooks) as a Raw.

    Columns are recognised by name: the timestamp column (``timestamps``,
    ``timestamp``, ``time``, ...), marker columns (``Marker0``, ``Marker``,
    ``markers``, ``events``, ``trigger``) and a sample-index column (dropped);
    every other numeric column is a channel, and text columns (such as
    formatted dates: fewer than half their cells are numbers) are ignored.
    A channel or timestamp column with a few non-numeric or empty cells is
    refused, naming the column, the line and the value, unless ``repair``
    is given. All channels are created as
    ``eeg``; :func:`harmonix.io.load_eeg` then types them by name (``Right
    AUX`` becomes ``misc``). Marker columns are merged into one stim channel
    ``STI`` whose non-zero values are the event codes (the first column with
    a non-zero value wins). Text markers such as ``'left'``/``'right'`` are
    coded ``1..n`` in sorted order of the distinct labels (above the largest
    numeric code when the columns also hold numbers); the mapping is kept in
    ``raw.info['description']`` (``'text markers coded as: left=1,
    right=2'``) and each such event also becomes a zero-length annotation
    described by its label. Empty cells count as no event.

    Parameters
    ----------
    path : path-like
        The CSV file.
    sfreq : float | None
        Sampling rate in Hz. ``None`` estimates it from the timestamps (see
        :func:`estimate_sfreq`); a :class:`~harmonix.errors.DataWarning` is issued when they have gaps.
    unit_scale : float
        Factor from file values to volts; ``1e-6`` for files in µV.
    time_unit : {'auto', 's', 'ms'}
        Unit of the timestamps. ``'auto'`` takes milliseconds when the column
        name ends in ``_ms`` or the median step is at least 0.1.
    ch_types : dict of str to str | None
        Channel types to set, e.g. ``{"Right AUX": "eeg"}``.
    verbose : bool | str | int | None
        MNE verbosity.
    repair : bool
        Repair instead of refusing: non-numeric or empty cells in runs of up
        to three samples are interpolated linearly from their neighbours,
        and backward timestamp jumps (steps back by more than ten periods)
        are left out of the rate estimate, the samples kept in file order.
        What was repaired is issued as a :class:`~harmonix.errors.DataWarning` (and goes into
        the notes of :func:`harmonix.io.load_eeg_with_report`).

    Returns
    -------
    raw : mne.io.RawArray
        Data in volts, shape (n_channels, n_times); samples are assumed
        contiguous (gaps in the timestamps are reported, not filled).

    Raises
    ------
    InputFileError
        Not a CSV table, fewer than 3 rows, no numeric channel column,
        non-integer numeric markers; without ``repair``, a non-numeric or
        empty cell in a channel or timestamp column, or timestamps that jump
        back (the message names the line); with it, runs of bad cells too
        long to interpolate.
    ParameterError
        No ``sfreq`` and no usable timestamps: no timestamp column, a
        non-numeric one (dates, text), or timestamps that do not increase.

    Examples
    --------
    >>> raw = read_headset_csv("muse_recording.csv")  # doctest: +SKIP
    >>> raw.ch_names  # doctest: +SKIP
    ['TP9', 'AF7', 'AF8', 'TP10', 'Right AUX', 'STI']
    """
    raw, _ = read_headset_csv_with_timing(
        path, sfreq=sfreq, unit_scale=unit_scale, time_unit=time_unit, ch_types=ch_types, verbose=verbose,
        repair=repair,
    )
    return raw
