"""Safety: streaming loudness and true-peak meters, the band guard, fades, and protocol limits.

Loudness normalisation (two deterministic passes, constant memory)
-----------------------------------------------------------------
Synthesis is deterministic (seeded noise, fixed phases), so the renderer
first synthesises the whole protocol without writing it, feeding every block
to :class:`LoudnessMeter` and :class:`TruePeakMeter`; it then chooses one
linear gain ``g`` and synthesises again, scaled, to disk. Integrated loudness
is homogeneous, ``L(g x) = L(x) + 20 log10 g``, except that the -70 LUFS
absolute gate does not move: a gain carries quiet blocks (fades, pauses)
across it. The meter therefore keeps every block's loudness (histogram down
to -250 LUFS) and the gain ``g_L`` that meets the target is solved on it
(:meth:`LoudnessMeter.integrated_at`, a few fixed-point steps, then lowered
until the scaled loudness is at or below the target). The true-peak bound
``B`` below is homogeneous, ``B(g x) = g B(x)``, up to a fixed allowance
``A_q`` for the PCM quantisation, so

.. math:: g = \\min\\bigl(g_L,\\; (C - A_q) / B\\bigr)

meets the target unless the true-peak ceiling ``C`` forbids it (then the
result is quieter than the target and a warning says so). A third pass reads
the written file back and measures it again (loudness, true peak, length):
the figures reported and stored in the sidecar are those of the file.

True-peak guarantee
-------------------
*Claim.* For every rendered file, whatever the protocol (noise bursts with
sharp edges, clicks near Nyquist, music), the true peak -- the largest
``|x_c(t)|`` over all real ``t``, ``x_c(t) = sum_n x[n] sinc(t - n)`` the
band-limited reconstruction of the written samples, zero outside the file --
is at most the ceiling ``C`` (-1 dBFS by default).

*Why a 4x meter is not enough.* ITU-R BS.1770-4 Annex 2 oversamples 4x with
a 48-tap filter; between its grid points a full-scale tone near Nyquist can
peak 0.69 dB higher, and the short filter cannot reproduce content above
~0.8 x Nyquist at all. White-noise bursts and 16 kHz clicks at 48 kHz broke a
-1 dBFS ceiling this way (-0.67 and -0.74 dBFS).

*Ingredients.* (1) **Band guard** (:class:`GuardFilter`): the final mix ``s``
goes through a linear-phase low-pass ``f`` (289-tap Kaiser FIR, pass band to
0.90 x Nyquist -- every tonal voice is already below it, see
:func:`check_limits` -- stop band from 0.95 x Nyquist, -109 dB), delay
compensated, so the file's spectrum above 0.95 x Nyquist is negligible.
(2) **Meter** (:class:`TruePeakMeter`): a 16x grid ``y_16`` computed by a
479-tap Kaiser half-band 2x interpolator (pass band to 0.97 x Nyquist) and a
105-tap 8x interpolator, ``P = max |y_16|``.

*Derivation.* Let ``y = f * s`` (all of it, also the ``k = 144`` samples the
filter rings before the start and after the end, which are not written), and
``x`` the written samples (``y`` on ``[0, N)``, quantised). Let ``w`` be the
raised-cosine kernel whose spectrum is 1 up to 0.95 x Nyquist and 0 above
``rho = 0.97`` x Nyquist, and ``b = w * y``: ``b_c`` is band-limited to
``rho fs / 2``, so ``b_c(t) = sum_n b[n] sinc(t - n)`` over all integers ``n``.
Write ``g = w * f - f``; then ``b = y + g * s``.

* Inside the file ``|x[n] - b[n]| <= R = q + l S_s``, where ``q`` is half a
  quantisation step (``2^-16`` for 16-bit PCM), ``S_s = max |s|`` and
  ``l = ||g||_1 < 1e-5`` (the guard's stop band is where ``w`` is not 1).
  Outside it ``x[n] = 0`` and ``|b[n]| <= |y[n]| + |(g * s)[n]|``: the samples
  ``y[n]`` outside the file (the *edges*) are at most ``E_inf`` each, and
  ``sum_{n outside} (|y[n]| + |(g * s)[n]|) <= E_1``, measured as the sum of the
  edges plus ``m S_s``: ``s`` lives on ``[0, N)``, so a lag ``k`` joins at most
  ``|k|`` pairs (``n`` outside, ``m`` inside) and the sum of ``|(g * s)[n]|``
  outside is at most ``S_s sum_k |k| |g[k]| = m S_s``, ``m < 1e-3``.
* The meter is linear. Its error on ``b``: ``y_16 - b_c`` on the grid is
  ``(h_p * w - w_c(. - p/16)) * y`` for grid phase ``p``, so
  ``|y_16 - b_c| <= eps max|y|`` with ``eps = max_p ||h_p * w - w_c(. - p/16)||_1
  < 1e-4`` (computed from the filters, :func:`bound_constants`) and
  ``max |y| <= max(S + q, E_inf)``, ``S`` the sample peak of the file. On
  ``x - b`` its output is at most ``H_1 (R + E_inf)``, ``H_1 = max_p ||h_p||_1 < 3.6``.
  Hence the grid maximum of ``|b_c|`` is at most
  ``G = P + H_1 (R + E_inf) + eps max(S + q, E_inf)``.
* Between grid points: ``|b_c|`` reaches its maximum ``M`` at some ``t*``
  where ``b_c' = 0``; Bernstein's inequality for functions band-limited to
  ``sigma = pi rho fs`` gives ``|b_c''| <= sigma^2 M``, and the nearest grid
  point is within ``1 / (32 fs)``, so its value is at least
  ``M (1 - theta^2 / 2)``, ``theta = pi rho / 32``: ``M <= G / (1 - theta^2/2)``
  (a factor of 1.0046, +0.040 dB).
* Finally ``|x_c| <= |b_c| + |(x - b)_c|``, ``(x - b)_c(t) = sum_n (x[n] - b[n]) sinc(t - n)``
  over all ``n``; inside the file ``sum_n |sinc(t - n)| <= Lambda_N = 2 + (2/pi)(1 + ln N)``
  over ``N`` samples, outside ``|sinc| <= 1``, so the true peak is at most

  .. math:: B = \\frac{P + H_1 (R + E_\\infty) + \\epsilon \\max(S + q, E_\\infty)}{1 - \\theta^2/2}
            + \\Lambda_N R + E_1 .

The constants ``eps``, ``H_1``, ``l`` and ``m`` are upper bounds of sums
computed exactly from the filters by :func:`bound_constants` (the tests
check :data:`TP_EPS`, :data:`TP_H1`, :data:`GUARD_LEAK` and
:data:`GUARD_MOMENT` against it); the tails of ``w`` beyond the computed
range are bounded analytically there.

For a normal render ``B`` exceeds the 16x grid maximum ``P`` by about
0.05 dB (0.040 dB from the grid spacing, the rest from the residual terms);
:func:`true_peak_bound` computes it, the renderer chooses the gain so that
``B <= C`` for the file it is about to write, and the verifying
pass recomputes ``B`` from the written samples (``P`` and ``S`` of the file)
and refuses to keep a file whose bound exceeds the ceiling. Memory: the
meters keep a fixed loudness histogram and filter states, whatever the duration.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import numpy as np
import scipy.signal

from harmonix.errors import ParameterError
from harmonix.stimulus import protocol as P

OVERSAMPLE = 16
"""Grid density of the true-peak meter (samples per input sample)."""
GUARD_PASS = 0.90
"""Band guard pass-band edge, as a fraction of Nyquist (the 0.45 x sfreq limit on voice frequencies)."""
GUARD_STOP = 0.95
"""Band guard stop-band edge, as a fraction of Nyquist."""
BAND_EDGE = 0.97
"""Bandwidth (fraction of Nyquist) assumed by the true-peak bound: the reproducing kernel ``w`` is 0 above it."""

# band guard: 289-tap linear-phase Kaiser low-pass, cut-off between GUARD_PASS and GUARD_STOP
_GUARD_FIR = scipy.signal.firwin(289, (GUARD_PASS + GUARD_STOP) / 2, window=("kaiser", 11.0))
_GUARD_HALF = (len(_GUARD_FIR) - 1) // 2

# meter stage A: half-band 2x interpolator, 479 taps (240 non-zero odd-offset taps), sinc x Kaiser, centre 1
_HB_J = 120
_HB_OFFSETS = np.arange(-(2 * _HB_J - 1), 2 * _HB_J)
_HB = np.sinc(_HB_OFFSETS / 2) * np.kaiser(len(_HB_OFFSETS), 10.0)
_HB_ODD = np.ascontiguousarray(_HB[0::2])  # taps at odd offsets -(2J-1), ..., 2J-1
# meter stage B: 8x interpolator from the 2x grid, 105 taps, sinc x Kaiser (phase 0 passes the 2x samples)
_B_HALF = 52
_B_FIR = np.sinc(np.arange(-_B_HALF, _B_HALF + 1) / 8) * np.kaiser(2 * _B_HALF + 1, 10.0)
_B_WIN = 14  # 2x samples per output: offsets 8 (6 - j) + p for j = 0..13


def _stage_b_matrix() -> np.ndarray:
    m = np.zeros((8, _B_WIN))
    for p in range(8):
        for j in range(_B_WIN):
            off = 8 * (6 - j) + p
            if abs(off) <= _B_HALF:
                m[p, j] = _B_FIR[off + _B_HALF]
    return m


_B_MATRIX = _stage_b_matrix()
# context (input samples) needed on each side of a grid point; blocks overlap by twice that
_TP_CONTEXT = _HB_J + 8
_TP_CARRY = 2 * _TP_CONTEXT

# bound constants (see the module docstring); tests recompute them with bound_constants()
TP_EPS = 1.0e-4
"""Upper bound of the meter's interpolation error on signals band-limited to ``BAND_EDGE`` (x max |y|)."""
TP_H1 = 3.7
"""Upper bound of the l1 norm of the meter's 16 polyphase kernels."""
GUARD_LEAK = 1.0e-5
"""Upper bound of ``||f - w * f||_1``: what of the band guard's output lies outside the bound's band."""
GUARD_MOMENT = 1.0e-3
"""Upper bound of ``sum_k |k| |(w * f - f)[k]|``: with the sample peak of the guard's input, bounds the
band-limited reconstruction's leakage outside the file (module docstring)."""
TP_THETA = math.pi * BAND_EDGE / (2 * OVERSAMPLE)


