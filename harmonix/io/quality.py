"""Data-quality checks on EEG samples: staircase signals, clipping, bad channels.

:func:`~harmonix.io.validate.check_recording` runs these after its own
finite/flat/amplitude checks and reports what they find as one-line
warnings (also issued as :class:`~harmonix.errors.DataWarning`) and as
statistics in ``RecordingCheck.quality`` (written to ``params.json``).
They qualify a recording; they do not change it. Two kinds:

* streaming statistics over all good samples (:class:`SampleScan`, fed the
  same blocks as the finite/flat scan, so memory does not grow with the
  recording's length): the share of repeated consecutive samples
  (:func:`staircase_check`) and the samples sitting at each channel's
  extreme values (:func:`clipping_check`);
* bad channels by the PREP criteria (deviation, correlation, high-frequency
  noise; Bigdely-Shamlo et al. 2015) as implemented by
  :class:`pyprep.NoisyChannels`, on an excerpt of at most
  :data:`EXCERPT_SECONDS` spread evenly over the recording
  (:func:`bad_channel_check`).

References
----------
Bigdely-Shamlo, N., Mullen, T., Kothe, C., Su, K.-M., Robbins, K. A. (2015).
The PREP pipeline: standardized preprocessing for large-scale EEG analysis.
Frontiers in Neuroinformatics 9, 16. doi:10.3389/fninf.2015.00016

Appelhoff, S. et al. (2022). PyPREP: a Python implementation of the PREP
pipeline. doi:10.5281/zenodo.6363576
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import mne
import numpy as np

__all__ = [
    "BAD_CHANNEL_MIN_CHANNELS",
    "BAD_CHANNEL_MIN_SECONDS",
    "CLIP_MIN_SECONDS",
    "CLIP_SHARE",
    "EXCERPT_SECONDS",
    "PREP_CORRELATION",
    "PREP_DEVIATION_Z",
    "PREP_HF_NOISE_Z",
    "STAIRCASE_SHARE",
    "STAIRCASE_STEP_RATIO",
    "QualityFinding",
    "SampleScan",
    "bad_channel_check",
    "clipping_check",
    "expected_one_step",
    "staircase_check",
]

STAIRCASE_SHARE = 0.5
"""Share of zero first differences from which a channel counts as piecewise constant.

A channel holding each value for ``k >= 2`` samples (sample-and-hold, data
upsampled by repetition, one value per record) repeats at least
``(k - 1) / k >= 1/2`` of its consecutive samples. A continuous recording
repeats a sample only when the change between two samples is below its
quantisation step ``q``: 0-7 % of samples on the shared 16/24-bit and float
recordings at 128-256 Hz, 30 % on a 16-bit, 0.5 µV BrainVision file at
1000 Hz. Only a strongly oversampled, coarse recording (first differences
of standard deviation below 0.74 q) reaches 1/2: :data:`STAIRCASE_STEP_RATIO`
tells the two apart.
"""

STAIRCASE_STEP_RATIO = 0.25
"""A staircase also moves by one quantisation step less than this times as often as quantisation predicts.

A continuous signal quantised with step ``q`` whose first differences are
Gaussian with standard deviation :math:`\\sigma` repeats a sample with
probability :math:`s = \\mathrm{erf}(q / (2\\sqrt{2}\\sigma))` and moves by one
step with probability :math:`p_1 = \\mathrm{erf}(3q / (2\\sqrt{2}\\sigma)) - s`:
with many repeats, most moves are single steps (:math:`p_1 \\approx 0.45` at
:math:`s = 0.5`). A held signal jumps between held values by many steps
(:math:`p_1 \\approx 0`). ``q`` is estimated as the smallest non-zero
absolute first difference; a move of one step is one of at most ``1.5 q``.
"""

CLIP_SHARE = 1e-3
"""Share of a channel's samples at its maximum (or minimum) value from which it counts as clipped.

