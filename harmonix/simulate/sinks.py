"""Energy sinks that grow with predictable input: inhibitory feedback that cancels what can be predicted.

In the Neural Annealing account (``../shared/DESIGN.md``, "Simulation core")
external input is an energy source, and a brain that learns to predict its
input stops being heated by it: the predictable part is cancelled by
feedback, the surprising part still gets in. :func:`predictive_sink` models
this as a feedback gain on a drive waveform :math:`F(t)`:

.. math::

    \\hat F(t) = F(t - P), \\qquad e(t) = F(t) - \\hat F(t),

    \\rho(t) = \\max\\Bigl(0,\\ 1 - \\frac{\\langle e^2 \\rangle_w}{\\langle F^2 \\rangle_w}\\Bigr),
    \\qquad \\tau\\,\\dot h = s\\,\\rho(t) - h,

    F_{\\mathrm{eff}}(t) = F(t) - h(t)\\,\\hat F(t),

with :math:`P` the drive's dominant period (the first strong
autocorrelation peak, or given), :math:`\\langle\\cdot\\rangle_w` an
exponential moving average over a short window :math:`w` (how predictable
the input is now), :math:`\\tau` the time constant with which the feedback
is learned, and :math:`s \\in [0, 1]` the sink strength. A periodic drive is
predicted one period ahead (:math:`\\rho \\to 1`), so the gain grows to
:math:`s` with time constant :math:`\\tau` and the effective amplitude falls
to :math:`1 - s`;
white noise is not predictable from its own past (:math:`\\langle e^2\\rangle
\\approx 2\\langle F^2\\rangle`, :math:`\\rho = 0`) and passes unchanged. The
cancellation acts on the input, before the oscillators, so it works the same
for any network model and is computed once per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

from harmonix.errors import ParameterError


@dataclass(frozen=True)
class SinkResult:
    """A drive after predictive cancellation.

    Attributes
    ----------
    drive : ndarray, shape (n_times,)
        :math:`F_{\\mathrm{eff}}(t)`.
    gain : ndarray, shape (n_times,)
        Feedback gain :math:`h(t)` (0 = no cancellation, ``strength`` = full).
    predictability : ndarray, shape (n_times,)
        :math:`\\rho(t)`.
    period : float
        Prediction lag :math:`P` in s.
    """

    drive: np.ndarray
    gain: np.ndarray
    predictability: np.ndarray
    period: float


def dominant_period(drive: np.ndarray, sfreq: float, *, min_period: float = 0.01, max_period: float = 2.0) -> float:
    """Lag (s) of the autocorrelation peak of ``drive`` between ``min_period`` and ``max_period``.

    The shortest lag whose peak reaches 90 % of the largest one, so that a
    multiple of the period is not chosen over the period itself.

    Examples
    --------
    >>> t = np.arange(0, 10, 1 / 1000)
    >>> round(dominant_period(np.sin(2 * np.pi * 40 * t), 1000.0), 4)
    0.025
    """
    x = np.asarray(drive, dtype=float) - np.mean(drive)
    lo, hi = int(np.ceil(min_period * sfreq)), int(np.floor(max_period * sfreq))
    hi = min(hi, x.size // 2)
    if hi <= lo:
        raise ParameterError(f"drive of {x.size / sfreq:.2f} s is too short to find a period of at least {min_period} s")
    acf = scipy.signal.correlate(x, x, mode="full", method="fft")[x.size - 1:]
    lags = np.arange(lo, hi + 1)
    window = acf[lo: hi + 1]
    peaks, _ = scipy.signal.find_peaks(window)
    if not peaks.size:
        return float(lags[np.argmax(window)] / sfreq)
    # Multiples of the period correlate almost as well; take the shortest lag within 10 % of the best peak.
    strong = peaks[window[peaks] >= 0.9 * window[peaks].max()]
    return float(lags[strong[0]] / sfreq)


def _moving_average(x: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average ``y[n] = (1 - alpha) y[n-1] + alpha x[n]``, from ``y[-1] = 0``."""
    return scipy.signal.lfilter([alpha], [1.0, alpha - 1.0], x)


def predictive_sink(
    drive: np.ndarray,
    sfreq: float,
    *,
    strength: float,
    tau: float = 5.0,
    window: float = 1.0,
    period: float | None = None,
) -> SinkResult:
    """Cancel the predictable part of a drive with a feedback gain that grows as prediction succeeds.

    Parameters
    ----------
    drive : ndarray, shape (n_times,)
        The drive waveform :math:`F(t)` (e.g. a stimulus envelope minus its mean).
    sfreq : float
        Its sampling rate in Hz.
    strength : float
        Sink strength :math:`s` in [0, 1]: the largest share of a perfectly
        predictable drive that is cancelled.
    tau : float
        Time constant (s) with which the feedback gain follows the predictability.
    window : float
        Time constant (s) of the running predictability estimate.
    period : float | None
        Prediction lag in s (default: :func:`dominant_period`).

    Returns
    -------
    SinkResult

    Examples
    --------
    >>> t = np.arange(0, 30, 1 / 500)
    >>> periodic = predictive_sink(np.sin(2 * np.pi * 10 * t), 500.0, strength=0.8, tau=2.0)
    >>> round(float(periodic.gain[-1]), 2), round(float(np.abs(periodic.drive[-500:]).max()), 2)
    (0.8, 0.2)
    >>> round(float(periodic.gain[t.searchsorted(2.0)] / 0.8), 2)  # after tau: a little under 1 - 1/e
    0.56
    >>> noise = predictive_sink(np.random.default_rng(0).standard_normal(t.size), 500.0, strength=0.8, tau=2.0)
    >>> float(noise.gain[-5000:].max()) < 0.05
    True
    """
    x = np.asarray(drive, dtype=float)
    if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)):
        raise ParameterError("drive must be a finite 1-D waveform")
    if not 0.0 <= strength <= 1.0:
        raise ParameterError(f"sink strength must be in [0, 1], got {strength}")
    if not (tau > 0 and window > 0):
        raise ParameterError(f"tau and window must be positive, got {tau} and {window}")
    period = dominant_period(x, sfreq) if period is None else float(period)
    lag = int(round(period * sfreq))
    if not 1 <= lag < x.size:
        raise ParameterError(f"prediction lag of {period} s does not fit the {x.size / sfreq:.2f} s drive")
    predicted = np.concatenate([np.zeros(lag), x[:-lag]])
    error = x - predicted
    short = 1.0 - np.exp(-1.0 / (window * sfreq))
    power = _moving_average(x**2, short)
    error_power = _moving_average(error**2, short)
    with np.errstate(invalid="ignore", divide="ignore"):
        predictability = np.where(power > 0, np.clip(1.0 - error_power / np.where(power > 0, power, 1.0), 0.0, 1.0), 0.0)
    gain = _moving_average(strength * predictability, 1.0 - np.exp(-1.0 / (tau * sfreq)))
    return SinkResult(x - gain * predicted, gain, predictability, period)