class StimulusWarning(UserWarning):
    """A protocol renders, but not as written (binaural to mono, loudness below target, ...)."""


def _identical_channels(x: np.ndarray) -> bool:
    return x.shape[0] == 2 and np.array_equal(x[0], x[1])


def db(x: float) -> float:
    """Amplitude to dB (``20 log10 x``); -inf for 0."""
    return 20 * math.log10(x) if x > 0 else -math.inf


# ------------------------------------------------------------------ true peak

try:  # numba is a dependency (librosa needs it too); plain NumPy otherwise
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    njit = None


def _grid_max_numpy(y2: np.ndarray, m: np.ndarray) -> float:
    n = y2.shape[0] - m.shape[1] + 1
    if n <= 0:
        return 0.0
    stacked = np.stack([y2[j: j + n] for j in range(m.shape[1])])
    out = m @ stacked
    return float(max(out.max(), -out.min()))


if njit is not None:
    @njit(cache=True, fastmath=True)
    def _grid_max(y2, m):  # pragma: no cover - compiled
        best = 0.0
        width = m.shape[1]
        for s in range(y2.shape[0] - width + 1):
            for p in range(m.shape[0]):
                acc = 0.0
                for j in range(width):
                    acc += m[p, j] * y2[s + j]
                a = abs(acc)
                if a > best:
                    best = a
        return best
