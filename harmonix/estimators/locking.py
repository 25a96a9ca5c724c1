"""Injection locking: phase-locking values, PPC, Rayleigh test, n:m locking.

The Adler fit of detuning and coupling is in :mod:`harmonix.estimators.adler`,
frequency-ratio decoupling in :mod:`harmonix.estimators.frequency_ratios`.

Phases come from the analytic signal :math:`z(t) = A(t) e^{i\\phi(t)}` of
band-passed data (:func:`harmonix.spectral.filterbank.analytic_signal` /
:func:`~harmonix.spectral.filterbank.iter_analytic_blocks`) or of harmonic
coefficients. Every estimator here works on the unit phasor
:math:`u(t) = z(t) / |z(t)| = e^{i\\phi(t)}`, so amplitudes never weight the
result.

Two different phase-locking values are computed, with two names:

- **over time** (:func:`plv_matrix`, :func:`plv_over_time`,
  :func:`band_plv_over_time`): within one recording, the consistency of the
  phase difference of two signals across the samples of a window;
- **over trials** (:func:`plv_over_trials`): at one time point relative to an
  event, the consistency of the phase difference across trials (epochs); this
  is what ``mne_connectivity.spectral_connectivity_epochs(method='plv')``
  computes.

Conventions: phases in rad, angular frequencies (detuning, coupling) in rad/s,
frequencies in Hz.

References
----------
Lachaux J.-P., Rodriguez E., Martinerie J., Varela F. J. (1999). Measuring
phase synchrony in brain signals. Hum Brain Mapp 8:194-208.
Vinck M., van Wingerden M., Womelsdorf T., Fries P., Pennartz C. M. A. (2010).
The pairwise phase consistency: a bias-free measure of rhythmic neuronal
synchronization. NeuroImage 51:112-122.
Tass P. et al. (1998). Detection of n:m phase locking from noisy data:
application to magnetoencephalography. Phys Rev Lett 81:3291-3294.
Adler R. (1946). A study of locking phenomena in oscillators. Proc IRE 34:351-357.
Pikovsky A., Rosenblum M., Kurths J. (2001). Synchronization: a universal
concept in nonlinear sciences. Cambridge University Press (ch. 3 and 9).
Zar J. H. (1999). Biostatistical Analysis, 4th ed., p. 617; Berens P. (2009).
CircStat: a MATLAB toolbox for circular statistics. J Stat Softw 31(10).
Pletzer B., Kerschbaum H., Klimesch W. (2010). When frequencies never
synchronize: the golden mean and the resting EEG. Brain Res 1335:91-102.
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

import numpy as np

from harmonix.errors import DataQualityError, ParameterError

GOLDEN_RATIO = (1.0 + math.sqrt(5.0)) / 2.0
"""The golden ratio :math:`\\varphi = (1 + \\sqrt 5)/2 \\approx 1.618`."""

DEFAULT_CHUNK_SAMPLES = 16384
"""Time samples per matrix product in :func:`plv_matrix` (memory ~ n_signals x chunk)."""

_BLOCK_BUDGET_BYTES = 64 * 2**20  # transient memory of one batched product in the windowed PLV


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _unit_phasors(z: np.ndarray, name: str) -> np.ndarray:
    """``z / |z|`` with clear errors; keeps complex64 as complex64, else complex128."""
    if not np.iscomplexobj(z):
        raise ParameterError(
            f"{name} must be complex analytic signals (e.g. from harmonix.spectral.filterbank.analytic_signal); "
            f"got real dtype {z.dtype}. For phases in rad pass np.exp(1j * phases)"
        )
    dtype = np.complex64 if z.dtype == np.complex64 else np.complex128
    z = np.asarray(z, dtype=dtype)
    if not np.all(np.isfinite(z)):
        raise DataQualityError(f"{name} contains NaN or Inf values; interpolate or drop the bad samples first")
    mag = np.abs(z)
    zero = mag == 0
    if np.any(zero):
        bad = np.unique(np.nonzero(zero)[-2]) if z.ndim >= 2 else np.array([0])
        raise DataQualityError(
            f"{name} has samples of exactly zero amplitude (phase undefined) in signal(s) "
            f"{bad[:10].tolist()}; a flat channel or a band with no power cannot be phase-locked - drop it"
        )
    return z / mag


def _check_2d(analytic: np.ndarray, name: str = "analytic", min_times: int = 2) -> np.ndarray:
    analytic = np.asarray(analytic)
    if analytic.ndim != 2:
        raise ParameterError(f"{name} must be 2-D (n_signals, n_times), got shape {analytic.shape}")
    if analytic.shape[0] < 1:
        raise ParameterError(f"{name} holds no signals (shape {analytic.shape})")
    if analytic.shape[1] < min_times:
        raise ParameterError(f"{name} must hold at least {min_times} time samples, got {analytic.shape[1]}")
    return analytic


def _check_phases(phases: np.ndarray, name: str) -> np.ndarray:
    phases = np.asarray(phases)
    if np.iscomplexobj(phases):
        raise ParameterError(f"{name} must be real phases in rad; for analytic signals pass np.angle(z)")
    phases = phases.astype(np.float64, copy=False)
    if not np.all(np.isfinite(phases)):
        raise DataQualityError(f"{name} contains NaN or Inf values")
    return phases


def _positive(value: float, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a positive number, got {value!r}") from err
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(f"{name} must be a positive number, got {value}")
    return value


# ---------------------------------------------------------------------------
# PLV over time
# ---------------------------------------------------------------------------


def plv_matrix(analytic: np.ndarray, *, chunk_samples: int = DEFAULT_CHUNK_SAMPLES) -> np.ndarray:
    """Phase-locking value over time between every pair of signals.

    .. math::

        \\mathrm{PLV}_{ij} = \\Bigl|\\frac{1}{T}\\sum_{t=1}^{T} u_i(t)\\,\\overline{u_j(t)}\\Bigr|
        = \\Bigl|\\frac{1}{T}\\sum_t e^{i(\\phi_i(t) - \\phi_j(t))}\\Bigr|,
        \\qquad u = z/|z|,

    computed for all pairs at once as the Hermitian product :math:`U U^H`
    (one complex matrix product per chunk of ``chunk_samples`` samples,
    accumulated in complex128), so memory is bounded by the chunk, not the
    recording. Dimensionless, in [0, 1]; 1 on the diagonal.

    For N independent samples of independent phases the estimate is biased
    upwards: :math:`E[\\mathrm{PLV}] \\approx \\sqrt{\\pi/(4N)}`; consecutive
    samples of band-passed signals are not independent, so the effective N is
    about (duration x bandwidth). See :func:`ppc_from_plv` for the debiased
    version over independent observations.

    Parameters
    ----------
    analytic : ndarray, shape (n_signals, n_times), complex
        Analytic signals (channels, regions or harmonic coefficients).
    chunk_samples : int
        Samples per matrix product.

    Returns
    -------
    plv : ndarray, shape (n_signals, n_signals), float64
        Symmetric.

    References
    ----------
    Lachaux et al. (1999), Hum Brain Mapp 8:194.

    Examples
    --------
    >>> t = np.arange(1000) / 250.0
    >>> z = np.exp(1j * np.stack([2 * np.pi * 10 * t, 2 * np.pi * 10 * t + 1.0]))
    >>> np.round(plv_matrix(z), 6)
    array([[1., 1.],
           [1., 1.]])
    """
    analytic = _check_2d(analytic)
    chunk_samples = int(chunk_samples)
    if chunk_samples < 1:
        raise ParameterError(f"chunk_samples must be a positive integer, got {chunk_samples}")
    n, n_times = analytic.shape
    acc = np.zeros((n, n), dtype=np.complex128)
    for start in range(0, n_times, chunk_samples):
        u = _unit_phasors(analytic[:, start : start + chunk_samples], "analytic")
        acc += u @ u.conj().T
    plv = np.abs(acc) / n_times
    np.fill_diagonal(plv, 1.0)
    return np.minimum(plv, 1.0)


class _WindowedCrossSum:
    """Sliding-window sums of ``U U^H`` fed chunk by chunk.

    Windows of ``window`` samples start every ``step`` samples; both are
    multiples of the block length ``g = gcd(window, step)``. Each block of g
    samples gives one matrix ``B_k = U_k U_k^H`` (a batched matrix product);
    a window is the sum of ``window / g`` consecutive blocks (spaced ``step/g``).
    Input is ``(..., n, t)``; leading axes (bands) are carried through.
    """

    def __init__(self, window: int, step: int) -> None:
        self.window, self.step = window, step
        self.block = math.gcd(window, step)
        self.k_window = window // self.block
        self.k_step = step // self.block
        self.carry: np.ndarray | None = None
        self.recent: deque[np.ndarray] = deque(maxlen=self.k_window)
        self.n_blocks = 0  # blocks seen so far
        self.out: list[np.ndarray] = []

    def feed(self, u: np.ndarray) -> None:
        if self.carry is not None and self.carry.shape[-1]:
            u = np.concatenate([self.carry, u], axis=-1)
        g = self.block
        n_full = u.shape[-1] // g
        self.carry = u[..., n_full * g :]
        if n_full == 0:
            return
        lead, n = u.shape[:-2], u.shape[-2]
        per_block = 16 * n * n * max(1, int(np.prod(lead)))
        batch = max(1, _BLOCK_BUDGET_BYTES // per_block)
        for b0 in range(0, n_full, batch):
            b1 = min(n_full, b0 + batch)
            seg = u[..., b0 * g : b1 * g].reshape(*lead, n, b1 - b0, g)
            seg = np.moveaxis(seg, -2, 0)  # (blocks, ..., n, g)
            sums = np.matmul(seg, np.swapaxes(seg, -1, -2).conj())  # (blocks, ..., n, n)
            for s in sums:
                self._push(s.astype(np.complex128, copy=False))

    def _push(self, block_sum: np.ndarray) -> None:
        self.recent.append(block_sum)
        self.n_blocks += 1
        first = self.n_blocks - self.k_window  # index of the first block of the window ending here
        if first >= 0 and first % self.k_step == 0:
            total = self.recent[0].copy()
            for extra in list(self.recent)[1:]:
                total += extra
            self.out.append(np.minimum(np.abs(total) / self.window, 1.0))


def _window_samples(sfreq: float, window_seconds: float, step_seconds: float | None) -> tuple[int, int]:
    sfreq = _positive(sfreq, "sfreq")
    window = int(round(_positive(window_seconds, "window_seconds") * sfreq))
    step = window if step_seconds is None else int(round(_positive(step_seconds, "step_seconds") * sfreq))
    if window < 2:
        raise ParameterError(f"window_seconds={window_seconds} s is under two samples at {sfreq:g} Hz")
    if step < 1:
        raise ParameterError(f"step_seconds={step_seconds} s is under one sample at {sfreq:g} Hz")
    return window, step


def plv_over_time(
    analytic: np.ndarray,
    sfreq: float,
    *,
    window_seconds: float,
    step_seconds: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Time-resolved PLV matrices: :func:`plv_matrix` in sliding windows.

    .. math::

        \\mathrm{PLV}_{ij}(w) = \\Bigl|\\frac{1}{W}\\sum_{t = s_w}^{s_w + W - 1}
        u_i(t)\\,\\overline{u_j(t)}\\Bigr|

    for windows of W samples starting at :math:`s_w = w \\cdot S` (S the step).
    All windows come from batched complex matrix products over blocks of
    :math:`\\gcd(W, S)` samples, each block computed once even when windows
    overlap. This is the quantity ``mne_connectivity.spectral_connectivity_time
    (method='plv')`` returns per epoch, computed from one continuous analytic
    signal (so windows have real context instead of edge effects).

    Parameters
    ----------
    analytic : ndarray, shape (n_signals, n_times), complex
    sfreq : float
        Sampling rate in Hz.
    window_seconds : float
        Window length in s.
    step_seconds : float | None
        Hop between window starts in s; ``None`` gives non-overlapping windows.

    Returns
    -------
    times : ndarray, shape (n_windows,)
        Window centres in s from the first sample.
    plv : ndarray, shape (n_windows, n_signals, n_signals), float64

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = np.exp(1j * rng.uniform(0, 2 * np.pi, (3, 1000)))
    >>> times, plv = plv_over_time(z, 100.0, window_seconds=2.0, step_seconds=1.0)
    >>> times.tolist(), plv.shape
    ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], (9, 3, 3))
    """
    analytic = _check_2d(analytic)
    window, step = _window_samples(sfreq, window_seconds, step_seconds)
    n, n_times = analytic.shape
    if n_times < window:
        raise ParameterError(
            f"recording of {n_times} samples is shorter than one window of {window} samples "
            f"({window_seconds} s at {sfreq:g} Hz); shorten window_seconds"
        )
    acc = _WindowedCrossSum(window, step)
    for start in range(0, n_times, DEFAULT_CHUNK_SAMPLES * 4):
        acc.feed(_unit_phasors(analytic[:, start : start + DEFAULT_CHUNK_SAMPLES * 4], "analytic"))
    plv = np.stack(acc.out)
    idx = np.arange(n)
    plv[:, idx, idx] = 1.0
    times = (np.arange(len(plv)) * step + window / 2.0) / float(sfreq)
    return times, plv


