"""Contiguous spans, fixed-length windows and Welch spectra over a stream of blocks.

A recording is analysed as a set of **spans**: the stretches between
annotations marked bad (``BAD_*``) or ``EDGE`` (MNE's convention for
``reject_by_annotation``; :func:`harmonix.io.events.good_spans`), or the
epochs of an epoched file. Nothing is
filtered or windowed across the boundary of a span: a Welch segment or an
analysis window lies entirely inside one span, and the filter bank runs per
span with reflection at its edges, as ``mne.io.Raw.filter`` does with
``skip_by_annotation``. Gluing the good pieces together instead would put
splices (steps) inside windows and FIR filters.

Blocks arrive in time order (:func:`harmonix.spectral.filterbank.iter_analytic_blocks`);
:class:`WindowCollector` hands out each fixed-length window as soon as its
last sample has arrived, keeping only the samples a window still open needs,
and :class:`WelchAccumulator` turns the windows into a Welch PSD
(Welch 1967): for segments :math:`x_s` of ``L`` samples with a periodic Hann
window :math:`w`,

.. math::

    P(f_k) = \\frac{c_k}{S\\, f_s \\sum_n w_n^2}\\sum_{s=1}^{S}
    \\Big|\\sum_n w_n (x_s[n] - \\bar x_s) e^{-2\\pi i k n / L}\\Big|^2 ,

with :math:`c_k = 2` except at DC and Nyquist, equal to
:func:`harmonix.spectral.psd.compute_psd` (and ``scipy.signal.welch``) when
there is one span. Memory is bounded by the block and segment lengths, never
by the recording's duration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import mne
import numpy as np
from scipy.fft import rfft
from scipy.signal import get_window

from harmonix.errors import ParameterError
from harmonix.spectral.bands import Band
from harmonix.spectral.psd import Spectrum

__all__ = [
    "intersect_intervals",
    "tile_windows",
    "segment_starts",
    "spread_evenly",
    "RawSource",
    "WindowCollector",
    "WelchAccumulator",
    "WindowMeans",
    "band_weights",
]

def intersect_intervals(intervals: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Parts of ``intervals`` inside ``spans`` (both ``(n, 2)`` ``[start, stop)`` arrays).

    Examples
    --------
    >>> intersect_intervals(np.array([[0, 10], [20, 40]]), np.array([[5, 25], [30, 50]])).tolist()
    [[5, 10], [20, 25], [30, 40]]
    """
    out = []
    for a, b in np.asarray(intervals, dtype=np.int64).reshape(-1, 2):
        for c, d in np.asarray(spans, dtype=np.int64).reshape(-1, 2):
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                out.append((lo, hi))
    return np.array(sorted(out), dtype=np.int64).reshape(-1, 2)


def tile_windows(intervals: np.ndarray, length: int) -> np.ndarray:
    """Starts of consecutive non-overlapping windows of ``length`` samples inside each interval.

    A remainder shorter than a window at the end of an interval is left out.

    Examples
    --------
    >>> tile_windows(np.array([[0, 10], [12, 20]]), 4).tolist()
    [0, 4, 12, 16]
    """
    return segment_starts(intervals, length, length)


def spread_evenly(starts: np.ndarray, max_count: int) -> np.ndarray:
    """At most ``max_count`` of ``starts``, evenly spread over them (all when there are fewer).

    Examples
    --------
    >>> spread_evenly(np.arange(0, 100, 10), 4).tolist()
    [0, 30, 60, 90]
    """
    starts = np.asarray(starts)
    if starts.size <= max_count:
        return starts
    return starts[np.unique(np.round(np.linspace(0, starts.size - 1, max_count)).astype(int))]


def segment_starts(intervals: np.ndarray, length: int, step: int) -> np.ndarray:
    """Starts of Welch-style segments (``length`` samples, every ``step``) inside each interval.

    Examples
    --------
    >>> segment_starts(np.array([[0, 10]]), 4, 2).tolist()
    [0, 2, 4, 6]
    """
    if length < 1 or step < 1:
        raise ParameterError(f"segment length and step must be positive, got {length} and {step}")
    starts = [np.arange(a, b - length + 1, step, dtype=np.int64)
              for a, b in np.asarray(intervals, dtype=np.int64).reshape(-1, 2) if b - a >= length]
    return np.concatenate(starts) if starts else np.empty(0, dtype=np.int64)


