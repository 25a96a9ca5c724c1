"""Streaming forms of the estimators: sums fed block by block, read out at the end.

Each accumulator holds a few sums whose size does not depend on the
recording's duration, so that one pass of the filter bank over an hour (or a
night) of EEG feeds every estimator at once
(:func:`harmonix.pipeline.analyze_eeg`). Read out, each gives exactly the
batch estimator it streams:

* :class:`PhaseLockingSum` - the phase-locking value over time
  (:func:`harmonix.estimators.locking.plv_matrix`),
  :math:`\\mathrm{PLV}_{ij} = |\\frac{1}{T}\\sum_t u_i(t)\\,\\overline{u_j(t)}|`
  with unit phasors :math:`u = z/|z|` (Lachaux et al. 1999);
* :class:`TrialPhaseLockingSum` - the PLV across trials at each time point,
  averaged over time (:func:`harmonix.estimators.locking.plv_over_trials`);
* :class:`AmplitudeMoments` - mean and coefficient of variation of an
  amplitude envelope (:func:`harmonix.spectral.filterbank.band_amplitude_stats`);
* :class:`WindowedLempelZiv` - the mean over fixed-length windows of the
  normalised LZ76 complexity of the median-binarised envelope
  (:func:`harmonix.estimators.complexity.lempel_ziv_complexity`; Kaspar &
  Schuster 1987). The LZ76 parse costs up to :math:`O(n^2)` in the length of
  the sequence and its normalised value depends on ``n``, so it is computed on
  windows of a fixed duration (Schartner et al. 2015 use fixed-length
  segments too), which makes values comparable across recordings of any
  length and keeps hours affordable.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg.blas as blas

from harmonix.errors import ParameterError
from harmonix.estimators.complexity import lempel_ziv_complexity
from harmonix.spectral.segments import WindowCollector

__all__ = ["PhaseLockingSum", "TrialPhaseLockingSum", "AmplitudeMoments", "WindowedLempelZiv", "cross_phasor_sum",
           "modulus_sums", "real_matrix_apply", "unit_phasors"]


def real_matrix_apply(matrix: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``matrix @ z`` for a real matrix and complex ``(..., n_rows, n)`` data, as one real product.

    A real map acts on real and imaginary parts alike, so it is applied to the
    interleaved single-precision view of ``z``: half the work of the complex
    product NumPy would form (the matrix cast to complex). Returns complex64.
    """
    z = np.ascontiguousarray(z, dtype=np.complex64)
    out = np.ascontiguousarray(matrix, dtype=np.float32) @ z.view(np.float32)
    return out.view(np.complex64)


def unit_phasors(z: np.ndarray) -> np.ndarray:
    """``z / |z|`` in single precision; samples of zero amplitude stay 0 (they carry no phase)."""
    cosine, sine = _phasor_parts(np.asarray(z))
    return (cosine + 1j * sine).astype(np.complex64)