def band_plv_over_time(
    data: np.ndarray,
    sfreq: float,
    bands=None,
    *,
    window_seconds: float,
    step_seconds: float | None = None,
    chunk_seconds: float = 60.0,
    dtype: np.dtype | type = np.complex64,
    mode: str = "filterbank",
    **morlet_options,
) -> tuple[np.ndarray, np.ndarray]:
    """Time-resolved PLV matrices for every band, streamed from the filter bank.

    The analytic signal of every band (:func:`harmonix.spectral.filterbank.
    iter_analytic_blocks`: MNE's zero-phase FIR band-pass + Hilbert, one FFT
    per chunk shared by all bands) is consumed block by block and turned into
    windowed PLV matrices as in :func:`plv_over_time`; memory is bounded by
    ``chunk_seconds`` and the output, not by the recording length.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Real signals (e.g. V).
    sfreq : float
        Sampling rate in Hz.
    bands : None | mapping | sequence of Band | path
        As :func:`harmonix.spectral.bands.load_bands`; ``None`` = defaults.
    window_seconds, step_seconds : float
        As :func:`plv_over_time`.
    chunk_seconds : float
        Filter-bank block length in s.
    dtype : complex dtype
        Precision of the analytic signal and the block products (complex64
        default: phase errors ~1e-7 rad, PLV errors ~1e-6).
    mode : {'filterbank', 'morlet'}
        ``'morlet'``: a different estimator, mne-connectivity's
        ``cwt_morlet`` PLV averaged over wavelets inside each band, from
        :func:`harmonix.estimators.wavelet_locking.band_morlet_plv_over_time`
        (``chunk_seconds`` and ``dtype`` do not apply).
    **morlet_options
        ``padding``, ``freqs_per_band``, ``zero_mean`` of the Morlet mode.

    Returns
    -------
    times : ndarray, shape (n_windows,)
        Window centres in s.
    plv : ndarray, shape (n_bands, n_windows, n_channels, n_channels), float64
    """
    from harmonix.spectral.bands import load_bands
    from harmonix.spectral.filterbank import iter_analytic_blocks

    if mode == "morlet":
        from harmonix.estimators.wavelet_locking import band_morlet_plv_over_time

        return band_morlet_plv_over_time(
            data, sfreq, bands, window_seconds=window_seconds, step_seconds=step_seconds, **morlet_options
        )
    if mode != "filterbank":
        raise ParameterError(f"mode must be 'filterbank' or 'morlet', got {mode!r}")
    if morlet_options:
        raise ParameterError(f"options {sorted(morlet_options)} apply to mode='morlet' only")

    data = np.asarray(data)
    if data.ndim != 2:
        raise ParameterError(f"data must be 2-D (n_channels, n_times), got shape {data.shape}")
    bands = load_bands(bands)
    window, step = _window_samples(sfreq, window_seconds, step_seconds)
    if data.shape[1] < window:
        raise ParameterError(
            f"recording of {data.shape[1]} samples is shorter than one window of {window} samples; "
            "shorten window_seconds"
        )
    if not np.all(np.isfinite(data)):
        raise DataQualityError("data contains NaN or Inf values; interpolate or drop the bad samples first")
    acc = _WindowedCrossSum(window, step)
    for blk in iter_analytic_blocks(data, sfreq, bands, chunk_seconds=chunk_seconds, dtype=dtype):
        acc.feed(_unit_phasors(blk.values, "analytic signal of the filter bank"))
    plv = np.moveaxis(np.stack(acc.out), 0, 1)  # (bands, windows, n, n)
    idx = np.arange(data.shape[0])
    plv[..., idx, idx] = 1.0
    times = (np.arange(plv.shape[1]) * step + window / 2.0) / float(sfreq)
    return times, plv