@dataclass
class RawSource:
    """Samples ``[offset, offset + n_times)`` of chosen channels of a Raw, read on request.

    A :class:`harmonix.spectral.filterbank.SignalSource`: an unloaded
    ``mne.io.Raw`` is read segment by segment from disk, so memory does not
    grow with the recording.
    """

    raw: mne.io.BaseRaw
    picks: np.ndarray
    offset: int
    n_times: int

    @property
    def n_channels(self) -> int:
        return len(self.picks)

    def read(self, start: int, stop: int) -> np.ndarray:
        if not 0 <= start < stop <= self.n_times:
            raise ParameterError(f"read [{start}, {stop}) outside the span of {self.n_times} samples")
        return self.raw.get_data(picks=self.picks, start=self.offset + start, stop=self.offset + stop)


class WindowCollector:
    """Hand out windows ``[s, s + length)`` from contiguous blocks of a stream.

    Parameters
    ----------
    starts : ndarray of int
        Window starts in the stream's sample coordinates, sorted.
    length : int
        Window length in samples.

    Notes
    -----
    :meth:`feed` takes consecutive blocks; a block that does not continue the
    previous one (a new span) discards the kept samples, so a window never
    spans a gap (windows laid out inside spans never need to).
    """

    def __init__(self, starts: np.ndarray, length: int) -> None:
        self.starts = np.asarray(starts, dtype=np.int64)
        if self.starts.size > 1 and np.any(np.diff(self.starts) < 0):
            raise ParameterError("window starts must be sorted")
        self.length = int(length)
        self._next = 0
        self._tail: np.ndarray | None = None
        self._tail_start = 0
        self._stop = None

    @property
    def done(self) -> bool:
        """Every window has been handed out."""
        return self._next >= self.starts.size

    def feed(self, start: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add samples ``[start, start + n)`` (time on the last axis).

        Returns
        -------
        index : ndarray of int
            Positions (in ``starts``) of the windows completed by this block.
        windows : ndarray, shape (len(index), *values.shape[:-1], length)
        """
        n = values.shape[-1]
        stop = start + n
        if self._stop != start:
            self._tail = None
        tail = self._tail
        tail_start = self._tail_start if tail is not None else start
        self._stop = stop
        first = self._next
        # Windows that lie before what is kept (in a gap) can never complete: skip them.
        while first < self.starts.size and self.starts[first] < tail_start and self.starts[first] + self.length <= stop:
            first += 1
        last = first
        while last < self.starts.size and self.starts[last] + self.length <= stop:
            last += 1
        index = np.arange(first, last)
        index = index[self.starts[index] >= tail_start]
        windows = np.empty((index.size, *values.shape[:-1], self.length), dtype=values.dtype)
        for out, window_start in zip(windows, self.starts[index]):
            # Cut each window from the block, or from the kept samples and the block: the block
            # itself is never copied whole.
            offset = int(window_start - start)
            if offset >= 0:
                out[...] = values[..., offset : offset + self.length]
            else:
                out[..., :-offset] = tail[..., tail.shape[-1] + offset :]
                out[..., -offset:] = values[..., : self.length + offset]
        self._next = last
        keep = min(n + (0 if tail is None else tail.shape[-1]), self.length - 1)
        if self._next < self.starts.size:
            # Only samples an unfinished window can still need are kept.
            keep = stop - max(stop - keep, min(self.starts[self._next], stop))
        if keep <= 0:
            self._tail = None
        elif keep <= n:
            self._tail = values[..., n - keep :].copy()
        else:
            self._tail = np.concatenate([tail[..., tail.shape[-1] - (keep - n) :], values], axis=-1)
        self._tail_start = stop - keep
        return index, windows


def band_weights(freqs: np.ndarray, bands: Sequence[Band]) -> np.ndarray:
    """``(n_freqs, n_bands)`` weights with ``P @ W`` = absolute band power (rectangle rule).

    Same bins and weights as :func:`harmonix.spectral.bandpower.band_power`.
    """
    spectrum = Spectrum(freqs=freqs, psd=np.zeros((1, freqs.size)), ch_names=("x",), method="welch")
    from harmonix.spectral.bandpower import band_mask

    masks = np.stack([band_mask(spectrum, band) for band in bands], axis=1).astype(float)
    return masks * spectrum.resolution


@dataclass
class WelchAccumulator:
    """Welch PSD of a stream, from segments laid inside given intervals.

    Parameters
    ----------
    n_channels : int
    sfreq : float
        Hz.
    intervals : ndarray of int, shape (n, 2)
        ``[start, stop)`` stretches in stream coordinates; segments never cross
        an interval's boundary.
    nperseg : int
        Segment length in samples.
    overlap : float
        Fraction of overlap between consecutive segments.
    group_length : int | None
        Also keep the PSD averaged per consecutive group of this many samples
        (comparison windows tiling the intervals), integrated over
        ``group_bands``.
    group_bands : sequence of Band
    method : {'welch', 'multitaper'}
        ``'multitaper'``: each segment's PSD is MNE's DPSS multitaper estimate
        (``psd_array_multitaper``, non-adaptive, ``low_bias=True``, default
        bandwidth ``8 / T``), as :func:`~harmonix.spectral.psd.compute_psd`
        does with ``window_seconds``; use ``overlap=0``.
    mixing : ndarray, shape (n_outputs, n_channels) | None
        Welch only: the PSD of ``mixing @ x`` instead of ``x``, from the FFTs of
        ``x`` (detrending, windowing and the FFT are linear, so the result is
        the same): many outputs that mix few channels (brain regions of a few
        harmonics) cost the FFTs of the few.
    freq_range : (float, float) | None
        Keep only the bins in this range (Hz, inclusive); with ``mixing`` only
        these are mixed.
    """

    n_channels: int
    sfreq: float
    intervals: np.ndarray
    nperseg: int
    overlap: float = 0.5
    group_length: int | None = None
    group_bands: Sequence[Band] = ()
    method: str = "welch"
    mixing: np.ndarray | None = None
    freq_range: tuple[float, float] | None = None
    _sum: np.ndarray = field(init=False, repr=False)
    _count: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.nperseg < 2:
            raise ParameterError(f"a Welch segment needs at least 2 samples, got {self.nperseg}")
        if self.method not in ("welch", "multitaper"):
            raise ParameterError(f"unknown PSD method {self.method!r}; use 'welch' or 'multitaper'")
        self.step = self.nperseg - int(np.floor(self.nperseg * self.overlap))
        starts = segment_starts(self.intervals, self.nperseg, self.step)
        freqs = np.fft.rfftfreq(self.nperseg, 1.0 / self.sfreq)
        self._bins = slice(None)
        if self.freq_range is not None:
            inside = np.flatnonzero((freqs >= self.freq_range[0] - 1e-9) & (freqs <= self.freq_range[1] + 1e-9))
            self._bins = slice(int(inside[0]), int(inside[-1]) + 1)
        self.freqs = freqs[self._bins]
        self._nyquist_bin = self.nperseg // 2 if self.nperseg % 2 == 0 else -1
        self._first_bin = int(np.arange(freqs.size)[self._bins][0])
        if self.mixing is not None and self.method != "welch":
            raise ParameterError("a mixed PSD is computed with Welch's method only")
        self._window = get_window("hann", self.nperseg)
        self._scale = 1.0 / (self.sfreq * np.sum(self._window**2))
        n_out = self.n_channels if self.mixing is None else self.mixing.shape[0]
        self._sum = np.zeros((n_out, self.freqs.size))
        self._group_of = None
        if self.group_length:
            self.group_starts = tile_windows(self.intervals, self.group_length)
            owner = np.searchsorted(self.group_starts, starts, side="right") - 1
            inside = (owner >= 0) & (starts + self.nperseg <= self.group_starts[np.maximum(owner, 0)] + self.group_length)
            self._group_of = np.where(inside, owner, -1)
            self._weights = band_weights(self.freqs, self.group_bands) if self.group_starts.size else None
            if self._weights is not None:
                self._density_weights = self._density(np.eye(self.freqs.size)) @ self._weights
            self._group_power = np.zeros((self.group_starts.size, n_out, len(self.group_bands)))
            self._group_count = np.zeros(self.group_starts.size, dtype=np.int64)
        self._collector = WindowCollector(starts, self.nperseg)

    @property
    def n_segments(self) -> int:
        """Segments that can be laid inside the intervals."""
        return self._collector.starts.size

    @property
    def count(self) -> int:
        """Segments accumulated so far."""
        return self._count

    def feed(self, start: int, signal: np.ndarray) -> None:
        """Add the samples ``[start, start + n)`` of every channel."""
        index, segments = self._collector.feed(start, signal)
        if not index.size:
            return
        # Bounded working set: a few hundred segments at a time.
        batch = max(1, int(2**24 // max(self.n_channels * self.nperseg, 1)))
        for b0 in range(0, index.size, batch):
            # the collector's windows are fresh arrays: detrended and windowed in place
            power = self._power(np.asarray(segments[b0 : b0 + batch], dtype=np.float64))  # (n_seg, n_ch, n_freqs)
            self._sum += power.sum(axis=0)
            if self._group_of is not None and self._weights is not None:
                owners = self._group_of[index[b0 : b0 + batch]]
                mine = owners >= 0
                if mine.any():
                    # density scaling is linear: folded into the band weights, applied to the raw power
                    banded = power[mine] @ self._density_weights  # (n, n_channels, n_bands)
                    np.add.at(self._group_power, owners[mine], banded)
                    np.add.at(self._group_count, owners[mine], 1)
        self._count += index.size

    def _power(self, seg: np.ndarray) -> np.ndarray:
        """Per-segment power in the units :meth:`_density` turns into V^2/Hz."""
        if self.method == "multitaper":
            from mne.time_frequency import psd_array_multitaper

            psd, _ = psd_array_multitaper(seg, self.sfreq, adaptive=False, low_bias=True, normalization="full",
                                          remove_dc=True, verbose=False)
            return psd[..., self._bins]
        seg -= seg.mean(axis=-1, keepdims=True)
        seg *= self._window
        spec = rfft(seg, axis=-1)[..., self._bins]
        if self.mixing is not None:
            spec = self.mixing @ spec
        return spec.real**2 + spec.imag**2

    def _density(self, power: np.ndarray) -> np.ndarray:
        if self.method == "multitaper":
            return power  # MNE's estimate is a one-sided density already
        density = power * self._scale
        # One-sided: every bin but DC and (even lengths) Nyquist counts twice.
        bins = np.arange(self._first_bin, self._first_bin + density.shape[-1])
        density[..., (bins != 0) & (bins != self._nyquist_bin)] *= 2.0
        return density

    def psd(self) -> np.ndarray:
        """Mean one-sided PSD ``(n_channels, n_freqs)`` (V^2/Hz); NaN without segments."""
        if self._count == 0:
            return np.full_like(self._sum, np.nan)
        return self._density(self._sum / self._count)

    def group_power(self) -> tuple[np.ndarray, np.ndarray]:
        """Starts (samples) and band power ``(n_groups, n_channels, n_bands)`` of complete groups."""
        if self._group_of is None:
            raise ParameterError("this accumulator keeps no per-window power (group_length not set)")
        expected = np.bincount(self._group_of[self._group_of >= 0], minlength=self.group_starts.size)
        complete = (self._group_count == expected) & (expected > 0)
        power = self._group_power[complete] / self._group_count[complete, None, None]
        return self.group_starts[complete], power


class WindowMeans:
    """Means of a stream's values over fixed windows ``[s, s + length)`` that may span blocks.

    Parameters
    ----------
    starts : ndarray of int
        Sorted, non-overlapping window starts (stream samples).
    length : int
        Samples per window.
    shape : tuple of int
        Shape of the values at one sample (everything but the time axis).

    Examples
    --------
    >>> means = WindowMeans(np.array([0, 4]), 4, ())
    >>> means.feed(0, np.arange(6.0)); means.feed(6, np.arange(6.0, 10.0))
    >>> means.result()[1].tolist()
    [1.5, 5.5]
    """

    def __init__(self, starts: np.ndarray, length: int, shape: tuple[int, ...]) -> None:
        self.starts = np.asarray(starts, dtype=np.int64)
        self.length = int(length)
        self._sum = np.zeros((self.starts.size, *shape))
        self._count = np.zeros(self.starts.size, dtype=np.int64)

    def feed(self, start: int, values: np.ndarray) -> None:
        """Add samples ``[start, start + n)`` (time on the last axis)."""
        stop = start + values.shape[-1]
        first = int(np.searchsorted(self.starts + self.length, start, side="right"))
        last = int(np.searchsorted(self.starts, stop, side="left"))
        for w in range(first, last):
            lo, hi = max(self.starts[w], start), min(self.starts[w] + self.length, stop)
            if hi > lo:
                self._sum[w] += values[..., lo - start : hi - start].sum(axis=-1)
                self._count[w] += hi - lo

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Starts and means of the complete windows (``(n_complete, *shape)``)."""
        complete = self._count == self.length
        return self.starts[complete], self._sum[complete] / self.length