else:  # pragma: no cover
    _grid_max = _grid_max_numpy


class _ValidConvolution:
    """``np.convolve(x, h, 'valid')`` along the last axis by FFT, with the filter's spectrum cached per size."""

    def __init__(self, h: np.ndarray) -> None:
        self.h = np.asarray(h, dtype=np.float64)
        self.spectra: dict[int, np.ndarray] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n, m = x.shape[-1], self.h.size
        if n < m:
            return np.zeros(x.shape[:-1] + (0,))
        if n < 4 * m:
            if x.ndim == 1:
                return np.convolve(x, self.h, mode="valid")
            return np.stack([np.convolve(row, self.h, mode="valid") for row in x])
        import scipy.fft

        nfft = scipy.fft.next_fast_len(n, real=True)
        spec = self.spectra.get(nfft)
        if spec is None:
            if len(self.spectra) > 8:
                self.spectra.clear()
            spec = self.spectra[nfft] = scipy.fft.rfft(self.h, nfft)
        y = scipy.fft.irfft(scipy.fft.rfft(x, nfft, axis=-1) * spec, nfft, axis=-1)
        return y[..., m - 1: n]  # the circular wrap only reaches the first m - 1 outputs


_HB_CONV = _ValidConvolution(_HB_ODD)
_GUARD_CONV = _ValidConvolution(_GUARD_FIR)


def _twice(x: np.ndarray) -> np.ndarray:
    """Stage A: the 2x samples of ``x`` (one channel) where the half-band filter has full support."""
    odd = _HB_CONV(x)  # odd[k] lies between x[k + J - 1] and x[k + J]
    y2 = np.empty(2 * odd.size)
    y2[0::2] = x[_HB_J - 1: _HB_J - 1 + odd.size]
    y2[1::2] = odd
    return y2


def oversample16(x: np.ndarray) -> np.ndarray:
    """The meter's 16x grid of a 1-D signal, zero outside it (for tests and :func:`bound_constants`).

    Element ``i`` is the interpolated value at ``t = i / 16 - C`` input samples, ``C`` = ``_TP_CONTEXT``.
    """
    x = np.concatenate([np.zeros(_TP_CONTEXT), np.asarray(x, dtype=np.float64), np.zeros(_TP_CONTEXT)])
    y2 = _twice(x)  # y2[s] at t = (J - 1) + s / 2
    n = y2.size - _B_WIN + 1
    out = np.empty((n, 8))
    for p in range(8):
        acc = np.zeros(n)
        for j in range(_B_WIN):
            acc += _B_MATRIX[p, j] * y2[j: j + n]
        out[:, p] = acc
    # output (s, p) is at 2x index s + 6 plus p/8 of a 2x step: t = (J - 1) + (s + 6) / 2 + p / 16
    grid = out.reshape(-1)
    first = (_HB_J - 1) + 3  # t of grid[0] in padded input samples
    # shift so that grid index i <-> t = i/16 - C (in unpadded samples): pad the front
    lead = first * 16
    return np.concatenate([np.zeros(lead), grid])


class TruePeakMeter:
    """Streaming true-peak meter: the maximum of a 16x oversampled grid, and a guaranteed upper bound.

    The grid is computed by a high-quality two-stage interpolator (479-tap
    half-band 2x, then 105-tap 8x; pass band to 0.97 x Nyquist); blocks
    overlap by ``2 x 128`` input samples and the signal is taken as zero
    before the first and after the last sample, so inter-sample peaks at
    block joins and at both ends are seen. :meth:`bound` turns the grid
    maximum into an upper bound of the true peak (module docstring).
    """

    def __init__(self, n_channels: int) -> None:
        self.carry = np.zeros((n_channels, _TP_CARRY))
        self.sample_peak = 0.0
        self.grid_peak = 0.0
        self.n_samples = 0

    def _scan(self, x: np.ndarray) -> float:
        if _identical_channels(x):  # mono voices duplicated to stereo: oversample once (half the cost)
            x = x[:1]
        best = 0.0
        for ch in x:
            if ch.size >= _TP_CARRY:
                best = max(best, float(_grid_max(_twice(ch), _B_MATRIX)))
        return best

    def update(self, block: np.ndarray) -> None:
        """Feed a block shaped (n_channels, n)."""
        if not block.size:
            return
        x = np.concatenate([self.carry, np.asarray(block, dtype=np.float64)], axis=1)
        self.carry = x[:, -_TP_CARRY:]
        self.n_samples += block.shape[1]
        self.sample_peak = max(self.sample_peak, float(np.max(np.abs(block))))
        self.grid_peak = max(self.grid_peak, self._scan(x))

    @property
    def true_peak(self) -> float:
        """Maximum of the 16x grid (linear), the tail after the last block included."""
        tail = self._scan(np.concatenate([self.carry, np.zeros_like(self.carry)], axis=1))
        return max(self.grid_peak, tail, self.sample_peak)

    @property
    def true_peak_dbfs(self) -> float:
        return db(self.true_peak)

    @property
    def sample_peak_dbfs(self) -> float:
        return db(self.sample_peak)

    def bound(self, *, residual: float = 0.0, quant: float = 0.0, edge_l1: float = 0.0,
              edge_max: float = 0.0) -> float:
        """Upper bound (linear) of the true peak of what was fed, see :func:`true_peak_bound`."""
        return true_peak_bound(self.true_peak, self.sample_peak, n_samples=self.n_samples, residual=residual,
                               quant=quant, edge_l1=edge_l1, edge_max=edge_max)


