"""Checks that a recording can be analysed at all, with messages a user can act on.

The library calls these before estimators, and the CLI before any output is
written, so that NaN samples, dead electrodes or a recording too short stop
the run with a clear :mod:`harmonix.errors` exception (whether the bands fit
is the analysis' check, :func:`harmonix.spectral.bands.check_bands_resolvable`)
instead of silently producing NaN or meaningless numbers. Problems that
qualify the numbers rather than prevent them (an implausible amplitude scale,
staircase signals, clipping, bad channels; :mod:`harmonix.io.quality`) are
warnings, recorded in :class:`RecordingCheck`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import mne
import numpy as np

from harmonix.errors import ChannelError, DataQualityError, DataWarning, ParameterError
from harmonix.io.events import good_spans
from harmonix.io.quality import SampleScan, bad_channel_check, clipping_check, staircase_check

__all__ = ["FLAT_THRESHOLD", "RecordingCheck", "check_finite", "check_recording", "find_flat_channels"]

FLAT_THRESHOLD = 1e-13
"""Standard deviation in V below which a channel counts as flat (0.1 pV; amplifier noise is ~1e-7 V)."""

_FLAT_MODES = ("raise", "mark", "ignore")

PLAUSIBLE_RMS = (0.5e-6, 500e-6)
"""Range in V of the median channel standard deviation a scalp EEG recording can have.

