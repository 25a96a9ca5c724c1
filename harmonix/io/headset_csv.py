"""Read CSV exports of consumer EEG headsets (Muse, eeg-notebooks, OpenBCI-like).

The layout is one row per sample: a timestamp column, one column per
electrode in µV, and optional marker columns whose non-zero values flag
stimulus onsets. Such files carry no sampling rate, so it is estimated from
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


def _marker_codes(table: pd.DataFrame, columns: list[str], path: Path) -> np.ndarray:
    """Merge marker columns into one integer code per sample (first non-zero wins)."""
    codes = np.zeros(len(table), dtype=float)
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce").fillna(0).to_numpy(dtype=float)
        if np.any(values != np.round(values)):
            raise InputFileError(f"{path}: marker column {column!r} holds non-integer values")
        codes = np.where(codes == 0, values, codes)
    return codes


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
        seconds = _timestamps_in_seconds(table[time_col].to_numpy(dtype=float), time_col, time_unit)
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
    if marker_cols:
        data = np.vstack([data, _marker_codes(table, marker_cols, path)[np.newaxis]])
        names.append("STI")
        types.append("stim")
    info = mne.create_info(names, float(sfreq), types)
    raw = mne.io.RawArray(data, info, verbose=verbose)
    if ch_types:
        raw.set_channel_types(ch_types, on_unit_change="ignore")
    return raw, timing


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
    ``STI`` whose non-zero values are the event codes.

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