A continuous signal reaches its extreme once: the samples that share that
value form one smooth peak, whose share falls as 1/n with the length. An
amplifier or converter at its limit (or data clipped at export) holds the
limit value every time the signal would go beyond it: flat tops, whose
share does not fall with the length.
"""

CLIP_MIN_SECONDS = 0.2
"""Time in s a channel must also spend at the extreme value to count as clipped.

The top of a slow wave on an oversampled, coarsely quantised channel holds
one value for tens of ms (26 ms at the extremes of the shared 1000 Hz,
0.5 µV BrainVision file): natural, not clipping.
"""

EXCERPT_SECONDS = 180.0
"""At most this much good data (s) is given to the bad-channel detection, in windows spread over the recording."""

EXCERPT_WINDOW_SECONDS = 30.0
"""Length in s of each excerpt window (each is high-pass filtered at 1 Hz on its own, as PREP detrends)."""

EXCERPT_MAX_VALUES = 10_000_000
"""At most this many samples (channels x times) in the excerpt: about 80 MB per copy (pyprep keeps a few)."""

BAD_CHANNEL_MIN_CHANNELS = 8
"""Fewest EEG channels on which the PREP bad-channel criteria are run.

They compare each channel with the distribution over channels (robust
z-scores: median and interquartile range over channels; a channel's
98th-percentile correlation with the others): with 4-7 values the IQR is
not a stable spread, and a 4-channel headset (TP9, AF7, AF8, TP10) has no
neighbours that share its signal.
"""

BAD_CHANNEL_MIN_SECONDS = 20.0
"""Shortest excerpt in s on which the PREP bad-channel criteria are run (20 one-second correlation windows)."""

PREP_DEVIATION_Z = 5.0
"""PREP's threshold on the robust z-score of a channel's amplitude (IQR-based SD), both signs."""

PREP_HF_NOISE_Z = 5.0
"""PREP's threshold on the robust z-score of a channel's >50 Hz to <50 Hz amplitude ratio."""

PREP_CORRELATION = 0.4
"""PREP's threshold on a channel's 98th-percentile absolute correlation with the others in a 1-s window."""

PREP_BAD_WINDOWS = 0.01
"""PREP's share of 1-s windows below :data:`PREP_CORRELATION` from which a channel is bad by correlation."""

_REF_PREP = "Bigdely-Shamlo et al. 2015, Front. Neuroinform. 9:16 (PREP), via pyprep.NoisyChannels"


@dataclass(frozen=True)
class QualityFinding:
    """Result of one check: its ``quality`` entry and its warning texts.

    Attributes
    ----------
    name : str
        Key in ``RecordingCheck.quality``.
    record : dict
        Plain values (JSON): statistic, threshold, channels concerned, reference.
    warnings : tuple of str
        One line each, starting with the source.
    implausible : bool
        True when the check makes absolute numbers meaningless.
    """

    name: str
    record: dict
    warnings: tuple[str, ...] = ()
    implausible: bool = False


def _round(value: float, digits: int = 4) -> float | None:
    value = float(value)
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


def _names(names: Sequence[str], limit: int = 12) -> str:
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def _noun(names: Sequence[str]) -> str:
    return "channel" if len(names) == 1 else "channels"


