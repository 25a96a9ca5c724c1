"""Energy parameter over time and detection of annealing episodes (research proxy).

RESEARCH PROXY, NOT A DIAGNOSIS. The Neural Annealing framework (Johnson 2019,
"Neural Annealing: Toward a Neural Theory of Everything") proposes that the
brain's "energy" (one correlate: total activity in its eigenmodes) rises into a
high-energy, plastic state and then cools slowly. harmonix operationalises it
as the total connectome-harmonic energy (Atasoy et al. 2017, Sci Rep 7:17661)

.. math::

    E(t) = \\sum_k \\lambda_k^2 \\, |a_k(t)|^2 ,

averaged in short windows, and detects *episodes*: stretches where the
smoothed trace rises above a metastability threshold

.. math::

    \\theta = \\operatorname{median}(E) + c \\cdot 1.4826 \\operatorname{MAD}(E),

reporting for each the onset, the peak (time and height), the duration, and the
cooling time constant ``τ`` of an exponential fit to the decay from the peak
back to the baseline, :math:`E(t) - E_0 \\approx (E_{peak} - E_0) e^{-(t - t_{peak})/τ}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError

PROXY_NOTE = (
    "research proxy, not a diagnosis: total connectome-harmonic energy (Atasoy et al. 2017, Sci Rep 7:17661) "
    "read as the Neural Annealing 'energy parameter' (Johnson 2019)"
)


def harmonic_energy_trace(
    coefficients: np.ndarray, eigenvalues: np.ndarray, sfreq: float, *, window_seconds: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Windowed total harmonic energy ``E(t) = Σ_k λ_k² ⟨|a_k|²⟩_window``.

    Parameters
    ----------
    coefficients : ndarray, shape (n_modes, n_times), real or complex
        Harmonic coefficients (complex: the analytic, band-limited ones).
    eigenvalues : ndarray, shape (n_modes,)
    sfreq : float
        Sampling rate of the coefficients in Hz.
    window_seconds : float
        Non-overlapping averaging window.

    Returns
    -------
    times : ndarray, shape (n_windows,)
        Window centres in s.
    energy : ndarray, shape (n_windows,)
        In squared coefficient units.
    """
    coefficients = np.asarray(coefficients)
    if coefficients.ndim != 2 or coefficients.shape[0] != len(eigenvalues):
        raise ParameterError(
            f"coefficients must be (n_modes={len(eigenvalues)}, n_times), got shape {coefficients.shape}"
        )
    size = int(round(window_seconds * sfreq))
    n_windows = coefficients.shape[1] // size
    if size < 1 or n_windows < 1:
        raise ParameterError(f"need at least one {window_seconds} s window; the data hold {coefficients.shape[1] / sfreq:.2f} s")
    weights = np.asarray(eigenvalues, dtype=float) ** 2
    power = np.abs(coefficients[:, : n_windows * size]) ** 2
    energy = weights @ power  # (n_times,)
    energy = energy.reshape(n_windows, size).mean(axis=1)
    times = (np.arange(n_windows) + 0.5) * size / sfreq
    return times, energy


@dataclass(frozen=True)
class Episode:
    """One high-energy episode: heat-up, peak, cool-down."""

    onset: float
    peak_time: float
    peak_energy: float
    duration: float
    cooling_tau: float
    cooling_r_squared: float


@dataclass(frozen=True)
class EnergyEpisodes:
    """Episodes detected in an energy trace, with the threshold that defined them."""

    episodes: tuple[Episode, ...]
    baseline: float
    threshold: float
    params: dict = field(default_factory=dict)
    note: str = PROXY_NOTE