# ---------------------------------------------------------------------------
# PLV over trials
# ---------------------------------------------------------------------------


def plv_over_trials(
    analytic_trials: np.ndarray,
    *,
    average_time: bool = False,
    chunk_samples: int = 256,
) -> np.ndarray:
    """Phase-locking value across trials (epochs), at each time point.

    .. math::

        \\mathrm{PLV}_{ij}(t) = \\Bigl|\\frac{1}{N}\\sum_{k=1}^{N}
        u_{ik}(t)\\,\\overline{u_{jk}(t)}\\Bigr|

    with N trials and :math:`u_{ik}(t)` the unit phasor of signal i in trial k
    at time t (relative to the event). This is a different quantity from the
    PLV over time of :func:`plv_matrix`: it measures whether the phase
    difference is reproducible from trial to trial at a given latency (Lachaux
    et al. 1999), as ``mne_connectivity.spectral_connectivity_epochs
    (method='plv')`` does. Computed as one batched complex matrix product per
    chunk of time points. For N independent trials of unrelated phases,
    :math:`E[\\mathrm{PLV}] \\approx \\sqrt{\\pi / (4N)}`; :func:`ppc_from_plv`
    removes that bias.

    Parameters
    ----------
    analytic_trials : ndarray, shape (n_trials, n_signals, n_times), complex
    average_time : bool
        If True return the time average :math:`\\frac{1}{T}\\sum_t
        \\mathrm{PLV}_{ij}(t)` (n_signals, n_signals) without storing every t.
    chunk_samples : int
        Time points per batched product.

    Returns
    -------
    plv : ndarray, shape (n_signals, n_signals, n_times) or (n_signals, n_signals)
        Dimensionless, in [0, 1].

    References
    ----------
    Lachaux et al. (1999), Hum Brain Mapp 8:194.
    """
    x = np.asarray(analytic_trials)
    if x.ndim != 3:
        raise ParameterError(
            f"analytic_trials must be 3-D (n_trials, n_signals, n_times), got shape {x.shape}"
        )
    n_trials, n, n_times = x.shape
    if n_trials < 2:
        raise ParameterError(f"PLV across trials needs at least 2 trials, got {n_trials}")
    if n < 1 or n_times < 1:
        raise ParameterError(f"analytic_trials holds no signals or no samples (shape {x.shape})")
    chunk_samples = max(1, int(chunk_samples))
    out = np.zeros((n, n)) if average_time else np.empty((n, n, n_times))
    for start in range(0, n_times, chunk_samples):
        u = _unit_phasors(x[:, :, start : start + chunk_samples], "analytic_trials")
        ut = np.ascontiguousarray(np.transpose(u, (2, 1, 0)))  # (t, n, trials)
        prod = np.abs(np.matmul(ut, np.swapaxes(ut, -1, -2).conj())) / n_trials  # (t, n, n)
        np.minimum(prod, 1.0, out=prod)
        if average_time:
            out += prod.sum(axis=0)
        else:
            out[:, :, start : start + prod.shape[0]] = np.moveaxis(prod, 0, -1)
    if average_time:
        out /= n_times
        np.fill_diagonal(out, 1.0)
    else:
        idx = np.arange(n)
        out[idx, idx, :] = 1.0
    return out


