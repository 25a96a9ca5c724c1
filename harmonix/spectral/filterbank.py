"""Filter-bank analytic signal: zero-phase band-pass + Hilbert, per band, in chunks.

For each band the analytic signal is

.. math::

    z_b(t) = (x * h_b)(t) + i\\,\\mathcal{H}[x * h_b](t),

where :math:`h_b` is the zero-phase FIR band-pass that MNE-Python designs for
``raw.filter(fmin, fmax)`` (``mne.filter.create_filter``: windowed-sinc,
Hamming window, automatic transition bands) and :math:`\\mathcal{H}` the
Hilbert transform. Band-pass and Hilbert are one linear filter whose
frequency response is :math:`2 H_b(f)` for :math:`f > 0`, :math:`H_b(0)` at
DC and 0 for :math:`f < 0`; it is applied in the frequency domain, one FFT of
each chunk shared by all bands, overlap-save style: every chunk is read with
``pad`` extra samples on both sides (at least the FIR length, so the band-pass
is exact and the Hilbert tails of the band-limited kernel have decayed) and
only its interior is kept. Recording edges are extended by reflection, as MNE
does (``pad='reflect_limited'``). Memory is bounded by the chunk length, not
the recording length, so hours of high-density EEG stream through.

Phase and amplitude: :math:`\\phi_b(t) = \\arg z_b(t)` (rad),
:math:`A_b(t) = |z_b(t)|` (units of the input, e.g. V). These are what the
phase-locking estimators consume.

References
----------
Le Van Quyen M. et al. (2001). Comparison of Hilbert transform and wavelet
methods for the analysis of neuronal synchrony. J Neurosci Methods 111:83-98.
Widmann A., Schroger E., Maess B. (2015). Digital filter design for
electrophysiological data - a practical approach. J Neurosci Methods 250:34-46.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import mne
import numpy as np
import scipy.fft
import scipy.signal

from harmonix.errors import ParameterError
from harmonix.spectral.bands import Band, load_bands

DEFAULT_CHUNK_SECONDS = 60.0


@dataclass(frozen=True)
class AnalyticBlock:
    """Analytic signal of every band over samples ``[start, stop)``.

    Attributes
    ----------
    start, stop : int
        Sample indices of the block in the recording (or span) it came from.
    values : ndarray, shape (n_bands, n_channels, stop - start), complex
        :math:`z_b(t)` for each band, in the order of ``bands``.
    signal : ndarray, shape (n_channels, stop - start) | None
        The real input samples of the block, so that consumers of the raw
        signal (spectra, broadband projections) need no second read.
    """

    start: int
    stop: int
    values: np.ndarray
    signal: np.ndarray | None = None


@runtime_checkable
class SignalSource(Protocol):
    """Anything that reads ``(n_channels, stop - start)`` float samples on request.

    :func:`iter_analytic_blocks` pulls blocks from a source instead of
    holding a recording in memory; :class:`ArraySource` wraps an array and
    :func:`harmonix.spectral.segments.raw_span_source` an unloaded
    ``mne.io.Raw`` span.
    """

    n_channels: int
    n_times: int

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` with ``0 <= start < stop <= n_times``."""


@dataclass(frozen=True)
class ArraySource:
    """A :class:`SignalSource` over an in-memory ``(n_channels, n_times)`` array."""

    data: np.ndarray

    @property
    def n_channels(self) -> int:
        return self.data.shape[0]

    @property
    def n_times(self) -> int:
        return self.data.shape[1]

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.data[:, start:stop]


def design_band_filter(band: Band, sfreq: float) -> np.ndarray:
    """Return the zero-phase FIR taps (odd length) MNE uses for ``band``.

    Parameters
    ----------
    band : Band
        ``fmin == 0`` gives a low-pass at ``fmax``.
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    taps : ndarray, shape (n_taps,)
        Symmetric windowed-sinc taps; the centre tap is time zero.
    """
    if band.fmax >= sfreq / 2.0:
        raise ParameterError(
            f"band {band.name!r} ({band.fmin:g}-{band.fmax:g} Hz) reaches the Nyquist frequency "
            f"{sfreq / 2:g} Hz of this {sfreq:g} Hz recording; lower fmax or resample"
        )
    l_freq = band.fmin if band.fmin > 0 else None
    return mne.filter.create_filter(None, sfreq, l_freq, band.fmax, verbose=False)