class SampleScan:
    """Streaming per-channel statistics for the staircase and clipping checks.

    Fed ``(start, block)`` pairs in time order (the blocks of
    :func:`~harmonix.io.validate.check_recording`); a block that starts where
    the previous one ended continues it (its first difference is counted),
    otherwise it starts a new segment. Holds O(n_channels) numbers.

    Parameters
    ----------
    n_channels : int
        Rows of each block.
    """

    def __init__(self, n_channels: int) -> None:
        self.n_channels = n_channels
        self.n_samples = 0
        self.n_diffs = 0
        self.zero_diffs = np.zeros(n_channels, dtype=np.int64)
        self.diff_power = np.zeros(n_channels)
        self.step = np.full(n_channels, np.inf)
        self.one_step = np.zeros(n_channels, dtype=np.int64)
        self.high = np.full(n_channels, -np.inf)
        self.low = np.full(n_channels, np.inf)
        self.at_high = np.zeros(n_channels, dtype=np.int64)
        self.at_low = np.zeros(n_channels, dtype=np.int64)
        self._last: np.ndarray | None = None
        self._end: int | None = None

    def feed(self, start: int, block: np.ndarray) -> None:
        """Add a ``(n_channels, n)`` block of samples starting at sample ``start``."""
        block = np.asarray(block, dtype=float)
        if block.shape[1] == 0 or not np.isfinite(block).all():
            return  # the caller reports non-finite samples
        if self._last is not None and start == self._end:
            block_d = np.diff(np.concatenate([self._last[:, np.newaxis], block], axis=1), axis=1)
        else:
            block_d = np.diff(block, axis=1)
        self._last, self._end = block[:, -1].copy(), start + block.shape[1]
        self.n_samples += block.shape[1]
        if block_d.shape[1]:
            self.n_diffs += block_d.shape[1]
            zero = block_d == 0
            self.zero_diffs += zero.sum(axis=1)
            self.diff_power += np.square(block_d).sum(axis=1)
            size = np.where(zero, np.inf, np.abs(block_d))
            step = np.minimum(self.step, size.min(axis=1))
            ones = (size <= 1.5 * step[:, np.newaxis]).sum(axis=1)
            # A finer step than before: the moves counted so far were several steps, start again.
            self.one_step = np.where(step < self.step / 1.5, ones, self.one_step + ones)
            self.step = step
        for values, counts, pick, better in ((self.high, self.at_high, np.max, np.greater),
                                             (self.low, self.at_low, np.min, np.less)):
            extreme = pick(block, axis=1)
            count = (block == extreme[:, np.newaxis]).sum(axis=1)
            new, same = better(extreme, values), extreme == values
            counts[:] = np.where(new, count, counts + np.where(same, count, 0))
            values[:] = np.where(new, extreme, values)

    def select(self, keep: np.ndarray) -> SampleScan:
        """A scan of the rows ``keep`` (a boolean mask or indices) only."""
        out = SampleScan(0)
        out.__dict__.update({k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()})
        out.n_channels = len(out.zero_diffs)
        return out

    def zero_share(self) -> np.ndarray:
        """Share of first differences that are exactly zero, per channel."""
        return self.zero_diffs / max(self.n_diffs, 1)

    def one_step_share(self) -> np.ndarray:
        """Share of first differences of one quantisation step (non-zero, at most 1.5 times the smallest)."""
        return self.one_step / max(self.n_diffs, 1)


def expected_one_step(zero_share: np.ndarray) -> np.ndarray:
    """Share of one-step moves a quantised continuous signal with this share of repeats has.

    :math:`\\mathrm{erf}(3\\,\\mathrm{erfinv}(s)) - s` (see :data:`STAIRCASE_STEP_RATIO`).

    Examples
    --------
    >>> expected_one_step(np.array([0.3, 0.5, 0.9])).round(2).tolist()
    [0.45, 0.46, 0.1]
    """
    from scipy.special import erf, erfinv

    zero_share = np.clip(np.asarray(zero_share, dtype=float), 0.0, 1.0 - 1e-12)
    return erf(3.0 * erfinv(zero_share)) - zero_share