# ---------------------------------------------------------------------------
# debiasing and significance
# ---------------------------------------------------------------------------


def ppc_from_plv(plv: np.ndarray | float, n: int) -> np.ndarray | float:
    """Pairwise phase consistency from a PLV over n independent observations.

    .. math::

        \\mathrm{PPC} = \\frac{2}{N(N-1)}\\sum_{j<k}\\cos(\\theta_j - \\theta_k)
        = \\frac{N\\,\\mathrm{PLV}^2 - 1}{N - 1},

    the equivalence following from :math:`|\\sum_j e^{i\\theta_j}|^2 = N +
    2\\sum_{j<k}\\cos(\\theta_j-\\theta_k)` with :math:`\\mathrm{PLV} =
    |\\frac1N\\sum_j e^{i\\theta_j}|`. PPC is an unbiased estimator of the
    squared population PLV (:math:`E[\\mathrm{PPC}] = |E e^{i\\theta}|^2`), so
    it is ~0 for unrelated phases whatever N, and can be slightly negative.
    Valid for independent observations (trials); consecutive samples of a
    band-passed signal are not independent, so PPC over time is not debiased.

    Parameters
    ----------
    plv : array_like
        PLV values (e.g. from :func:`plv_over_trials`).
    n : int
        Number of observations (trials) the PLV was computed from, >= 2.

    References
    ----------
    Vinck et al. (2010), NeuroImage 51:112, eq. 14.
    """
    if int(n) != n or n < 2:
        raise ParameterError(f"PPC needs the number of observations n >= 2 (an integer), got {n}")
    plv = np.asarray(plv, dtype=np.float64)
    return (n * plv**2 - 1.0) / (n - 1.0)