def analytic_response(taps: np.ndarray, n_fft: int) -> np.ndarray:
    """One-sided gain (length ``n_fft // 2 + 1``) of band-pass + Hilbert.

    The taps are rolled so that their centre sits at sample 0, which makes the
    band-pass zero-phase; doubling the positive frequencies and keeping DC and
    Nyquist once is the frequency-domain definition of the analytic signal.
    """
    half = len(taps) // 2
    circular = np.zeros(n_fft)
    circular[: half + 1] = taps[half:]
    circular[n_fft - half :] = taps[:half]
    gain = scipy.fft.rfft(circular).real
    gain[1 : (n_fft + 1) // 2] *= 2.0
    return gain


def _padded_segment(source: SignalSource, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of ``source`` with out-of-range samples filled by reflection.

    Reflection is about the edge sample, as ``numpy.pad(mode='reflect')``;
    beyond one full reflection the segment is zero-filled (MNE's
    'reflect_limited'), which only matters for recordings shorter than a pad.
    Only the samples the segment needs are read from the source.
    """
    n_times = source.n_times
    lo, hi = max(start, 0), min(stop, n_times)
    if start >= 0 and stop <= n_times:
        return np.asarray(source.read(start, stop), dtype=np.float64)
    idx = np.arange(start, stop)
    mirrored = np.where(idx < 0, -idx, np.where(idx >= n_times, 2 * (n_times - 1) - idx, idx))
    valid = (mirrored >= 0) & (mirrored < n_times)
    needed_lo, needed_hi = int(mirrored[valid].min()), int(mirrored[valid].max()) + 1
    needed_lo, needed_hi = min(needed_lo, lo), max(needed_hi, hi)
    window = np.asarray(source.read(needed_lo, needed_hi), dtype=np.float64)
    out = np.zeros((source.n_channels, stop - start), dtype=np.float64)
    out[:, valid] = window[:, mirrored[valid] - needed_lo]
    return out


@dataclass(frozen=True)
class FilteredSource:
    """A :class:`SignalSource` whose samples pass through a zero-phase FIR filter on reading.

    ``read(start, stop)`` reads ``[start - h, stop + h)`` of ``source``
    (``h = (len(taps) - 1) / 2``; reflected at the source's edges as in
    :func:`iter_analytic_blocks`) and keeps the fully filtered interior,

    .. math::  y[n] = \\sum_{k=-h}^{h} b_{k+h}\\, x[n - k],

    which for symmetric taps of odd length is the zero-phase filtering MNE
    applies (``phase='zero'``). Every reader of the source sees the same
    filtered samples, block after block, without the recording in memory.

    Parameters
    ----------
    source : SignalSource
        The unfiltered samples (one span: edges are reflected, never crossed).
    taps : ndarray, shape (n_taps,)
        Symmetric FIR of odd length (e.g. from ``mne.filter.create_filter``).
    """

    source: SignalSource
    taps: np.ndarray

    def __post_init__(self) -> None:
        taps = np.asarray(self.taps, dtype=float)
        if taps.ndim != 1 or taps.size % 2 == 0 or not np.allclose(taps, taps[::-1]):
            raise ParameterError(f"a zero-phase FIR needs symmetric taps of odd length, got {taps.size} taps")

    @property
    def n_channels(self) -> int:
        return self.source.n_channels

    @property
    def n_times(self) -> int:
        return self.source.n_times

    def read(self, start: int, stop: int) -> np.ndarray:
        half = (len(self.taps) - 1) // 2
        padded = _padded_segment(self.source, start - half, stop + half)
        return scipy.signal.oaconvolve(padded, np.asarray(self.taps, dtype=float)[np.newaxis], mode="valid", axes=-1)


def _check_input(data: np.ndarray | SignalSource, sfreq: float) -> SignalSource:
    if not isinstance(data, SignalSource) or isinstance(data, np.ndarray):
        data = np.asarray(data)
        if data.ndim != 2:
            raise ParameterError(f"data must be 2-D (n_channels, n_times), got shape {data.shape}")
        data = ArraySource(data)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ParameterError(f"sampling rate must be a positive number of Hz, got {sfreq}")
    if data.n_times < 2:
        raise ParameterError("data must hold at least two samples")
    return data


_FFT_WORKERS: contextvars.ContextVar[int] = contextvars.ContextVar("harmonix_fft_workers", default=-1)


@contextlib.contextmanager
def fft_thread_budget(workers: int) -> Iterator[None]:
    """Run a block with at most ``workers`` FFT threads in the filter bank (default: all cores).

    A cluster worker that owns one core runs its task inside
    ``fft_thread_budget(1)``, so that N workers on N cores never start N x N
    FFT threads. Context-local: other threads keep their own budget.

    Examples
    --------
    >>> with fft_thread_budget(1):
    ...     pass  # iter_analytic_blocks(...) here uses one FFT thread
    """
    token = _FFT_WORKERS.set(int(workers))
    try:
        yield
    finally:
        _FFT_WORKERS.reset(token)


def iter_analytic_blocks(
    data: np.ndarray | SignalSource,
    sfreq: float,
    bands: Sequence[Band] | None = None,
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    dtype: np.dtype | type = np.complex64,
    workers: int | None = None,
    taps: Sequence[np.ndarray] | None = None,
) -> Iterator[AnalyticBlock]:
    """Yield the analytic signal of every band, one time block at a time.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times) | SignalSource
        Real signals (e.g. V), or a source that reads them block by block
        (an hour-long recording then never sits in memory). Not modified.
    sfreq : float
        Sampling rate in Hz.
    bands : sequence of Band | None
        Bands to extract; ``None`` uses the default table.
    chunk_seconds : float
        Approximate length of each yielded block in seconds: it is rounded up
        so that the padded block has a fast FFT length, and the last block may
        be shorter. Memory is proportional to it; results do not depend on it
        beyond round-off.
    dtype : complex dtype
        Output precision; ``complex64`` halves memory and is ample for phase.
    workers : int | None
        FFT worker threads (``scipy.fft`` semantics; -1 uses all cores).
        ``None``: all cores, or the budget set by :func:`fft_thread_budget`
        (a cluster worker's one core).
    taps : sequence of ndarray | None
        FIR taps per band when already designed (:func:`design_band_filter`);
        designed here otherwise.

    Yields
    ------
    block : AnalyticBlock
        Consecutive, non-overlapping blocks covering the whole recording,
        each with its input samples in ``signal``.

    Examples
    --------
    >>> import numpy as np
    >>> sfreq = 250.0
    >>> t = np.arange(int(20 * sfreq)) / sfreq
    >>> x = np.sin(2 * np.pi * 10 * t)[np.newaxis]
    >>> blocks = list(iter_analytic_blocks(x, sfreq, load_bands({"alpha": (8, 13)}), chunk_seconds=5))
    >>> sum(b.stop - b.start for b in blocks), blocks[0].values.shape[:2]
    (5000, (1, 1))
    >>> bool(np.allclose(np.abs(blocks[1].values), 1.0, atol=0.01))
    True
    """
    source = _check_input(data, sfreq)
    bands = load_bands(bands)
    if chunk_seconds <= 0:
        raise ParameterError(f"chunk_seconds must be positive, got {chunk_seconds}")
    workers = _FFT_WORKERS.get() if workers is None else workers
    n_times = source.n_times
    taps = [design_band_filter(band, sfreq) for band in bands] if taps is None else list(taps)
    # One full FIR length of context on each side makes the band-pass exact and
    # lets the Hilbert tails of the band-limited kernel decay before the edge.
    pad = max(len(t) for t in taps)
    block = max(1, min(n_times, int(round(chunk_seconds * sfreq))))
    n_fft = scipy.fft.next_fast_len(block + 2 * pad, real=True)
    block = n_fft - 2 * pad  # use the whole fast FFT length
    # Single precision output is computed in single precision: phase and
    # amplitude keep ~1e-7 relative accuracy at half the FFT cost.
    single = np.dtype(dtype) == np.complex64
    gains = np.stack([analytic_response(t, n_fft) for t in taps]).astype(np.float32 if single else np.float64)
    n_pos = n_fft // 2 + 1
    spectrum = np.zeros((source.n_channels, n_fft), dtype=np.complex64 if single else np.complex128)
    for start in range(0, n_times, block):
        stop = min(start + block, n_times)
        segment = _padded_segment(source, start - pad, start - pad + n_fft)
        # An offset (EEG amplifiers often record one) would swamp a band's power in single
        # precision; it is taken out before the FFT and its exact response added back.
        offset = segment.mean(axis=-1, keepdims=True)
        centred = segment - offset
        positive = scipy.fft.rfft(centred.astype(np.float32) if single else centred, axis=-1, workers=workers)
        values = np.empty((len(bands), source.n_channels, stop - start), dtype=dtype)
        for b, gain in enumerate(gains):
            np.multiply(positive, gain[:n_pos], out=spectrum[:, :n_pos])
            values[b] = scipy.fft.ifft(spectrum, axis=-1, workers=workers, overwrite_x=False)[:, pad : pad + stop - start]
            if gain[0] != 0:
                values[b] += (offset * float(gain[0])).astype(values.dtype.type(0).real.dtype)
        yield AnalyticBlock(start, stop, values, segment[:, pad : pad + stop - start])


def analytic_signal(
    data: np.ndarray,
    sfreq: float,
    band: Band,
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    dtype: np.dtype | type = np.complex128,
) -> np.ndarray:
    """Analytic signal of one band over the whole recording.

    Convenience for recordings that fit in memory; long recordings should
    consume :func:`iter_analytic_blocks` instead.

    Returns
    -------
    z : ndarray, shape (n_channels, n_times), complex
        Band-passed signal (real part) and its Hilbert transform (imaginary).
    """
    source = _check_input(data, sfreq)
    out = np.empty((source.n_channels, source.n_times), dtype=dtype)
    for blk in iter_analytic_blocks(data, sfreq, (band,), chunk_seconds=chunk_seconds, dtype=dtype):
        out[:, blk.start : blk.stop] = blk.values[0]
    return out


def band_amplitude_stats(
    data: np.ndarray,
    sfreq: float,
    bands: Sequence[Band] | None = None,
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    workers: int | None = None,
) -> dict[str, np.ndarray]:
    """Mean and coefficient of variation of each band's amplitude envelope.

    .. math::

        \\bar A_b = \\frac{1}{T}\\sum_t |z_b(t)|, \\qquad
        \\mathrm{CV}_b = \\frac{\\operatorname{sd}_t |z_b(t)|}{\\bar A_b}

    A stationary sinusoid has CV near 0; Gaussian noise band-passed has a
    Rayleigh-distributed envelope with CV = sqrt(4/pi - 1) ~ 0.523, so CV
    above that marks bursty (intermittent) oscillations.

    Parameters are those of :func:`iter_analytic_blocks`.

    Returns
    -------
    stats : dict
        ``'mean_amplitude'`` and ``'amplitude_cv'``, each (n_channels, n_bands);
        mean amplitude in the input's unit (e.g. V), CV dimensionless.
    """
    bands = load_bands(bands)
    total = None
    total_sq = None
    n = 0
    for blk in iter_analytic_blocks(data, sfreq, bands, chunk_seconds=chunk_seconds, workers=workers):
        amp = np.abs(blk.values).astype(np.float64)
        block_sum, block_sq = amp.sum(axis=-1), np.square(amp).sum(axis=-1)
        total = block_sum if total is None else total + block_sum
        total_sq = block_sq if total_sq is None else total_sq + block_sq
        n += blk.stop - blk.start
    mean = total / n
    var = np.maximum(total_sq / n - mean**2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.sqrt(var) / mean
    return {"mean_amplitude": mean.T, "amplitude_cv": cv.T}