def lebesgue(n_samples: int) -> float:
    """``Lambda_N = 2 + (2/pi)(1 + ln N)`` >= ``sum_n |sinc(t - n)|`` over ``N`` samples, for every ``t``."""
    return 2.0 + (2.0 / math.pi) * (1.0 + math.log(max(n_samples, 1)))


def true_peak_bound(grid_peak: float, sample_peak: float, *, n_samples: int, residual: float = 0.0,
                    quant: float = 0.0, edge_l1: float = 0.0, edge_max: float = 0.0) -> float:
    """Guaranteed upper bound (linear) of the true peak of a guarded signal.

    Parameters
    ----------
    grid_peak, sample_peak : float
        ``P``, the 16x grid maximum (:class:`TruePeakMeter`), and ``S``, the sample peak.
    n_samples : int
        Samples per channel ``N``.
    residual : float
        ``l S_s``: the band guard's leakage (:data:`GUARD_LEAK`) times the pre-guard sample peak.
    quant : float
        ``q``, half a quantisation step of the written samples (0 for the float pass).
    edge_l1, edge_max : float
        ``E_1``: sum of ``|y|`` over the guard's output outside the file plus
        ``GUARD_MOMENT`` times the guard's input peak (:attr:`GuardFilter.outside_l1`);
        ``E_inf``: the largest ``|y|`` outside the file.

    Returns
    -------
    float
        ``B = (P + H_1 (R + E_inf) + eps max(S + q, E_inf)) / (1 - theta^2 / 2) + Lambda_N R + E_1``
        with ``R = residual + quant`` (module docstring).
    """
    r = residual + quant
    g = grid_peak + TP_H1 * (r + edge_max) + TP_EPS * max(sample_peak + quant, edge_max)
    return g / (1.0 - TP_THETA**2 / 2) + lebesgue(n_samples) * r + edge_l1


def quantization_allowance(quant: float, n_samples: int) -> float:
    """``A_q``: how much quantising a signal of bound ``B`` can raise the bound of the written file.

    The written file's grid and sample peaks exceed the float signal's by at
    most ``H_1 q`` and ``q``; with the ``q`` already in :func:`true_peak_bound`
    this gives ``q ((2 H_1 + 2 eps) / (1 - theta^2/2) + Lambda_N)``.
    """
    return quant * ((2 * TP_H1 + 2 * TP_EPS) / (1.0 - TP_THETA**2 / 2) + lebesgue(n_samples))


def _raised_cosine_kernel(t: np.ndarray) -> np.ndarray:
    """``w_c(t)``: spectrum 1 up to GUARD_STOP x Nyquist, raised-cosine to 0 at BAND_EDGE x Nyquist (fs = 1)."""
    f1, f2 = GUARD_STOP / 2, BAND_EDGE / 2
    rate, beta = f1 + f2, (f2 - f1) / (f1 + f2)
    u = np.asarray(t, dtype=np.float64) * rate
    den = 1.0 - (2 * beta * u) ** 2
    singular = np.abs(den) < 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        v = rate * np.sinc(u) * np.cos(np.pi * beta * u) / den
    v[singular] = rate * np.pi / 4 * np.sinc(1 / (2 * beta))
    return v


def _guard_tail(k0: int) -> tuple[float, float]:
    """Upper bounds of ``sum_{|k| > k0} |g[k]|`` and ``sum_{|k| > k0} |k| |g[k]|``, ``g = w * f - f`` (``k0 >= 2^12``).

    For ``|k| > k0`` only ``w * f`` is left. With ``a = 2 (f2 - f1)`` (the
    transition width, fs = 1), ``w_c(t) = E(t) (sin 2 pi f2 t + sin 2 pi f1 t) / 2``,
    ``|E(t)| = 1 / (pi (a^2 t^3 - t))``. Expanding ``E(k - j) = E(k) + j E'(tau)``:
    ``sum_j f[j] E(k) sin(2 pi phi (k - j))`` is at most ``|E(k)| |F(phi)|``,
    ``F`` the guard's frequency response (its stop band, ~1e-6, at ``f1``, ``f2``),
    and the rest at most ``m_f max |E'|`` with ``m_f = sum |j| |f[j]|``, so
    ``|g[k]| <= |E(k)| (|F(f1)| + |F(f2)|) / 2 + m_f |E'(|k| - 144)|``. For
    ``a |t| >= sqrt 2``: ``|E(t)| <= 2 / (pi a^2 |t|^3)`` and ``|E'(t)| <= 12 / (pi a^2 t^4)``;
    summing over both sides gives the closed forms below.
    """
    f1, f2 = GUARD_STOP / 2, BAND_EDGE / 2
    a = 2 * (f2 - f1)
    if a * k0 < 2 * math.sqrt(2) or k0 <= 4 * _GUARD_HALF:
        raise ValueError(f"k0={k0} is too small for the asymptotic bounds")
    j = np.arange(-_GUARD_HALF, _GUARD_HALF + 1)
    resp = sum(abs(np.sum(_GUARD_FIR * np.exp(-2j * np.pi * phi * j))) for phi in (f1, f2)) / 2
    m_f = float(np.sum(np.abs(j) * np.abs(_GUARD_FIR)))
    c = 1.0 / (math.pi * a**2)
    d = k0 - _GUARD_HALF  # smallest |k| - 144 in the tail
    # sum_{k > k0} 2 c / k^3 <= c / (k0 - 1)^2 ; sum_{k > k0} 12 c / (k - 144)^4 <= 4 c / (d - 1)^3
    l1 = 2 * (resp * c / (k0 - 1) ** 2 + m_f * 4 * c / (d - 1) ** 3)
    # with the weight k <= (k - 144) (1 + 144 / d): sum 2 c / k^2 <= 2 c / (k0 - 1), sum 12 c / t^3 <= 6 c / (d - 1)^2
    moment = 2 * (resp * 2 * c / (k0 - 1) + m_f * (1 + _GUARD_HALF / d) * 6 * c / (d - 1) ** 2)
    return l1, moment