def smoothed_trace(times: np.ndarray, energy: np.ndarray, smooth_seconds: float) -> np.ndarray:
    """The moving average :func:`detect_episodes` thresholds (width ``smooth_seconds``, edges held).

    What a figure of the detection must draw: the raw 1-s trace can cross the
    threshold where the smoothed one does not.
    """
    times, energy = np.asarray(times, dtype=float), np.asarray(energy, dtype=float)
    step = float(np.median(np.diff(times))) if times.size > 1 else 1.0
    return _smooth(energy, max(1, int(round(smooth_seconds / step))))


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return x.astype(float)
    kernel = np.ones(width) / width
    padded = np.pad(x.astype(float), (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def _cooling_fit(times: np.ndarray, values: np.ndarray, baseline: float) -> tuple[float, float]:
    """Fit ``E0 + A exp(-(t - t0)/τ)`` to a decay; return ``(τ, r²)`` (NaN when it cannot be fitted).

    The floor ``E0`` is a free parameter (started at ``baseline``): a fixed
    floor biases ``τ`` whenever the recording's median is not the true floor.
    """
    import scipy.optimize

    if values.size < 4:
        return float("nan"), float("nan")
    t = times - times[0]
    start = (baseline, max(values[0] - baseline, 1e-12), max(t[-1] / 3, 1e-6))

    def model(t: np.ndarray, floor: float, amplitude: float, tau: float) -> np.ndarray:
        return floor + amplitude * np.exp(-t / tau)

    try:
        (floor, amplitude, tau), _ = scipy.optimize.curve_fit(
            model, t, values, p0=start, bounds=([-np.inf, 0, 1e-6], [np.inf, np.inf, np.inf]), maxfev=5000,
        )
    except (RuntimeError, ValueError):
        return float("nan"), float("nan")
    residual = values - model(t, floor, amplitude, tau)
    total = np.sum((values - values.mean()) ** 2)
    return float(tau), float(1.0 - residual @ residual / total) if total > 0 else float("nan")


def _hysteresis_spans(trace: np.ndarray, enter: float, leave: float) -> list[tuple[int, int]]:
    """Index spans that start above ``enter`` and last until the trace drops below ``leave``.

    Two thresholds keep noise on a slowly decaying tail from splitting one
    episode into several.
    """
    spans, start = [], None
    for i, value in enumerate(trace):
        if start is None and value > enter:
            start = i
        elif start is not None and value < leave:
            spans.append((start, i))
            start = None
    if start is not None:
        spans.append((start, len(trace)))
    return spans


def detect_episodes(
    times: np.ndarray,
    energy: np.ndarray,
    *,
    threshold_mads: float = 4.0,
    smooth_seconds: float = 3.0,
    min_duration: float = 2.0,
) -> EnergyEpisodes:
    """Find stretches where the smoothed energy exceeds ``median + c * 1.4826 MAD``.

    Parameters
    ----------
    times, energy : ndarray, shape (n_windows,)
        From :func:`harmonic_energy_trace` (uniformly spaced).
    threshold_mads : float
        ``c``: robust standard deviations above the median.
    smooth_seconds : float
        Moving-average width applied before thresholding.
    min_duration : float
        Shorter excursions are ignored (s).

    Returns
    -------
    EnergyEpisodes
        An episode starts when the smoothed trace exceeds the threshold and
        ends when it falls below halfway between threshold and baseline;
        the cooling fit runs from the peak to the next episode's onset or the
        end of the recording.

    Examples
    --------
    >>> t = np.arange(300.0)
    >>> e = 1 + 5 * np.exp(-np.clip(t - 100, 0, None) / 20) * (t >= 100)
    >>> found = detect_episodes(t, e, smooth_seconds=1, min_duration=2)
    >>> len(found.episodes), found.episodes[0].onset, round(found.episodes[0].cooling_tau)
    (1, 100.0, 20)
    """
    times = np.asarray(times, dtype=float)
    energy = np.asarray(energy, dtype=float)
    if times.shape != energy.shape or times.ndim != 1 or times.size < 5:
        raise ParameterError(f"times and energy must be equal-length 1-D traces of >= 5 windows, got {times.shape}, {energy.shape}")
    if not np.isfinite(energy).all():
        raise ParameterError("the energy trace contains NaN or Inf")
    step = float(np.median(np.diff(times)))
    smooth = smoothed_trace(times, energy, smooth_seconds)
    baseline = float(np.median(smooth))
    spread = 1.4826 * float(np.median(np.abs(smooth - baseline)))
    threshold = baseline + threshold_mads * spread
    spans = [(a, b) for a, b in _hysteresis_spans(smooth, threshold, 0.5 * (baseline + threshold))
             if (b - a) * step >= min_duration]
    episodes = []
    for i, (start, stop) in enumerate(spans):
        peak = start + int(np.argmax(smooth[start:stop]))
        end = spans[i + 1][0] if i + 1 < len(spans) else len(smooth)
        tau, r2 = _cooling_fit(times[peak:end], smooth[peak:end], baseline)
        episodes.append(Episode(float(times[start]), float(times[peak]), float(smooth[peak]), float((stop - start) * step), tau, r2))
    params = {"threshold_mads": threshold_mads, "smooth_seconds": smooth_seconds, "min_duration": min_duration}
    return EnergyEpisodes(tuple(episodes), baseline, threshold, params)