def pairwise_phase_consistency(phases: np.ndarray, *, axis: int = -1) -> np.ndarray:
    """PPC of a set of phases (e.g. phase differences across trials) along ``axis``.

    .. math::

        \\mathrm{PPC} = \\frac{|\\sum_j e^{i\\theta_j}|^2 - N}{N (N - 1)}

    (Vinck et al. 2010; equal to :func:`ppc_from_plv` of their PLV).
    Dimensionless, in [-1/(N-1), 1]; expectation 0 for uniform phases.
    """
    phases = _check_phases(phases, "phases")
    n = phases.shape[axis]
    if n < 2:
        raise ParameterError(f"PPC needs at least 2 phases along axis {axis}, got {n}")
    resultant = np.abs(np.exp(1j * phases).sum(axis=axis))
    return (resultant**2 - n) / (n * (n - 1.0))


class RayleighResult(NamedTuple):
    """Rayleigh test of uniformity: mean resultant length ``r``, ``z = n r^2`` and p-value ``p``."""

    r: np.ndarray | float
    z: np.ndarray | float
    p: np.ndarray | float


def rayleigh_p_from_resultant(resultant: np.ndarray | float, n: int) -> np.ndarray:
    """Zar's (1999, eq. 27.4) Rayleigh p-value for a resultant length ``R_n`` of ``n`` unit phasors.

    .. math:: p = \\exp\\left(\\sqrt{1 + 4n + 4(n^2 - R_n^2)} - (1 + 2n)\\right), clipped to [0, 1].
    """
    resultant = np.asarray(resultant, dtype=float)
    p = np.exp(np.sqrt(1.0 + 4.0 * n + 4.0 * (n**2 - resultant**2)) - (1.0 + 2.0 * n))
    return np.clip(p, 0.0, 1.0)