@functools.lru_cache(maxsize=1)
def bound_constants(half_width: int = 1 << 16, guard_width: int = 1 << 17) -> dict[str, float]:
    """Compute ``eps``, ``H_1``, ``l`` and ``m`` of the true-peak bound from the filters (a second or so).

    ``eps`` uses ``w`` truncated to ``|n| <= half_width``: its tail beyond
    decays as ``|n|^-3`` (``|w_c(t)| <= 2 / (pi a^2 |t|^3)`` for ``a |t| >= sqrt 2``,
    ``a = 2 (f2 - f1)``) and adds at most ``tail (1 + H_1)`` (``tail`` returned).
    ``l = ||g||_1`` and ``m = sum |k| |g[k]|`` (``g = w * f - f``) are summed
    exactly for ``|k| <= guard_width`` (``w * f`` there needs ``w`` only up to
    ``guard_width + 144``), and bounded beyond by :func:`_guard_tail`.
    """
    n = np.arange(-half_width, half_width + 1)
    w = _raised_cosine_kernel(n)
    a = BAND_EDGE - GUARD_STOP
    # the meter's kernels reach ~2 C samples: the truncated part of w lies at |t| >= half_width - 2 C
    tail = 2.0 / (math.pi * a**2 * (half_width - 2 * _TP_CONTEXT - 1) ** 2)
    # polyphase kernels of the meter, from its response to an impulse
    impulse = np.zeros(4 * _TP_CONTEXT + 1)
    impulse[2 * _TP_CONTEXT] = 1.0
    grid = oversample16(impulse)  # grid[i] at t = i/16 - C relative to the padded impulse start
    eps = h1 = 0.0
    for p in range(OVERSAMPLE):
        idx = np.arange(p, grid.size, OVERSAMPLE)
        times = idx / OVERSAMPLE - _TP_CONTEXT  # in padded-impulse samples (padding is C)
        lag = times - (2 * _TP_CONTEXT)  # t - n for the impulse at n
        hp = grid[idx]
        keep = np.flatnonzero(hp)
        hp, lag = hp[keep[0]: keep[-1] + 1], lag[keep[0]: keep[-1] + 1]
        h1 = max(h1, float(np.abs(hp).sum()))
        conv = scipy.signal.fftconvolve(w, hp)
        lags = np.arange(conv.size) - half_width + lag[0]
        eps = max(eps, float(np.abs(conv - _raised_cosine_kernel(lags)).sum()))
    # g = w * f - f, exact for |k| <= guard_width
    wg = _raised_cosine_kernel(np.arange(-(guard_width + _GUARD_HALF), guard_width + _GUARD_HALF + 1))
    full = scipy.signal.fftconvolve(wg, _GUARD_FIR)
    centre = guard_width + 2 * _GUARD_HALF  # index of lag 0
    g = full[centre - guard_width: centre + guard_width + 1].copy()
    g[guard_width - _GUARD_HALF: guard_width + _GUARD_HALF + 1] -= _GUARD_FIR
    k = np.abs(np.arange(-guard_width, guard_width + 1))
    leak_tail, moment_tail = _guard_tail(guard_width)
    return {"eps": eps + tail * (1 + h1), "h1": h1, "leak": float(np.abs(g).sum() + leak_tail),
            "moment": float(np.sum(k * np.abs(g)) + moment_tail), "tail": tail}


