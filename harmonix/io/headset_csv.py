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

from harmonix.errors import InputFileError, ParameterError

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
        Standard deviation of the timestamp steps (gaps excluded), in s.
    n_gaps : int
        Steps longer than ten periods (lost samples: the data after a gap are
        *not* shifted; samples are assumed contiguous).
    max_gap : float
        Longest step in s (0 when there is no gap).
    n_backwards : int
        Steps where the timestamp decreases.
    """

    sfreq: float
    raw_sfreq: float
    jitter: float
    n_gaps: int
    max_gap: float
    n_backwards: int

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
        return text


def estimate_sfreq(timestamps: np.ndarray) -> SamplingEstimate:
    """Estimate the sampling rate from per-sample timestamps in seconds.

    The rate is ``(n - 1) / (t[-1] - t[0])`` over the stretches between gaps,
    which averages out arrival jitter exactly (a median step would return the
    timestamp resolution instead: Muse steps are 3, 4 or 5 ms at 256 Hz).
    Gaps are steps longer than ten median steps; they are excluded from the
    span so that lost packets do not lower the estimate.

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
    """
    t = np.asarray(timestamps, dtype=float)
    if t.ndim != 1 or t.size < 3 or not np.all(np.isfinite(t)):
        raise ParameterError("need at least 3 finite timestamps to estimate a sampling rate")
    steps = np.diff(t)
    typical = np.median(steps)
    if typical <= 0:
        raise ParameterError("timestamps do not increase; pass sfreq explicitly")
    gaps = steps > _GAP_FACTOR * typical
    span = steps[~gaps].sum()
    n_intervals = int((~gaps).sum())
    if span <= 0:
        raise ParameterError("timestamps do not increase; pass sfreq explicitly")
    raw_sfreq = n_intervals / span
    return SamplingEstimate(
        sfreq=_snap_rate(raw_sfreq),
        raw_sfreq=float(raw_sfreq),
        jitter=float(np.std(steps[~gaps])),
        n_gaps=int(gaps.sum()),
        max_gap=float(steps[gaps].max()) if gaps.any() else 0.0,
        n_backwards=int((steps < 0).sum()),
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


def _read_table(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, skiprows=_skip_comment_lines(path), skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputFileError(f"{path}: not a readable CSV table ({err})") from err
    table.columns = [str(c).strip() for c in table.columns]
    if len(table) < 3:
        raise InputFileError(f"{path}: a headset CSV needs at least 3 samples, found {len(table)} rows")
    return table


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


def _timestamps(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    try:
        return pd.to_numeric(table[column], errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError) as err:
        raise ParameterError(
            f"{path}: timestamp column {column!r} is not numeric (e.g. dates or text); "
            "pass sfreq=... to give the sampling rate instead"
        ) from err


def _marker_labels(table: pd.DataFrame, columns: list[str]) -> list[pd.Series]:
    """Per marker column: the stripped text of cells that are present but not numbers."""
    labels = []
    for column in columns:
        values = table[column]
        text = values.where(values.notna()).astype("string").str.strip()
        numeric = pd.to_numeric(values, errors="coerce")
        labels.append(text.where(numeric.isna() & text.notna() & (text != "")))
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
) -> tuple[mne.io.RawArray, SamplingEstimate | None]:
    """Like :func:`read_headset_csv`, also returning the timestamp analysis.

    Returns
    -------
    raw : mne.io.RawArray
        The recording.
    timing : SamplingEstimate | None
        ``None`` when ``sfreq`` was given or the file has no timestamp column.
    """
    raw, timing, _ = _read_headset_csv(
        path, sfreq=sfreq, unit_scale=unit_scale, time_unit=time_unit, ch_types=ch_types, verbose=verbose
    )
    return raw, timing


def _read_headset_csv(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    unit_scale: float = 1e-6,
    time_unit: str = "auto",
    ch_types: dict[str, str] | None = None,
    verbose: bool | str | int | None = None,
) -> tuple[mne.io.RawArray, SamplingEstimate | None, dict[str, int]]:
    """Read the CSV; also return the ``{label: code}`` mapping of text markers."""
    path = Path(path)
    table = _read_table(path)
    time_col = _time_column(table)
    marker_cols = [c for c in table.columns if _MARKER_COLUMN.match(c)]
    numeric = table.drop(columns=[c for c in (time_col, *marker_cols) if c is not None])
    channel_cols = [
        c
        for c in numeric.columns
        if not _INDEX_COLUMN.match(c) and pd.api.types.is_numeric_dtype(numeric[c]) and not c.startswith("Unnamed")
    ]
    if not channel_cols:
        raise InputFileError(f"{path}: no numeric channel columns found (columns: {', '.join(table.columns)})")

    timing = None
    if sfreq is None:
        if time_col is None:
            raise ParameterError(
                f"{path}: no timestamp column ({', '.join(_TIME_COLUMNS)}); pass sfreq to give the sampling rate"
            )
        seconds = _timestamps_in_seconds(_timestamps(table, time_col, path), time_col, time_unit)
        try:
            timing = estimate_sfreq(seconds)
        except ParameterError as err:
            raise ParameterError(f"{path}: {err}") from err
        sfreq = timing.sfreq
        if timing.n_gaps:
            # Only gaps shift the time axis of everything after them; jitter and
            # backward steps are arrival-time noise and only go into the report.
            warnings.warn(f"{path}: {timing.describe()}", RuntimeWarning, stacklevel=3)
    if not sfreq > 0:
        raise ParameterError(f"{path}: sfreq must be positive, got {sfreq}")

    data = table[channel_cols].to_numpy(dtype=float).T * unit_scale
    names, types = list(channel_cols), ["eeg"] * len(channel_cols)
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
    return raw, timing, mapping


def read_headset_csv(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    unit_scale: float = 1e-6,
    time_unit: str = "auto",
    ch_types: dict[str, str] | None = None,
    verbose: bool | str | int | None = None,
) -> mne.io.RawArray:
    """Read a consumer-headset CSV export (e.g. Muse via eeg-notebooks) as a Raw.

    Columns are recognised by name: the timestamp column (``timestamps``,
    ``timestamp``, ``time``, ...), marker columns (``Marker0``, ``Marker``,
    ``markers``, ``events``, ``trigger``) and a sample-index column (dropped);
    every other numeric column is a channel, and non-numeric columns (such as
    formatted dates) are ignored. All channels are created as
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
        :func:`estimate_sfreq`); a ``RuntimeWarning`` is issued when they have gaps.
    unit_scale : float
        Factor from file values to volts; ``1e-6`` for files in µV.
    time_unit : {'auto', 's', 'ms'}
        Unit of the timestamps. ``'auto'`` takes milliseconds when the column
        name ends in ``_ms`` or the median step is at least 0.1.
    ch_types : dict of str to str | None
        Channel types to set, e.g. ``{"Right AUX": "eeg"}``.
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    raw : mne.io.RawArray
        Data in volts, shape (n_channels, n_times); samples are assumed
        contiguous (gaps in the timestamps are reported, not filled).

    Raises
    ------
    InputFileError
        Not a CSV table, fewer than 3 rows, no numeric channel column, or
        non-integer numeric markers.
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
        path, sfreq=sfreq, unit_scale=unit_scale, time_unit=time_unit, ch_types=ch_types, verbose=verbose
    )
    return raw