def staircase_check(scan: SampleScan, names: Sequence[str], source: str) -> QualityFinding:
    """Channels that hold their values: piecewise-constant or staircase signals.

    A channel is a staircase when its share :math:`s` of zero first
    differences is at least :data:`STAIRCASE_SHARE` and its share of
    one-step moves is below :data:`STAIRCASE_STEP_RATIO` times what
    quantisation predicts for that :math:`s` (:func:`expected_one_step`). On
    most channels (more than half) the recording is implausible: the file
    holds one value per record or held samples, not a sampled EEG, so spectra
    and absolute numbers are meaningless.

    Parameters
    ----------
    scan : SampleScan
        Statistics over the good samples.
    names : sequence of str
        Channel names, one per scanned row (flat channels left out by the caller).
    source : str
        Label for messages.

    Returns
    -------
    finding : QualityFinding
        ``implausible`` when more than half of the channels are staircases.
    """
    share, ones = scan.zero_share(), scan.one_step_share()
    expected = expected_one_step(share)
    hit = (share >= STAIRCASE_SHARE) & (ones < STAIRCASE_STEP_RATIO * expected)
    bad = [n for n, h in zip(names, hit) if h]
    most = bool(names) and len(bad) > len(names) / 2
    record = {
        "statistic": "share of zero first differences per channel",
        "median": _round(np.median(share)) if len(names) else None,
        "max": _round(np.max(share)) if len(names) else None,
        "threshold": STAIRCASE_SHARE,
        "step_ratio": STAIRCASE_STEP_RATIO,
        "channels": bad,
        "values": {n: _round(s) for n, s, h in zip(names, share, hit) if h},
        "one_step_share": {n: _round(o) for n, o, h in zip(names, ones, hit) if h},
        "one_step_expected": {n: _round(e) for n, e, h in zip(names, expected, hit) if h},
        "implausible": most,
        "reference": "sample-and-hold by k >= 2 repeats >= (k-1)/k of samples; quantisation with step q "
                     "repeats erf(q / (2 sqrt(2) sd_diff)) and moves mostly by one step",
    }
    if not bad:
        return QualityFinding("staircase", record)
    values = ", ".join(f"{n} {s:.0%}" for n, s, h in zip(names, share, hit) if h)
    if most:
        median = float(np.median(share[hit]))
        text = (f"{source}: the signal is piecewise constant (staircase) on {len(bad)} of {len(names)} EEG channels "
                f"({_names(bad)}): {median:.0%} of consecutive samples repeat (median; threshold "
                f"{STAIRCASE_SHARE:.0%}), with too few one-step moves for a sampled signal; the file holds "
                "held values (one per record, or upsampled by repetition), so spectra and absolute numbers are "
                "meaningless: check the export (sampling rate, record length) and re-export the raw samples")
    else:
        text = (f"{source}: {_noun(bad)} {_names(bad)} {'holds its' if len(bad) == 1 else 'hold their'} values "
                f"(staircase): {_limit(values)} of consecutive samples repeat (threshold {STAIRCASE_SHARE:.0%}); "
                "a dropped-out or sample-and-hold input: inspect and mark bad (info['bads']) or drop before analysis")
    return QualityFinding("staircase", record, (text,), most)