class GuardFilter:
    """Streaming band guard: linear-phase low-pass (pass 0.90, stop 0.95 x Nyquist), delay compensated.

    Feed the mix block by block (:meth:`process`), then :meth:`flush`; the
    output has exactly as many samples as the input. The filter's ringing
    before the first and after the last sample is not output: its sum and
    maximum (``edge_l1``, ``edge_max``) and the input's sample peak
    (``pre_peak``) go into the true-peak bound (:attr:`outside_l1`).
    """

    def __init__(self, n_channels: int, n_total: int) -> None:
        self.hist = np.zeros((n_channels, 2 * _GUARD_HALF))
        self.n_total = int(n_total)
        self.next_out = -_GUARD_HALF  # index (in the file) of the next filter output
        self.pre_peak = 0.0
        self.edge_l1 = 0.0
        self.edge_max = 0.0

    @property
    def outside_l1(self) -> float:
        """``E_1`` of the bound: the edges' sum plus ``GUARD_MOMENT`` x the input peak (leakage outside the file)."""
        return self.edge_l1 + GUARD_MOMENT * self.pre_peak

    def _run(self, buf: np.ndarray) -> np.ndarray:
        if _identical_channels(buf):
            return np.repeat(_GUARD_CONV(buf[:1]), buf.shape[0], axis=0)
        return _GUARD_CONV(buf)

    def _split(self, y: np.ndarray) -> np.ndarray:
        a = self.next_out
        self.next_out += y.shape[1]
        lo = min(max(0, -a), y.shape[1])
        hi = max(lo, min(y.shape[1], self.n_total - a))
        for edge in (y[:, :lo], y[:, hi:]):
            if edge.size:
                mag = np.abs(edge)
                self.edge_l1 += float(mag.sum(axis=1).max())
                self.edge_max = max(self.edge_max, float(mag.max()))
        return y[:, lo:hi]

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter a block (n_channels, n); returns float64 samples of the file (fewer at the start)."""
        if not block.shape[1]:
            return np.zeros((self.hist.shape[0], 0))
        self.pre_peak = max(self.pre_peak, float(np.max(np.abs(block))))
        buf = np.concatenate([self.hist, np.asarray(block, dtype=np.float64)], axis=1)
        self.hist = buf[:, -2 * _GUARD_HALF:]
        return self._split(self._run(buf))

    def flush(self) -> np.ndarray:
        """The last samples of the file (the input is zero after its end)."""
        buf = np.concatenate([self.hist, np.zeros_like(self.hist)], axis=1)
        self.hist = np.zeros_like(self.hist)
        return self._split(self._run(buf))


# ------------------------------------------------------------------ loudness

_ABS_GATE = -70.0
_LOW_LUFS = -250.0  # blocks are kept from here, below the gate: a gain may lift them above it
_TOP_LUFS = 200.0
_BINS_PER_LU = 100
_N_BINS = int((_TOP_LUFS - _LOW_LUFS) * _BINS_PER_LU)
_CENTRES = _LOW_LUFS + (np.arange(_N_BINS) + 0.5) / _BINS_PER_LU


class LoudnessMeter:
    """Streaming integrated loudness (ITU-R BS.1770-4 / EBU R128), in LUFS.

    K-weighting uses pyloudnorm's two biquads for the sampling rate (the same
    filters :meth:`pyloudnorm.Meter.integrated_loudness` applies), run with
    state across blocks. Energies are summed per 100 ms hop; gating blocks
    are 400 ms (four hops, 75 % overlap); absolute gate -70 LUFS, relative
    gate -10 LU. Channel weights are 1 (mono, left, right). Memory is
    constant: blocks go into a 0.01 LU histogram (count and summed power per
    bin, from -250 to +200 LUFS: an unscaled mix of loud voices or a float
    music file far above full scale still measures, and blocks below the
    absolute gate are kept for :meth:`integrated_at`), so the gates are
    placed to within 0.01 LU.
    """

    def __init__(self, sfreq: float, n_channels: int) -> None:
        import pyloudnorm

        meter = pyloudnorm.Meter(int(round(sfreq)))
        filters = meter._filters  # pyloudnorm exposes the designed K-weighting stages only here
        self.sos = np.array([np.concatenate([np.asarray(f.b) * f.passband_gain, np.asarray(f.a)])
                             for f in (filters["high_shelf"], filters["high_pass"])])
        self.zi = np.zeros((len(self.sos), n_channels, 2))
        self.hop = int(round(0.1 * sfreq))
        self.sfreq = float(sfreq)
        self.n_hops = 0  # complete 100 ms hops so far
        self.n_channels = n_channels
        self.partial = 0.0  # energy (summed over channels) of the hop being filled
        self.fill = 0
        self.recent: list[float] = []  # the last three complete hops
        # constant memory: a histogram of gating-block loudness in 0.01 LU bins,
        # holding the count and the summed power of the blocks in each bin (as libebur128 does)
        self.count = np.zeros(_N_BINS, dtype=np.int64)
        self.power = np.zeros(_N_BINS)

    def _hops(self, hop_energies: np.ndarray) -> None:
        self.n_hops += hop_energies.size
        e = np.concatenate([self.recent, hop_energies])
        if e.size >= 4:
            c = np.concatenate([[0.0], np.cumsum(e)])
            z = (c[4:] - c[:-4]) / (4 * self.hop)  # mean square of each 400 ms block, summed over channels
            with np.errstate(divide="ignore", invalid="ignore"):
                loud = -0.691 + 10 * np.log10(z)
            keep = loud >= _LOW_LUFS  # NaN compares False: non-finite blocks are dropped here (and silence)
            bins = np.minimum(((loud[keep] - _LOW_LUFS) * _BINS_PER_LU).astype(np.int64), _N_BINS - 1)
            np.add.at(self.count, bins, 1)
            np.add.at(self.power, bins, z[keep])
        self.recent = list(e[-3:])

    def update(self, block: np.ndarray) -> None:
        """Feed a block shaped (n_channels, n)."""
        if _identical_channels(block) and np.array_equal(self.zi[:, 0], self.zi[:, 1]):
            # identical channels (mono voices in a stereo file): filter one, count it twice
            y, zi0 = scipy.signal.sosfilt(self.sos, block[:1].astype(np.float64), axis=1, zi=self.zi[:, :1])
            self.zi = np.repeat(zi0, block.shape[0], axis=1)
            y = (y[0] * y[0]) * block.shape[0]
        else:
            y, self.zi = scipy.signal.sosfilt(self.sos, block.astype(np.float64), axis=1, zi=self.zi)
            y = (y * y).sum(axis=0)
        pos, n = 0, y.size
        if self.fill:
            take = min(self.hop - self.fill, n)
            self.partial += y[:take].sum()
            self.fill += take
            pos = take
            if self.fill == self.hop:
                self._hops(np.array([self.partial]))
                self.partial, self.fill = 0.0, 0
        k = (n - pos) // self.hop
        if k:
            self._hops(y[pos: pos + k * self.hop].reshape(k, self.hop).sum(axis=1))
            pos += k * self.hop
        if pos < n:
            self.partial += y[pos:].sum()
            self.fill += n - pos

    @property
    def integrated(self) -> float:
        """Integrated loudness in LUFS over the complete 400 ms blocks (-inf when shorter or silent)."""
        return _gated(self.count, self.power)

    def integrated_at(self, gain_db: float, *, tail: bool = False) -> float:
        """Integrated loudness of the signal scaled by ``gain_db`` (:attr:`integrated_with_tail` with ``tail``).

        Not simply ``integrated + gain_db``: the -70 LUFS absolute gate stays
        where it is, so a gain moves quiet blocks (fades, pauses) across it;
        the histogram keeps blocks down to -250 LUFS for that reason.
        """
        if not tail:
            return _gated(self.count, self.power, gain_db)
        count, power = self._with_tail()
        return _gated(count, power, gain_db)

    @property
    def integrated_with_tail(self) -> float:
        """Integrated loudness counting also the last, incomplete block where pyloudnorm counts it.

        pyloudnorm takes ``round((T - 0.4) / 0.1) + 1`` blocks, so when the
        length ``T`` ends more than 50 ms into a hop it adds a block made of
        the last three hops and the incomplete one, divided by a full 400 ms.
        For a short render whose last second is its loudest this reads up to
        ~0.1 LU above :attr:`integrated`; the renderer aims the louder of the
        two at the target, so both readings stay at or below it.
        """
        return _gated(*self._with_tail())

    def _with_tail(self) -> tuple[np.ndarray, np.ndarray]:
        """The block histogram, plus pyloudnorm's incomplete last block when it counts one."""
        n = self.n_hops * self.hop + self.fill
        seconds = n / self.sfreq
        if seconds < 0.4 or not self.fill or len(self.recent) < 3:
            return self.count, self.power
        n_blocks = int(np.round((seconds - 0.4) / 0.1)) + 1  # pyloudnorm's count
        if n_blocks <= self.n_hops - 3:
            return self.count, self.power
        z = (sum(self.recent) + self.partial) / (4 * self.hop)
        count, power = self.count.copy(), self.power.copy()
        loud = -0.691 + 10 * math.log10(z) if z > 0 else -math.inf
        if loud >= _LOW_LUFS:
            b = min(int((loud - _LOW_LUFS) * _BINS_PER_LU), _N_BINS - 1)
            count[b] += 1
            power[b] += z
        return count, power