def _modulus_sums_py(rows: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> None:
    n = rows.shape[1]
    for r in _rows(rows.shape[0]):
        # blocks of 256 summed in single precision, then in double: vectorisable and accurate
        a1, a2 = 0.0, 0.0
        for b in range(0, n, 256):
            b1, b2 = np.float32(0.0), np.float32(0.0)
            for t in range(b, min(b + 256, n)):
                v = rows[r, t]
                x = v.real * v.real + v.imag * v.imag
                b2 += x
                b1 += np.sqrt(x)
            a1 += b1
            a2 += b2
        s1[r], s2[r] = a1, a2


def modulus_sums(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Σ|x|`` and ``Σ|x|²`` of each row, in double precision, in one pass (no modulus array)."""
    s1, s2 = np.empty(rows.shape[0]), np.empty(rows.shape[0])
    if _modulus_sums_nb is not None and rows.shape[1] and np.iscomplexobj(rows):
        _modulus_sums_nb(np.ascontiguousarray(rows, dtype=np.complex64), s1, s2)
        return s1, s2
    amplitude = np.abs(rows)
    return amplitude.sum(axis=-1, dtype=np.float64), np.square(amplitude).sum(axis=-1, dtype=np.float64)


def _phasor_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine and sine of the phase of ``z`` (float32); 0 where ``z`` is 0."""
    stacked = _stacked_phasors(np.asarray(z).reshape(-1, np.shape(z)[-1]))
    n = stacked.shape[0] // 2
    shape = np.shape(z)
    return stacked[:n].reshape(shape), stacked[n:].reshape(shape)


def _stacked_phasors_py(z: np.ndarray, out: np.ndarray) -> None:
    n_rows, n_times = z.shape
    for r in _rows(n_rows):
        for t in range(n_times):
            re, im = z[r, t].real, z[r, t].imag
            magnitude = np.sqrt(re * re + im * im)
            if magnitude > 0:
                out[r, t], out[n_rows + r, t] = re / magnitude, im / magnitude
            else:
                out[r, t], out[n_rows + r, t] = 0.0, 0.0


try:
    import numba

    _rows = numba.prange
    _stacked_phasors_nb = numba.njit(cache=True, nogil=True, parallel=True)(_stacked_phasors_py)
    _modulus_sums_nb = numba.njit(cache=True, nogil=True, parallel=True)(_modulus_sums_py)
except ImportError:  # numba ships with librosa; this keeps the module importable without it
    _rows = range
    _stacked_phasors_nb = _modulus_sums_nb = None


def _stacked_phasors(z: np.ndarray) -> np.ndarray:
    """``[cos φ; sin φ]`` of ``(n_rows, n_times)`` complex samples: ``(2 n_rows, n_times)`` float32.

    One compiled pass writes both halves of the matrix :func:`cross_phasor_sum`
    hands to BLAS (no intermediate magnitude, quotient or concatenation).
    """
    z = np.ascontiguousarray(z, dtype=np.complex64)
    out = np.empty((2 * z.shape[0], z.shape[1]), dtype=np.float32)
    if _stacked_phasors_nb is not None:
        _stacked_phasors_nb(z, out)
        return out
    magnitude = np.maximum(np.abs(z), np.finfo(np.float32).tiny)
    out[: z.shape[0]] = z.real / magnitude
    out[z.shape[0]:] = z.imag / magnitude
    return out


def cross_phasor_sum(z: np.ndarray) -> np.ndarray:
    """:math:`\\sum_t u(t)\\,\\overline{u(t)}^T` (complex128, Hermitian) of ``(n_nodes, n_times)`` analytic signals.

    With unit phasors :math:`u = c + i s`, the sum is
    :math:`(CC^T + SS^T) + i(SC^T - CS^T)`: one BLAS ``ssyrk`` of the stacked
    real matrix ``[C; S]`` gives every block at once (real single-precision
    kernels are the fastest a BLAS has); callers accumulate blocks in double
    precision.
    """
    stacked = _stacked_phasors(z)
    n = stacked.shape[0] // 2
    gram = blas.ssyrk(1.0, stacked.T, trans=1)  # upper triangle of [C; S][C; S]^T
    gram = np.triu(gram) + np.triu(gram, 1).T
    cross = gram[:n, n:]  # C S^T
    return (gram[:n, :n] + gram[n:, n:]).astype(np.float64) + 1j * (cross.T - cross).astype(np.float64)


class PhaseLockingSum:
    """Running :math:`\\sum_t u(t) u(t)^H` per band for the PLV over time.

    Parameters
    ----------
    n_bands, n_nodes : int
        Bands and signals (channels, regions, harmonics).
    """

    def __init__(self, n_bands: int, n_nodes: int) -> None:
        self._sum = np.zeros((n_bands, n_nodes, n_nodes), dtype=np.complex128)
        self.count = np.zeros(n_bands, dtype=np.int64)

    def feed(self, analytic: np.ndarray, *, bands: np.ndarray | None = None) -> None:
        """Add ``(n_bands, n_nodes, n)`` analytic samples (only ``bands`` when given)."""
        chosen = range(analytic.shape[0]) if bands is None else np.flatnonzero(bands)
        if analytic.shape[-1] == 0:
            return
        # Finiteness is the caller's to check, once, on the samples (the analysis checks every block read).
        for b in chosen:
            self._sum[b] += cross_phasor_sum(analytic[b])
            self.count[b] += analytic.shape[-1]

    def plv(self) -> np.ndarray:
        """``(n_bands, n_nodes, n_nodes)`` symmetric PLV, ones on the diagonal; NaN for bands never fed."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.abs(self._sum) / self.count[:, None, None]
        idx = np.arange(out.shape[-1])
        out[:, idx, idx] = np.where(self.count[:, None] > 0, 1.0, np.nan)
        return np.clip(out, 0.0, 1.0)


class TrialPhaseLockingSum:
    """PLV across trials at every time point of equal-length trials, averaged over time.

    .. math:: \\mathrm{PLV}_{ij} = \\frac{1}{T}\\sum_t \\Big|\\frac{1}{N}\\sum_{e=1}^{N} u_{ie}(t)\\overline{u_{je}(t)}\\Big|

    Holds ``(n_bands, n_times, n_nodes, n_nodes)`` sums: the trial length, not
    the number of trials, sets its size.
    """

    def __init__(self, n_bands: int, n_nodes: int, n_times: int) -> None:
        self._sum = np.zeros((n_bands, n_times, n_nodes, n_nodes), dtype=np.complex64)
        self.count = 0

    def feed(self, analytic: np.ndarray) -> None:
        """Add one trial's ``(n_bands, n_nodes, n_times)`` analytic signal."""
        if analytic.shape[-1] != self._sum.shape[1]:
            raise ParameterError(f"trials must all hold {self._sum.shape[1]} samples, got {analytic.shape[-1]}")
        u = unit_phasors(analytic)  # (n_bands, n_nodes, n_times)
        self._sum += np.einsum("bit,bjt->btij", u, u.conj())
        self.count += 1

    def plv(self) -> np.ndarray:
        """``(n_bands, n_nodes, n_nodes)``."""
        if self.count == 0:
            raise ParameterError("no trials were fed")
        return np.clip(np.abs(self._sum / self.count).mean(axis=1), 0.0, 1.0)


class AmplitudeMoments:
    """Running sums of an envelope and its square, per band and signal.

    ``mean = S1 / n``; ``cv = sqrt(S2 / n - mean^2) / mean``. With
    ``per_span=True`` the statistics are formed per span (e.g. epoch) and
    averaged over spans, each weighing the same.
    """

    def __init__(self, n_bands: int, n_nodes: int, *, per_span: bool = False) -> None:
        self.per_span = per_span
        self._s1 = np.zeros((n_bands, n_nodes))
        self._s2 = np.zeros((n_bands, n_nodes))
        self.count = np.zeros(n_bands, dtype=np.int64)
        self._span_means: list[np.ndarray] = []
        self._span_cvs: list[np.ndarray] = []

    def feed(self, values: np.ndarray, *, bands: np.ndarray | None = None) -> None:
        """Add ``(n_bands, n_nodes, n)`` samples (only ``bands`` when given).

        Complex values (analytic signals) contribute their modulus, computed
        on the fly; real values must be non-negative amplitudes already.
        """
        chosen = np.ones(values.shape[0], bool) if bands is None else np.asarray(bands, bool)
        if not chosen.all():
            values = values[chosen]
        s1, s2 = modulus_sums(values.reshape(-1, values.shape[-1]))
        self._s1[chosen] += s1.reshape(values.shape[:-1])
        self._s2[chosen] += s2.reshape(values.shape[:-1])
        self.count[chosen] += values.shape[-1]

    def end_span(self) -> None:
        """Close a span (``per_span=True``): its statistics join the average."""
        if not self.per_span:
            return
        mean, cv = self._finish()
        self._span_means.append(mean)
        self._span_cvs.append(cv)
        self._s1[:] = 0.0
        self._s2[:] = 0.0
        self.count[:] = 0

    def _finish(self) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self._s1 / self.count[:, None]
            var = np.maximum(self._s2 / self.count[:, None] - mean**2, 0.0)
            return mean, np.sqrt(var) / mean

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean amplitude and CV, each ``(n_bands, n_nodes)``; NaN for bands never fed."""
        if self.per_span:
            if not self._span_means:
                shape = self._s1.shape
                return np.full(shape, np.nan), np.full(shape, np.nan)
            with np.errstate(invalid="ignore"):
                return np.nanmean(self._span_means, axis=0), np.nanmean(self._span_cvs, axis=0)
        return self._finish()


class WindowedLempelZiv:
    """Mean normalised LZ76 complexity of envelopes over fixed-length windows.

    Parameters
    ----------
    window_starts : ndarray of int
        Window starts (stream samples), e.g. tiles of each span
        (:func:`harmonix.spectral.segments.tile_windows`).
    window_length : int
        Samples per window.
    n_bands, n_nodes : int

    Notes
    -----
    In each window the envelope is binarised around its own median and
    :math:`C = c(n) \\log_2 n / n` is formed (``n`` = window length); the
    result is the mean over windows.
    """

    def __init__(self, window_starts: np.ndarray, window_length: int, n_bands: int, n_nodes: int) -> None:
        self._collector = WindowCollector(window_starts, window_length)
        self._sum = np.zeros((n_bands, n_nodes))
        self.count = np.zeros(n_bands, dtype=np.int64)
        self.window_length = int(window_length)

    @property
    def n_windows(self) -> int:
        return self._collector.starts.size

    def feed(self, start: int, amplitude: np.ndarray, *, bands: np.ndarray | None = None) -> None:
        """Add ``(n_bands, n_nodes, n)`` envelopes (or complex analytic values) from stream sample ``start``."""
        chosen = np.ones(amplitude.shape[0], bool) if bands is None else np.asarray(bands, bool)
        index, windows = self._collector.feed(start, amplitude)
        if not index.size or not chosen.any():
            return
        windows = windows[:, chosen]
        # The modulus only of the samples in windows (complex analytic values may be fed).
        lz = lempel_ziv_complexity(np.abs(windows) if np.iscomplexobj(windows) else windows)
        self._sum[chosen] += lz.sum(axis=0)
        self.count[chosen] += index.size

    def result(self) -> np.ndarray:
        """``(n_bands, n_nodes)``; NaN for bands with no complete window."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._sum / self.count[:, None]