def rayleigh_test(phases: np.ndarray, *, axis: int = -1) -> RayleighResult:
    """Rayleigh test for non-uniformity of circular data.

    With :math:`R_n = |\\sum_{j=1}^{n} e^{i\\theta_j}|` (resultant length),

    .. math::

        \\bar R = R_n / n, \\qquad z = R_n^2 / n, \\qquad
        p \\approx \\exp\\Bigl(\\sqrt{1 + 4n + 4(n^2 - R_n^2)} - (1 + 2n)\\Bigr),

    the approximation of Zar (1999, eq. 27.4) used by CircStat's
    ``circ_rtest`` (Berens 2009); accurate for n >= ~10, clipped to [0, 1].
    H0: phases uniform on the circle; alternative: unimodal concentration.
    Phases must be independent observations (trials, or samples decimated to
    the signal's decorrelation time).

    Parameters
    ----------
    phases : array_like
        Phases in rad; the test runs along ``axis`` (vectorised over the rest).

    Returns
    -------
    result : RayleighResult
        ``(r, z, p)`` - r dimensionless in [0, 1], z dimensionless, p-value.
    """
    phases = _check_phases(phases, "phases")
    n = phases.shape[axis]
    if n < 2:
        raise ParameterError(f"the Rayleigh test needs at least 2 phases along axis {axis}, got {n}")
    resultant = np.abs(np.exp(1j * phases).sum(axis=axis))
    z = resultant**2 / n
    p = rayleigh_p_from_resultant(resultant, n)
    r = resultant / n
    if np.ndim(r) == 0:
        return RayleighResult(float(r), float(z), float(p))
    return RayleighResult(r, z, p)