def gain_to_target(meter: LoudnessMeter, target_lufs: float) -> float:
    """Gain (dB) that brings the metered signal to ``target_lufs``, never above it, by either loudness reading.

    ``G_{k+1} = G_k + target - L(G_k)`` from ``G_0 = target - L(0)``, with
    ``L(G)`` the louder of :meth:`LoudnessMeter.integrated_at` with and without
    pyloudnorm's incomplete last block. ``L(G) - G`` is a step function of
    ``G`` (blocks crossing the absolute gate), so the steps stop within
    0.001 LU or after 20 tries; the gain is then lowered until ``L(G) <= target``.
    -inf when the signal is silent.
    """
    def loud(g: float) -> float:
        return max(meter.integrated_at(g), meter.integrated_at(g, tail=True))

    base = loud(0.0)
    if not math.isfinite(base):
        return -math.inf
    g = target_lufs - base
    for _ in range(20):
        step = target_lufs - loud(g)
        if not math.isfinite(step) or abs(step) < 1e-3:
            break
        g += step
    for _ in range(20):  # a block just over the gate can leave it above: step down until it is not
        excess = loud(g) - target_lufs
        if not excess > 0:
            break
        g -= excess + 1e-3
    return g


def _gated(count: np.ndarray, power: np.ndarray, gain_db: float = 0.0) -> float:
    """BS.1770 gating over a block histogram, for the signal scaled by ``gain_db``, in LUFS.

    Blocks at or above the -70 LUFS absolute gate (after the gain) are kept;
    the relative gate is their mean power - 10 LU; the result is the mean
    power of the blocks above both gates.
    """
    g = 10 ** (gain_db / 10)
    above = _CENTRES + gain_db >= _ABS_GATE
    total = count[above].sum()
    if total == 0:
        return -math.inf
    rel = -0.691 + 10 * np.log10(power[above].sum() * g / total) - 10.0
    keep = above & (_CENTRES + gain_db > rel)
    if not count[keep].any():  # every block in the top bin (beyond +200 LUFS)
        keep = above & (count > 0)
    return float(-0.691 + 10 * np.log10(power[keep].sum() * g / count[keep].sum()))


# ------------------------------------------------------------------ fades and limits


def fade_gain(t: np.ndarray, duration: float, fade_in: float, fade_out: float) -> np.ndarray | None:
    """Raised-cosine fade-in/out gain at times ``t`` (s); None when no sample of ``t`` is in a fade."""
    if (fade_in <= 0 or t[0] >= fade_in) and (fade_out <= 0 or t[-1] <= duration - fade_out):
        return None
    g = np.ones(t.shape)
    with np.errstate(over="ignore"):  # a subnormal fade length overflows to inf: clipped to 1 (no fade)
        if fade_in > 0:
            g *= 0.5 - 0.5 * np.cos(np.pi * np.clip(t / fade_in, 0, 1))
        if fade_out > 0:
            g *= 0.5 - 0.5 * np.cos(np.pi * np.clip((duration - t) / fade_out, 0, 1))
    return g.astype(np.float32)


def _line_of(protocol: P.Protocol, path: str) -> str:
    src = Path(protocol.source)
    try:
        line = P._locate(src.read_text(encoding="utf-8"), path) if src.is_file() else None
    except (OSError, UnicodeDecodeError):
        line = None
    return f" (line {line})" if line else ""


def _range_issue(path: str, value, lo: float, hi: float, unit: str) -> str | None:
    values = [value.start, value.end] if isinstance(value, P.Slide) else [value]
    bad = [v for v in values if not lo <= v <= hi]
    if bad:
        return f"{path}: {bad[0]:g} {unit} is outside the allowed range [{lo:g}, {hi:g}] {unit}"
    return None