def _limit(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(", ", 1)[0] + ", ..."


def clipping_check(scan: SampleScan, names: Sequence[str], source: str, sfreq: float,
                   skip: Sequence[str] = ()) -> QualityFinding:
    """Channels clipped at a limit: flat tops at their maximum or minimum value.

    A channel is clipped when the samples equal to its maximum, or those
    equal to its minimum, number at least
    ``max(CLIP_SHARE * n, CLIP_MIN_SECONDS * sfreq)`` (``n`` samples checked).
    A warning only: the clipped spans can be excluded.

    Parameters
    ----------
    scan : SampleScan
        Statistics over the good samples.
    names : sequence of str
        Channel names, one per scanned row.
    source : str
        Label for messages.
    sfreq : float
        Sampling rate in Hz.
    skip : sequence of str
        Channels not judged (staircase channels: every held extreme is a flat top).

    Returns
    -------
    finding : QualityFinding
    """
    need = max(CLIP_SHARE * scan.n_samples, CLIP_MIN_SECONDS * sfreq)
    at = np.maximum(scan.at_high, scan.at_low)
    hit = (at >= need) & np.array([n not in skip for n in names], dtype=bool)
    bad = [n for n, h in zip(names, hit) if h]
    n = max(scan.n_samples, 1)
    record = {
        "statistic": "samples at the channel's maximum or minimum value (the larger count)",
        "max_share": _round(np.max(at) / n) if len(names) else None,
        "threshold": {"share": CLIP_SHARE, "seconds": CLIP_MIN_SECONDS, "samples": _round(need)},
        "channels": bad,
        "values": {nm: {"share_at_max": _round(hi / n), "share_at_min": _round(lo / n),
                        "max_V": _round(vh), "min_V": _round(vl)}
                   for nm, h, hi, lo, vh, vl in zip(names, hit, scan.at_high, scan.at_low, scan.high, scan.low) if h},
        "skipped": list(skip),
        "reference": "a continuous signal reaches its extreme once; a limit is held (flat tops)",
    }
    if not bad:
        return QualityFinding("clipping", record)
    details = ", ".join(
        f"{nm} {max(hi, lo) / n:.1%} at {(vh if hi >= lo else vl) * 1e6:.4g} µV"
        for nm, h, hi, lo, vh, vl in zip(names, hit, scan.at_high, scan.at_low, scan.high, scan.low) if h)
    text = (f"{source}: {_noun(bad)} {_names(bad)} clipped (flat tops at the extreme value: {_limit(details)}; "
            f"threshold {CLIP_SHARE:.1%} of samples and {CLIP_MIN_SECONDS:g} s): the amplifier or the export hit its "
            "range; annotate the clipped spans BAD_clip, or mark the channels bad (info['bads'])")
    return QualityFinding("clipping", record, (text,))


def _windows(inst: mne.io.BaseRaw | mne.BaseEpochs, window: int) -> list[tuple[int, int, int | None]]:
    """Candidate excerpt windows ``(start, stop, epoch)`` over the good data."""
    if isinstance(inst, mne.BaseEpochs):
        n_times = len(inst.times)
        return [(0, n_times, i) for i in range(len(inst))]
    from harmonix.io.events import good_spans

    out = []
    for start, stop in good_spans(inst):
        start, stop = int(start), int(stop)
        if stop - start <= window:
            out.append((start, stop, None))
            continue
        tiles = list(range(start, stop - window + 1, window))
        out.extend((a, a + window, None) for a in tiles)
        if stop - (tiles[-1] + window) >= window // 30:  # the remainder, when at least 1 s of a 30-s window
            out.append((tiles[-1] + window, stop, None))
    return out


def _excerpt(inst: mne.io.BaseRaw | mne.BaseEpochs, picks: Sequence[int], sfreq: float) -> np.ndarray:
    """Good data spread evenly over the recording, each window high-pass filtered at 1 Hz on its own."""
    budget = int(min(EXCERPT_SECONDS * sfreq, EXCERPT_MAX_VALUES / max(len(picks), 1)))
    windows = _windows(inst, max(1, int(round(EXCERPT_WINDOW_SECONDS * sfreq))))
    lengths = np.array([b - a for a, b, _ in windows])
    if lengths.sum() > budget:
        count = max(1, int(np.searchsorted(np.cumsum(np.sort(lengths)[::-1]), budget, side="right")))
        windows = [windows[i] for i in np.unique(np.linspace(0, len(windows) - 1, count).round().astype(int))]
    parts = []
    for a, b, epoch in windows:
        if epoch is None:
            x = inst.get_data(picks=picks, start=a, stop=b)
        else:
            x = inst.get_data(picks=picks, item=epoch, verbose=False)[0]
        if x.shape[1] >= 4 * sfreq:  # IIR high-pass at 1 Hz as PREP's detrend; shorter windows: mean removed
            x = mne.filter.filter_data(x, sfreq, 1.0, None, method="iir", verbose=False)
        else:
            x = x - x.mean(axis=1, keepdims=True)
        parts.append(x)
    return np.concatenate(parts, axis=1) if parts else np.empty((len(picks), 0))


@dataclass
class _PrepResult:
    deviation: list[str] = field(default_factory=list)
    correlation: list[str] = field(default_factory=list)
    hf_noise: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def _run_prep(data: np.ndarray, names: Sequence[str], sfreq: float) -> _PrepResult:
    from pyprep import NoisyChannels

    raw = mne.io.RawArray(data, mne.create_info(list(names), sfreq, "eeg"), verbose=False)
    logger = logging.getLogger("pyprep")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            noisy = NoisyChannels(raw, do_detrend=False, random_state=0, ransac=False)
            noisy.find_bad_by_deviation(deviation_threshold=PREP_DEVIATION_Z)
            noisy.find_bad_by_hfnoise(HF_zscore_threshold=PREP_HF_NOISE_Z)
            noisy.find_bad_by_correlation(correlation_threshold=PREP_CORRELATION, frac_bad=PREP_BAD_WINDOWS)
    finally:
        logger.setLevel(level)
    extra = noisy._extra_info
    order = list(noisy.ch_names_original)
    index = {n: order.index(n) for n in names}
    dev_z = extra["bad_by_deviation"].get("robust_channel_deviations", np.zeros(len(order)))
    hf_z = extra["bad_by_hf_noise"].get("hf_noise_zscores", np.zeros(len(order)))
    corr = extra["bad_by_correlation"].get("bad_window_fractions", np.zeros(len(order)))
    median_corr = extra["bad_by_correlation"].get("median_max_correlations", np.ones(len(order)))
    return _PrepResult(
        deviation=list(noisy.bad_by_deviation),
        correlation=sorted(set(noisy.bad_by_correlation) | set(noisy.bad_by_dropout), key=order.index),
        hf_noise=list(noisy.bad_by_hf_noise) if sfreq > 100 else [],
        info={"deviation_z": {n: _round(dev_z[i], 3) for n, i in index.items()},
              "hf_noise_z": {n: _round(hf_z[i], 3) for n, i in index.items()},
              "bad_window_share": {n: _round(corr[i], 3) for n, i in index.items()},
              "median_max_correlation": {n: _round(median_corr[i], 3) for n, i in index.items()}},
    )


def bad_channel_check(inst: mne.io.BaseRaw | mne.BaseEpochs, picks: Sequence[int], names: Sequence[str],
                      source: str, *, skip: str | None = None) -> QualityFinding:
    """Bad channels by PREP's deviation, correlation and high-frequency-noise criteria.

    Runs :class:`pyprep.NoisyChannels` (no RANSAC) with PREP's published
    thresholds on an excerpt of the good data (at most
    :data:`EXCERPT_SECONDS`, in windows of :data:`EXCERPT_WINDOW_SECONDS`
    spread evenly over the recording, each high-pass filtered at 1 Hz):

    * deviation: robust z-score of the channel's amplitude (0.7413 IQR)
      against the median and IQR over channels, :math:`|z| >` :data:`PREP_DEVIATION_Z`
      (too noisy or too quiet: a dead or bridged input);
    * correlation: the 98th percentile of the channel's absolute correlations
      with the other channels (1-50 Hz) below :data:`PREP_CORRELATION` in more
      than :data:`PREP_BAD_WINDOWS` of 1-s windows (or dropouts in as many):
      the channel does not share the signal its neighbours record;
    * high-frequency noise: robust z-score of the >50 Hz / <50 Hz amplitude
      ratio above :data:`PREP_HF_NOISE_Z` (only above 100 Hz sampling rate).

    Like PREP's robust statistics, the correlation criterion assumes most
    channels are good: when more than half fall below it, no channel is
    named (the record says so), since the montage or the data have no
    shared signal to compare with.

    Skipped (with the reason in the record) below
    :data:`BAD_CHANNEL_MIN_CHANNELS` channels or
    :data:`BAD_CHANNEL_MIN_SECONDS` of data. A warning only.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        The recording (not modified; an unloaded Raw stays unloaded).
    picks : sequence of int
        EEG channels to judge (not bad, not flat).
    names : sequence of str
        Their names.
    source : str
        Label for messages.
    skip : str | None
        Reason not to run the criteria (recorded instead), e.g. a staircase signal.

    Returns
    -------
    finding : QualityFinding
    """
    sfreq = float(inst.info["sfreq"])
    record: dict = {
        "statistic": "PREP robust deviation z, share of 1-s windows with max |r| below threshold, HF-noise z",
        "threshold": {"deviation_z": PREP_DEVIATION_Z, "correlation": PREP_CORRELATION,
                      "bad_window_share": PREP_BAD_WINDOWS, "hf_noise_z": PREP_HF_NOISE_Z},
        "channels": [], "by_deviation": [], "by_correlation": [], "by_hf_noise": [],
        "excerpt_s": 0.0, "skipped": None, "reference": _REF_PREP,
    }
    if skip is not None:
        record["skipped"] = skip
        return QualityFinding("bad_channels", record)
    if len(names) < BAD_CHANNEL_MIN_CHANNELS:
        record["skipped"] = (f"{len(names)} EEG channels: the PREP criteria compare each channel with the others "
                             f"and need at least {BAD_CHANNEL_MIN_CHANNELS}")
        return QualityFinding("bad_channels", record)
    data = _excerpt(inst, picks, sfreq)
    record["excerpt_s"] = _round(data.shape[1] / sfreq)
    if data.shape[1] < BAD_CHANNEL_MIN_SECONDS * sfreq:
        record["skipped"] = (f"{data.shape[1] / sfreq:.1f} s of good data: the PREP correlation criterion needs at "
                             f"least {BAD_CHANNEL_MIN_SECONDS:g} one-second windows")
        return QualityFinding("bad_channels", record)
    found = _run_prep(data, names, sfreq)
    if len(found.correlation) > len(names) / 2:
        record["correlation_not_applied"] = (
            f"{len(found.correlation)} of {len(names)} channels below the correlation threshold: the criterion finds "
            "the channels that do not share their neighbours' signal and needs most channels to share it (a sparse "
            "or bipolar montage, or independent noise, has no such majority)")
        found.correlation = []
    if sfreq <= 100:
        record["hf_noise_skipped"] = f"sampling rate {sfreq:g} Hz: no band above 50 Hz"
    record.update(by_deviation=found.deviation, by_correlation=found.correlation, by_hf_noise=found.hf_noise,
                  channels=[n for n in names if n in {*found.deviation, *found.correlation, *found.hf_noise}])
    concerned = set(record["channels"])
    record["values"] = {key: {n: v for n, v in table.items() if n in concerned} for key, table in found.info.items()}
    texts = []
    dev = found.info["deviation_z"]
    if found.deviation:
        values = ", ".join(f"{n} z={dev[n]:+.1f}" for n in found.deviation if dev[n] is not None)
        texts.append(f"{source}: {_noun(found.deviation)} {_names(found.deviation)} bad by deviation (robust amplitude "
                     f"z-score beyond ±{PREP_DEVIATION_Z:g}, PREP: {_limit(values)}): too noisy (z>0) or dead (z<0); "
                     "inspect and mark bad (info['bads']) or interpolate before analysis")
    if found.correlation:
        share = found.info["bad_window_share"]
        values = ", ".join(f"{n} {share[n]:.0%}" for n in found.correlation if share[n] is not None)
        texts.append(f"{source}: {_noun(found.correlation)} {_names(found.correlation)} bad by correlation (max |r| "
                     f"with other channels below {PREP_CORRELATION:g} in more than {PREP_BAD_WINDOWS:.0%} of 1-s "
                     f"windows, PREP: {_limit(values)} of windows): not recording what the neighbours record (loose "
                     "electrode, noise); inspect and mark bad (info['bads']) or interpolate before analysis")
    if found.hf_noise:
        hf = found.info["hf_noise_z"]
        values = ", ".join(f"{n} z={hf[n]:+.1f}" for n in found.hf_noise if hf[n] is not None)
        texts.append(f"{source}: {_noun(found.hf_noise)} {_names(found.hf_noise)} bad by high-frequency noise "
                     f"(>50 Hz to <50 Hz amplitude ratio, robust z-score above {PREP_HF_NOISE_Z:g}, PREP: "
                     f"{_limit(values)}): muscle or electrode noise; inspect and mark bad (info['bads']) or "
                     "low-pass the analysis")
    return QualityFinding("bad_channels", record, tuple(texts))
