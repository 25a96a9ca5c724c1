"""Mains (power-line) interference: detection of 50/60 Hz and its harmonics.

Estimator
---------
A Welch PSD :math:`\\hat P(f)` is computed per channel (Hann segments of
``segment_seconds`` :math:`= L` s, 50 % overlap, grid spacing :math:`1/L`),
averaged over trials when trials are given. For a mains frequency
:math:`f_m \\in \\{50, 60\\}` Hz and each harmonic :math:`k f_m` below the
Nyquist frequency, the *excess* is the PSD at the bin nearest :math:`k f_m`
over the background level estimated from the neighbouring bins
:math:`N_k = \\{f: 0.5 < |f - k f_m| \\le 2\\}` Hz:

.. math::

    E_k = 10\\log_{10} \\frac{\\hat P(k f_m)}{\\mathrm{median}_{f \\in N_k} \\hat P(f)}

Threshold. Without a line, :math:`\\hat P(f) \\sim P(f)\\,\\chi^2_\\nu/\\nu` with the
equivalent degrees of freedom of Welch's estimate (Percival & Walden 1993,
eq. 292b), for :math:`B` segments per trial and :math:`T` trials,

.. math::

    \\nu = T \\, \\frac{2B}{1 + 2(1 - 1/B)\\,\\rho^2}, \\qquad
    \\rho = \\frac{\\sum_n w_n w_{n+L f_s/2}}{\\sum_n w_n^2}

(:math:`\\rho = 1/3` for the Hann window at 50 % overlap). Under that null the
ratio in :math:`E_k` is distributed as :math:`R = X_0 / \\mathrm{median}(X_1..X_M)`
with independent :math:`X_i \\sim \\chi^2_\\nu` and :math:`M = |N_k|` (the
neighbour median has its own sampling error: with 2-s segments the
neighbourhood holds only 6 bins). A harmonic is *detected* when
:math:`E_k > 10\\log_{10} q_{1-\\alpha'}(R)`, the quantile taken from
200 000 seeded Monte-Carlo draws of :math:`R`, with
:math:`\\alpha' = \\alpha / (n_\\mathrm{channels}\\, n_\\mathrm{tests})` (Bonferroni
over channels and over every (mains, harmonic) pair examined), so that a
recording without mains interference is declared contaminated with probability
at most about ``alpha`` (neighbouring Welch bins are treated as independent). The detected mains frequency is the one of 50/60 Hz with the larger
summed excess over its detected harmonics; ``None`` when no harmonic of
either is detected.

References
----------
Percival, D. B. & Walden, A. T. (1993). Spectral Analysis for Physical
Applications. Cambridge University Press, section 6.17.

Welch, P. D. (1967). IEEE Trans. Audio Electroacoust. 15(2):70-73.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.signal
import scipy.stats

from harmonix.errors import ParameterError

MAINS_FREQS = (50.0, 60.0)


@dataclass(frozen=True)
class LineNoise:
    """Mains interference found in a recording.

    Attributes
    ----------
    freq : float | None
        Detected mains frequency (50 or 60 Hz), ``None`` when none is detected.
    harmonics : ndarray
        Harmonic frequencies ``k * freq`` examined (Hz, below Nyquist); empty when ``freq`` is None.
    excess_db : ndarray
        Excess :math:`E_k` (dB) of each harmonic, maximum over channels.
    detected : ndarray of bool
        Whether each harmonic exceeds ``threshold_db``.
    threshold_db : float
        Detection threshold (dB).
    dof : float
        Equivalent degrees of freedom :math:`\\nu` of the PSD estimate.
    alpha : float
        Family-wise false-positive rate of the detection.
    excess_by_mains : dict
        ``{50.0: (harmonics, excess_db), 60.0: (...)}`` for both candidates.
    """

    freq: float | None
    harmonics: np.ndarray
    excess_db: np.ndarray
    detected: np.ndarray
    threshold_db: float
    dof: float
    alpha: float
    excess_by_mains: dict

    @property
    def detected_harmonics(self) -> np.ndarray:
        """Frequencies (Hz) of the detected harmonics."""
        return self.harmonics[self.detected]

    def summary(self) -> str:
        """One line for a console or a report."""
        if self.freq is None:
            return f"no mains interference detected (threshold {self.threshold_db:.1f} dB, alpha={self.alpha:g})"
        parts = ", ".join(f"{h:g} Hz +{e:.1f} dB" for h, e in zip(self.harmonics[self.detected],
                                                                   self.excess_db[self.detected]))
        return f"mains {self.freq:g} Hz detected: {parts} (threshold {self.threshold_db:.1f} dB)"


def welch_dof(n_segments: int, nperseg: int, n_trials: int = 1) -> float:
    """Equivalent degrees of freedom of a Hann, 50 %-overlap Welch PSD (see module docstring)."""
    w = scipy.signal.get_window("hann", nperseg)
    step = nperseg - nperseg // 2
    rho = float(np.sum(w[:-step] * w[step:]) / np.sum(w**2)) if step < nperseg else 0.0
    b = max(int(n_segments), 1)
    return n_trials * 2.0 * b / (1.0 + 2.0 * (1.0 - 1.0 / b) * rho**2)


def detect_line_noise(
    data: np.ndarray,
    sfreq: float,
    *,
    mains: Sequence[float] = MAINS_FREQS,
    alpha: float = 1e-3,
    segment_seconds: float = 2.0,
    neighbor_hz: float = 2.0,
    exclude_hz: float = 0.5,
) -> LineNoise:
    """Detect mains interference (50/60 Hz and harmonics) from the level over neighbouring bins.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times) or (n_trials, n_channels, n_times)
        Signals (any unit); trials are averaged in the PSD.
    sfreq : float
        Sampling rate (Hz).
    mains : sequence of float
        Mains frequencies to examine.
    alpha : float
        Family-wise false-positive rate of the detection.
    segment_seconds : float
        Welch segment length (s); cut to the signal length when longer.
    neighbor_hz, exclude_hz : float
        Neighbourhood ``exclude_hz < |f - k f_m| <= neighbor_hz``.

    Returns
    -------
    result : LineNoise

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(20 * 250) / 250.0
    >>> x = rng.normal(size=(2, t.size)) + 0.5 * np.sin(2 * np.pi * 60 * t)
    >>> res = detect_line_noise(x, 250.0)
    >>> res.freq, res.detected_harmonics.tolist()
    (60.0, [60.0])
    """
    x = np.asarray(data, dtype=float)
    if x.ndim == 2:
        x = x[np.newaxis]
    if x.ndim != 3:
        raise ParameterError(f"data must be (n_channels, n_times) or (n_trials, n_channels, n_times), got {x.shape}")
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha!r}")
    if sfreq <= 0 or segment_seconds <= 0 or not 0 <= exclude_hz < neighbor_hz:
        raise ParameterError("sfreq and segment_seconds must be > 0 and 0 <= exclude_hz < neighbor_hz")
    n_trials, n_ch, n_times = x.shape
    nper = min(int(round(segment_seconds * sfreq)), n_times)
    grid, psd = scipy.signal.welch(x, sfreq, window="hann", nperseg=nper, noverlap=nper // 2, axis=-1)
    psd = psd.mean(axis=0)  # (n_channels, n_freqs)
    n_seg = 1 + (n_times - nper) // (nper - nper // 2)
    nu = welch_dof(n_seg, nper, n_trials)
    nyq = sfreq / 2.0
    tests = {}
    for fm in mains:
        ks = np.arange(1, int(np.floor((nyq - neighbor_hz) / fm)) + 1)
        tests[float(fm)] = ks * float(fm)
    n_tests = max(1, sum(h.size for h in tests.values()))
    d0 = np.abs(grid - grid[grid.size // 2])
    n_nb = int(((d0 > exclude_hz) & (d0 <= neighbor_hz)).sum())
    thr = _ratio_quantile(round(nu, 6), max(n_nb, 1), 1.0 - alpha / (n_ch * n_tests))
    by_mains: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for fm, harms in tests.items():
        exc = np.full(harms.size, -np.inf)
        for i, h in enumerate(harms):
            d = np.abs(grid - h)
            nb = (d > exclude_hz) & (d <= neighbor_hz)
            if nb.sum() < 2:
                continue
            bg = np.median(psd[:, nb], axis=-1)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = psd[:, int(np.argmin(d))] / bg
            ratio = ratio[np.isfinite(ratio)]
            if ratio.size:
                exc[i] = 10.0 * np.log10(max(float(ratio.max()), 1e-300))
        by_mains[fm] = (harms, exc)
    thr_db = 10.0 * np.log10(thr)
    best, best_sum = None, 0.0
    for fm, (harms, exc) in by_mains.items():
        hit = exc > thr_db
        total = float(exc[hit].sum()) if hit.any() else 0.0
        if hit.any() and total > best_sum:
            best, best_sum = fm, total
    if best is None:
        return LineNoise(None, np.array([]), np.array([]), np.array([], dtype=bool), thr_db, nu, alpha, by_mains)
    harms, exc = by_mains[best]
    return LineNoise(best, harms, exc, exc > thr_db, thr_db, nu, alpha, by_mains)


@lru_cache(maxsize=64)
def _ratio_quantile(nu: float, n_nb: int, q: float, n_draws: int = 200_000) -> float:
    """Quantile ``q`` of X0 / median(X1..Xn_nb), X ~ chi2(nu) i.i.d. (seeded Monte Carlo)."""
    rng = np.random.default_rng(20240615)
    draws = rng.chisquare(nu, size=(n_draws, n_nb + 1))
    ratio = draws[:, 0] / np.median(draws[:, 1:], axis=1)
    return float(np.quantile(ratio, q))


def mains_harmonics(freq: float, sfreq: float) -> np.ndarray:
    """All harmonics ``k * freq`` below the Nyquist frequency (Hz)."""
    if freq <= 0:
        raise ParameterError(f"mains frequency must be > 0, got {freq!r}")
    return freq * np.arange(1, int(np.floor(sfreq / 2.0 / freq)) + 1)


NOTCH_TRANS_BANDWIDTH = 1.0
"""Transition bandwidth (Hz) of the mains notch, split over both sides of each stop band (MNE's default)."""


def notch_taps(freq: float, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Zero-phase FIR that removes mains ``freq`` and its harmonics, designed as ``mne.io.Raw.notch_filter`` does.

    One stop band per harmonic :math:`k f_m` below the Nyquist frequency, of
    width :math:`k f_m / 200` (MNE's default ``notch_widths``) widened by half
    the transition bandwidth :data:`NOTCH_TRANS_BANDWIDTH` on each side, from
    :func:`mne.filter.create_filter` (windowed-sinc ``firwin`` design, Hamming
    window, about 53 dB at the line; length set by the 0.5 Hz transitions,
    3.3 / 0.5 s).

    Parameters
    ----------
    freq : float
        Mains frequency (Hz).
    sfreq : float
        Sampling rate (Hz).

    Returns
    -------
    taps : ndarray
        Symmetric FIR of odd length.
    freqs : ndarray
        The harmonics removed (Hz).

    Examples
    --------
    >>> taps, freqs = notch_taps(60.0, 256.0)
    >>> freqs.tolist(), taps.size % 2
    ([60.0, 120.0], 1)
    """
    import mne

    half = NOTCH_TRANS_BANDWIDTH / 2.0
    harmonics = mains_harmonics(freq, sfreq)
    harmonics = harmonics[harmonics + harmonics / 400.0 + 2 * half < sfreq / 2.0]
    if harmonics.size == 0:
        raise ParameterError(f"mains {freq:g} Hz lies above the Nyquist frequency of {sfreq:g} Hz sampling")
    widths = harmonics / 200.0
    taps = mne.filter.create_filter(None, sfreq, l_freq=harmonics + widths / 2 + half,
                                    h_freq=harmonics - widths / 2 - half, l_trans_bandwidth=half,
                                    h_trans_bandwidth=half, method="fir", fir_design="firwin", phase="zero",
                                    verbose=False)
    return np.asarray(taps, dtype=float), harmonics