def _hours(seconds: float) -> str:
    return f"{seconds:g} s ({seconds / 3600:.3g} h)"


def check_limits(protocol: P.Protocol, *, sfreq: float, override: bool = False) -> list[str]:
    """Check a protocol against the safety limits and the sampling rate.

    Hard limits (frequencies at or above 0.45 x the sampling rate, a
    duration under :data:`~harmonix.stimulus.protocol.MIN_DURATION_S` or over
    :data:`~harmonix.stimulus.protocol.HARD_MAX_DURATION_S`) always raise.
    Soft limits (peak ceiling above -1 dBFS, loudness target above -14 LUFS,
    fades shorter than 5 s, voice levels above the peak ceiling, beats
    outside 0.5-40 Hz, rhythms outside 0.1-50 Hz, a duration over
    :data:`~harmonix.stimulus.protocol.MAX_DURATION_S`) raise unless
    ``override``, in which case they are returned as warnings.

    Returns
    -------
    warnings : list of str
        Notes the renderer passes on (binaural rendered to mono, overridden limits).

    Raises
    ------
    ParameterError
        One line listing every violated limit with its field path and allowed range.
    """
    nyquist = sfreq / 2
    soft: list[str] = []
    notes: list[str] = []
    duration = protocol.duration
    if duration < P.MIN_DURATION_S:
        raise ParameterError(f"{protocol.source}: the render would last {duration:.6g} s; it must last at least "
                             f"{P.MIN_DURATION_S:g} s (loudness is measured over 400 ms blocks, and the fades need "
                             "room): lengthen the segments or raise --seconds")
    if duration > P.HARD_MAX_DURATION_S:
        raise ParameterError(f"{protocol.source}: the protocol lasts {_hours(duration)}, above the hard limit of "
                             f"{_hours(P.HARD_MAX_DURATION_S)} (even with --override); shorten it or render a "
                             "preview with --seconds")
    if duration > P.MAX_DURATION_S:
        soft.append(f"duration: {_hours(duration)} is above the {_hours(P.MAX_DURATION_S)} limit")
    if protocol.peak_dbfs > P.PEAK_CEILING_DBFS:
        soft.append(f"safety.peak_dbfs: {protocol.peak_dbfs:g} dBFS is above the {P.PEAK_CEILING_DBFS:g} dBFS ceiling")
    if protocol.loudness_lufs > P.LOUDNESS_CEILING_LUFS:
        soft.append(f"safety.loudness_lufs: {protocol.loudness_lufs:g} LUFS is above the "
                    f"{P.LOUDNESS_CEILING_LUFS:g} LUFS ceiling")
    min_fade = min(P.MIN_FADE_S, duration / 4)
    for key in ("fade_in", "fade_out"):
        if getattr(protocol, key) < min_fade - 1e-9:
            soft.append(f"safety.{key}: {getattr(protocol, key):g} s is shorter than the {min_fade:g} s minimum")
    for seg in protocol.segments:
        for v in seg.voices:
            lv = v.level
            top = max(lv.start, lv.end) if isinstance(lv, P.Slide) else lv
            if top > protocol.peak_dbfs:
                soft.append(f"{v.path}.level{_line_of(protocol, v.path + '.level')}: {top:g} dBFS is above the "
                            f"peak ceiling {protocol.peak_dbfs:g} dBFS")
            for key, value in v.params.items():
                spec = P.VOICE_SPECS[v.type][key]
                items = value if spec.kind == "rhythms" else [value]
                for i, item in enumerate(items):
                    fpath = f"{v.path}.{key}" + (f"[{i}]" if spec.kind == "rhythms" else "")
                    if spec.soft and item is not None:
                        unit = "Hz"
                        issue = _range_issue(fpath + _line_of(protocol, f"{v.path}.{key}"), item, *spec.soft, unit)
                        if issue:
                            soft.append(issue)
            top_freq = _highest_frequency(v)
            if top_freq is not None and top_freq >= GUARD_PASS * nyquist:
                raise ParameterError(f"{protocol.source}: {v.path}: its highest frequency {top_freq:g} Hz is above "
                                     f"0.45 x the sampling rate ({0.45 * sfreq:g} Hz, Nyquist {nyquist:g} Hz); "
                                     "lower it or render at a higher sfreq")
            if v.type == "binaural" and protocol.channels == 1:
                notes.append(f"{v.path}: binaural voice rendered to mono: the two ears' tones are summed, "
                             "so it becomes a monaural beat")
    if soft and not override:
        raise ParameterError(f"{protocol.source}: outside the safety limits: " + "; ".join(soft)
                             + ". Fix the protocol, or pass override=True (--override) to render it anyway")
    return notes + [f"override: {s}" for s in soft]


def _highest_frequency(v: P.VoiceSpec) -> float | None:
    def top(x):
        return max(x.start, x.end) if isinstance(x, P.Slide) else float(x)

    p = v.params
    if v.type == "tone":
        return top(p["freq"]) * len(p["harmonics"])
    if v.type == "isochronic":
        return top(p["carrier"])
    if v.type == "binaural":
        return top(p["carrier"]) + top(p["beat"]) / 2
    if v.type == "am":
        # without a music file the built-in chord carrier has six partials
        return top(p["carrier"]) * (6 if p["source"] == "music" and not p.get("music") else 1)
    if v.type == "clicks":
        return p["carrier"]
    if v.type == "stack":
        return top(p["f0"]) * p["partials"]
    return None


def warn_all(notes: list[str]) -> None:
    """Emit each note as a :class:`StimulusWarning`."""
    for note in notes:
        warnings.warn(note, StimulusWarning, stacklevel=3)