# ---------------------------------------------------------------------------
# n:m locking
# ---------------------------------------------------------------------------


def nm_plv(phase_a: np.ndarray, phase_b: np.ndarray, n: int, m: int, *, axis: int = -1) -> np.ndarray | float:
    """n:m phase-locking index of two phase series.

    .. math::

        \\gamma_{n:m} = \\bigl|\\langle e^{i(n\\phi_a(t) - m\\phi_b(t))}\\rangle_t\\bigr|

    (Tass et al. 1998, the "mean phase coherence" of the generalised phase
    difference). Locking of order n:m means :math:`n f_a \\approx m f_b`, e.g.
    a 5 Hz and a 10 Hz rhythm are 2:1 locked (:math:`n=2, m=1`); choose n, m
    with :func:`nm_orders`. 1:1 gives the ordinary PLV. Dimensionless, [0, 1].

    Parameters
    ----------
    phase_a, phase_b : array_like
        Phases in rad (wrapped or unwrapped), broadcastable, time along ``axis``.
    n, m : int
        Positive integers.

    References
    ----------
    Tass et al. (1998), Phys Rev Lett 81:3291.
    """
    for name, value in (("n", n), ("m", m)):
        if int(value) != value or value < 1:
            raise ParameterError(f"{name} must be a positive integer, got {value}")
    a = _check_phases(phase_a, "phase_a")
    b = _check_phases(phase_b, "phase_b")
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError as err:
        raise ParameterError(f"phase_a {a.shape} and phase_b {b.shape} do not have matching shapes") from err
    if a.ndim == 0 or a.shape[axis] < 2:
        raise ParameterError("n:m locking needs at least 2 time samples")
    value = np.abs(np.exp(1j * (int(n) * a - int(m) * b)).mean(axis=axis))
    return float(value) if np.ndim(value) == 0 else value


def nm_orders(f_a: float, f_b: float, *, max_order: int = 6) -> tuple[int, int]:
    """Smallest integers (n, m) with :math:`n f_a \\approx m f_b`, for :func:`nm_plv`.

    Minimises :math:`|m/n - f_a/f_b|` over :math:`1 \\le n, m \\le` ``max_order``;
    ties go to the lowest order n + m. E.g. ``nm_orders(10, 20) == (2, 1)``,
    ``nm_orders(6, 40) == (6, 1)`` with max_order >= 6 (6.67 ~ 6).

    Parameters
    ----------
    f_a, f_b : float
        Dominant frequencies in Hz (> 0).
    """
    f_a, f_b = _positive(f_a, "f_a"), _positive(f_b, "f_b")
    if int(max_order) != max_order or max_order < 1:
        raise ParameterError(f"max_order must be a positive integer, got {max_order}")
    target = f_a / f_b
    best = None
    for n in range(1, int(max_order) + 1):
        for m in range(1, int(max_order) + 1):
            if math.gcd(n, m) != 1:
                continue
            key = (round(abs(m / n - target), 12), n + m)
            if best is None or key < best[0]:
                best = (key, (n, m))
    return best[1]


__all__ = [
    "GOLDEN_RATIO",
    "RayleighResult",
    "band_plv_over_time",
    "nm_orders",
    "nm_plv",
    "pairwise_phase_consistency",
    "plv_matrix",
    "plv_over_time",
    "plv_over_trials",
    "ppc_from_plv",
    "rayleigh_test",
]