Scalp EEG is about 10-100 µV (Nunez & Srinivasan 2006); amplifier and
electrode noise is about 0.1-1 µV, so even a quiet, low-passed channel has
a standard deviation above 0.5 µV. Blinks and movement reach about 1 mV on
a few frontal channels, but the *median* over channels stays well below
500 µV. A median beyond this range is a unit mistake, not a recording in
volts: microvolts stored as volts (x1e6: tens of V), millivolts (x1e3), or
nanovolts/scaled-down data (x1e-3 and less). harmonix then warns and sets
``RecordingCheck.plausible`` to False: the spectral shapes are unaffected,
the absolute powers are not.
"""

_BLOCK_SECONDS = 60.0
"""Samples read at a time when checking a recording (memory does not grow with its length)."""


def _as_2d(data: np.ndarray, ch_names: Sequence[str]) -> np.ndarray:
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[0] != len(ch_names):
        raise ParameterError(
            f"data must be shaped (n_channels, n_times) with n_channels={len(ch_names)}, got {data.shape}"
        )
    return data


def check_finite(
    data: np.ndarray, ch_names: Sequence[str], *, source: str = "<array>", sfreq: float | None = None
) -> None:
    """Raise :class:`DataQualityError` when any sample is NaN or infinite.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Samples in any unit.
    ch_names : sequence of str
        One name per row of ``data``.
    source : str
        Label of the input for the message (usually the file name).
    sfreq : float | None
        Sampling rate in Hz; when given, the first bad sample is reported in s.

    Raises
    ------
    DataQualityError
        Naming the affected channels and the first bad sample.

    Examples
    --------
    >>> check_finite(np.array([[0.0, 1.0], [np.nan, 2.0]]), ["Cz", "Pz"], source="rec.fif")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    harmonix.errors.DataQualityError: rec.fif: channel Pz has NaN/Inf samples (first at sample 0); ...
    """
    data = _as_2d(data, ch_names)
    bad = ~np.isfinite(data)
    if not bad.any():
        return
    rows = np.flatnonzero(bad.any(axis=1))
    first = int(np.flatnonzero(bad.any(axis=0))[0])
    where = f"{first / sfreq:.3f} s" if sfreq else f"sample {first}"
    names = ", ".join(ch_names[i] for i in rows)
    noun = "channel" if len(rows) == 1 else "channels"
    raise DataQualityError(
        f"{source}: {noun} {names} {'has' if len(rows) == 1 else 'have'} NaN/Inf samples (first at {where}); "
        "interpolate or drop them, or mark the channels bad, before analysis"
    )


def find_flat_channels(
    data: np.ndarray, ch_names: Sequence[str], *, threshold: float = FLAT_THRESHOLD
) -> list[str]:
    """Return the channels whose signal is flat.

    A channel is flat when its standard deviation is below ``threshold`` or
    all its samples are equal (a constant offset, e.g. a disconnected input
    clamped to a rail, is as useless as zeros).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Samples in V.
    ch_names : sequence of str
        One name per row.
    threshold : float
        Absolute standard-deviation threshold in V.

    Returns
    -------
    flat : list of str
        In channel order.

    Examples
    --------
    >>> find_flat_channels(np.array([[1e-5, -1e-5, 2e-5], [3.0, 3.0, 3.0]]), ["Cz", "Pz"])
    ['Pz']
    """
    data = _as_2d(data, ch_names)
    std = np.nanstd(data, axis=1)
    constant = np.all(data == data[:, :1], axis=1)
    return [name for name, s, c in zip(ch_names, std, constant) if c or s < threshold]


@dataclass(frozen=True)
class RecordingCheck:
    """What :func:`check_recording` found (plain values, so it serialises to JSON).

    Attributes
    ----------
    checked : tuple of str
        EEG channels that were checked (EEG, excluding channels already bad).
    flat_channels : tuple of str
        Flat channels found.
    marked_bad : tuple of str
        Channels added to ``info["bads"]`` of the returned object.
    sfreq : float
        Sampling rate in Hz.
    duration : float
        Length in s (of one epoch for epoched data).
    warnings : tuple of str
        Problems that do not stop the analysis but qualify it (amplitudes no
        scalp EEG has: a unit mistake; staircase signals; clipping; bad
        channels), one line each starting with the source, also issued as
        :class:`~harmonix.errors.DataWarning`.
    plausible : bool
        False when the amplitude scale or the staircase check fails: the
        samples are not a scalp EEG in volts, so absolute numbers (powers,
        proxies) are meaningless.
    quality : dict
        Per check (``amplitude``, ``staircase``, ``clipping``,
        ``bad_channels``): the statistic, the threshold, the channels
        concerned and a reference (see :mod:`harmonix.io.quality`).
    """

    checked: tuple[str, ...]
    flat_channels: tuple[str, ...]
    marked_bad: tuple[str, ...] = ()
    sfreq: float = 0.0
    duration: float = 0.0
    warnings: tuple[str, ...] = ()
    plausible: bool = True
    quality: dict = field(default_factory=dict)


def _eeg_picks(inst: mne.io.BaseRaw | mne.BaseEpochs, source: str) -> tuple[np.ndarray, list[str]]:
    picks = mne.pick_types(inst.info, eeg=True, exclude="bads")
    if len(picks) == 0:
        raise ChannelError(
            f"{source}: no usable EEG channels (types present: {', '.join(sorted(set(inst.get_channel_types())))}; "
            f"bad: {', '.join(inst.info['bads']) or 'none'}); set channel types with inst.set_channel_types()"
        )
    return picks, [inst.ch_names[i] for i in picks]


def _blocks(inst: mne.io.BaseRaw | mne.BaseEpochs, picks: np.ndarray, block_samples: int):
    """``(start, samples)`` blocks of the good data: epochs one by one, a Raw's good spans in blocks.

    An unloaded Raw is read block by block, so checking an hour-long file
    holds one block in memory.
    """
    if isinstance(inst, mne.BaseEpochs):
        n_times = len(inst.times)
        for i in range(len(inst)):
            yield i * n_times, inst.get_data(picks=picks, item=i, verbose=False)[0]
        return
    for start, stop in good_spans(inst):
        for a in range(int(start), int(stop), block_samples):
            b = min(a + block_samples, int(stop))
            yield a, inst.get_data(picks=picks, start=a, stop=b)


@dataclass
class _ChannelScan:
    """Per-channel running statistics over blocks (Chan et al. 1979 merge of means and variances)."""

    n_channels: int
    count: int = 0
    first_bad: int | None = None

    def __post_init__(self) -> None:
        self.mean = np.zeros(self.n_channels)
        self.m2 = np.zeros(self.n_channels)
        self.first = None
        self.varies = np.zeros(self.n_channels, dtype=bool)
        self.nonfinite = np.zeros(self.n_channels, dtype=bool)

    def feed(self, start: int, block: np.ndarray) -> None:
        bad = ~np.isfinite(block)
        if bad.any():
            self.nonfinite |= bad.any(axis=1)
            first = start + int(np.flatnonzero(bad.any(axis=0))[0])
            self.first_bad = first if self.first_bad is None else min(self.first_bad, first)
            return
        n = block.shape[1]
        if self.first is None:
            self.first = block[:, 0].copy()
        self.varies |= np.any(block != self.first[:, np.newaxis], axis=1)
        mean = block.mean(axis=1)
        m2 = np.square(block - mean[:, np.newaxis]).sum(axis=1)
        total = self.count + n
        delta = mean - self.mean
        self.m2 += m2 + delta**2 * self.count * n / total
        self.mean += delta * n / total
        self.count = total

    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / max(self.count, 1))


def _duration(inst: mne.io.BaseRaw | mne.BaseEpochs) -> float:
    n_times = len(inst.times) if isinstance(inst, mne.BaseEpochs) else inst.n_times
    return n_times / inst.info["sfreq"]


def check_recording(
    inst: mne.io.BaseRaw | mne.BaseEpochs,
    *,
    source: str | None = None,
    flat: str = "raise",
    min_duration: float | None = None,
    flat_threshold: float = FLAT_THRESHOLD,
) -> tuple[mne.io.BaseRaw | mne.BaseEpochs, RecordingCheck]:
    """Check that a recording's EEG channels can be analysed.

    Runs, on the EEG channels not already marked bad: length against
    ``min_duration`` (the cheap check first), finite samples, flat
    channels; then, as warnings (:mod:`harmonix.io.quality`), on the channels
    that are not flat: the amplitude scale (median channel standard
    deviation within :data:`PLAUSIBLE_RMS`), staircase (piecewise-constant)
    signals, clipping, and bad channels by PREP's deviation, correlation and
    high-frequency-noise criteria. A failed amplitude or staircase check
    sets ``plausible`` to False. Samples are read block by block (an
    unloaded Raw stays unloaded; the bad-channel criteria read an excerpt of
    at most a few minutes) and, for a Raw, only outside spans annotated
    ``BAD``/``EDGE`` (the samples an analysis uses). The input object is
    never modified.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        The recording (data are loaded if needed). For epochs, durations are
        per epoch, since that is the length an estimator gets.
    source : str | None
        Label for messages; defaults to the file the object was read from.
    flat : {'raise', 'mark', 'ignore'}
        What to do with flat channels: raise :class:`DataQualityError`, return
        a copy with them in ``info["bads"]``, or only report them.
    min_duration : float | None
        Minimum length in s.
    flat_threshold : float
        Standard deviation in V below which a channel is flat.

    Returns
    -------
    inst : mne.io.Raw | mne.Epochs
        The object to continue with: the input itself, or a copy with the flat
        channels marked bad when ``flat="mark"`` found some.
    check : RecordingCheck
        What was found.

    Raises
    ------
    ParameterError
        Too short, or an invalid ``flat``.
    DataQualityError
        NaN/Inf samples, or flat channels with ``flat="raise"``.
    ChannelError
        No EEG channel left to check.

    Examples
    --------
    >>> info = mne.create_info(["Cz", "Pz"], 256.0, "eeg")
    >>> raw = mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (2, 2560)), info, verbose=False)
    >>> raw_ok, check = check_recording(raw, min_duration=5.0)
    >>> raw_ok is raw, check.flat_channels
    (True, ())
    """
    if flat not in _FLAT_MODES:
        raise ParameterError(f"flat must be one of {', '.join(_FLAT_MODES)}, got {flat!r}")
    if source is None:
        filenames = [f for f in getattr(inst, "filenames", ()) if f is not None]
        source = str(filenames[0]) if filenames else "<recording>"
    sfreq, duration = float(inst.info["sfreq"]), _duration(inst)
    if min_duration is not None and duration < min_duration:
        raise ParameterError(
            f"{source}: recording is {duration:.2f} s long, too short (need at least {min_duration:g} s)"
        )
    picks, names = _eeg_picks(inst, source)
    scan, samples = _ChannelScan(len(names)), SampleScan(len(names))
    for start, block in _blocks(inst, picks, max(1, int(round(_BLOCK_SECONDS * sfreq)))):
        scan.feed(start, block)
        samples.feed(start, block)
    if scan.nonfinite.any():
        bad = [n for n, b in zip(names, scan.nonfinite) if b]
        noun = "channel" if len(bad) == 1 else "channels"
        raise DataQualityError(
            f"{source}: {noun} {', '.join(bad)} {'has' if len(bad) == 1 else 'have'} NaN/Inf samples "
            f"(first at {scan.first_bad / sfreq:.3f} s); interpolate or drop them, or mark the channels bad, "
            "before analysis"
        )
    flat_found = tuple(name for name, s, v in zip(names, scan.std(), scan.varies) if not v or s < flat_threshold)
    if flat_found and flat == "raise":
        raise DataQualityError(
            f"{source}: flat channel{'s' if len(flat_found) > 1 else ''} {', '.join(flat_found)} "
            f"(standard deviation below {flat_threshold:g} V); to mark them bad and go on, add --mark-flat to "
            "harmonix analyze (flat='mark' in Python), or drop them"
        )
    marked: tuple[str, ...] = ()
    if flat_found and flat == "mark":
        inst = inst.copy()
        inst.info["bads"] = [*inst.info["bads"], *flat_found]
        marked = flat_found
    live = np.array([name not in flat_found for name in names], dtype=bool)
    live_names = [n for n, keep in zip(names, live) if keep]
    amplitude = _implausible_amplitude(scan.std()[live], source)
    quality = {"amplitude": {
        "statistic": "median channel standard deviation (V)",
        "value": float(np.median(scan.std()[live])) if live.any() else None,
        "threshold": list(PLAUSIBLE_RMS), "channels": live_names if amplitude else [],
        "reference": "scalp EEG ~10-100 uV (Nunez & Srinivasan 2006), amplifier noise ~0.1-1 uV",
    }}
    found, plausible = list(amplitude), not amplitude
    if live.any():
        samples = samples.select(live)
        staircase = staircase_check(samples, live_names, source)
        checks = [staircase, clipping_check(samples, live_names, source, sfreq, skip=staircase.record["channels"]),
                  bad_channel_check(inst, picks[live], live_names, source,
                                    skip="the signal is piecewise constant (staircase)" if staircase.implausible
                                    else None)]
        for finding in checks:
            quality[finding.name] = finding.record
            found.extend(finding.warnings)
            plausible = plausible and not finding.implausible
    for text in found:
        warnings.warn(text, DataWarning, stacklevel=2)
    return inst, RecordingCheck(tuple(names), flat_found, marked, sfreq, duration, tuple(found), plausible, quality)


def _implausible_amplitude(std: np.ndarray, source: str) -> tuple[str, ...]:
    """A warning when the median channel standard deviation lies outside :data:`PLAUSIBLE_RMS`."""
    if not std.size:
        return ()
    median = float(np.median(std))
    low, high = PLAUSIBLE_RMS
    if low <= median <= high:
        return ()
    side = "above" if median > high else "below"
    return (f"{source}: the median channel standard deviation is {median:.3g} V, {side} the {low:g}-{high:g} V "
            "any scalp EEG in volts has; check the units (microvolts stored as volts?): absolute band powers "
            "will be off by the same factor squared; rescale the data (e.g. inst.apply_function(lambda x: x * 1e-6) "
            "for microvolts stored as volts) before relying on absolute numbers",)
