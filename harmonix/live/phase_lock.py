r"""Phase-locked stimulation: when to play a sound so that it lands at a target phase.

At a hop whose newest sample is at time :math:`t_0` (s, session clock), the
tracked band has phase :math:`\phi_0` and instantaneous frequency :math:`f`
(:func:`~harmonix.spectral.echt.endpoint_phase`). Extrapolating the phase
linearly, :math:`\phi(t_0 + \Delta) = \phi_0 + 2\pi f \Delta`, the next time
the target phase :math:`\theta` is reached no earlier than the lead
:math:`\Delta_{min}` (the delay already spent since :math:`t_0` plus the
output latency) is

.. math::

    \Delta = \Delta_{min} + \frac{(\theta - \phi_0 - 2\pi f \Delta_{min}) \bmod 2\pi}{2\pi f}.

The decision is taken at every arrival of samples, and a sound is committed
only when the next arrival could not schedule the same crossing
(:math:`\Delta < \Delta_{min} + \delta`, with :math:`\delta` the time between
arrivals): a later decision extrapolates over a shorter time, and the phase
of alpha is predictable over tens of milliseconds, not hundreds. Conditions, as in closed-loop
auditory stimulation (Ngo et al. 2013, Neuron 78:545): the band's amplitude
at the newest sample must exceed a threshold (by default the median of the
amplitudes of the last two minutes, so that only the stronger half of the rhythm
is stimulated), and a refractory time must have passed since the last sound.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError
from harmonix.spectral.echt import EndpointPhase

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class PhaseLockSettings:
    """Settings of the phase-locked controller.

    Attributes
    ----------
    target_phase : float
        Phase (radians) at which a sound should start; 0 is the band's peak,
        ``pi`` its trough.
    refractory_seconds : float
        Least time between two sound onsets.
    amplitude_quantile : float
        Sounds only when the band's amplitude exceeds this quantile of its
        amplitudes over the last ``history_seconds`` (0.5: the median).
    history_seconds : float
        Length of that amplitude history.
    warmup_seconds : float
        Time the amplitude history gathers before the first sound.
    output_latency : float
        Seconds between a sound's scheduling and its sound (device buffers).
    """

    target_phase: float = 0.0
    refractory_seconds: float = 1.5
    amplitude_quantile: float = 0.5
    history_seconds: float = 120.0
    warmup_seconds: float = 5.0
    output_latency: float = 0.02

    def __post_init__(self) -> None:
        if not 0.0 <= self.amplitude_quantile < 1.0:
            raise ParameterError(f"amplitude quantile must be in [0, 1), got {self.amplitude_quantile}")
        if self.refractory_seconds < 0 or self.output_latency < 0 or self.warmup_seconds < 0:
            raise ParameterError("refractory time, output latency and warm-up must not be negative")


def next_crossing(phase: float, frequency: float, target: float, lead: float) -> float:
    """Seconds from the newest sample to the first time at or after ``lead`` the phase reaches ``target``."""
    if frequency <= 0:
        raise ParameterError(f"instantaneous frequency must be positive, got {frequency}")
    omega = TWO_PI * frequency
    return lead + ((target - phase - omega * lead) % TWO_PI) / omega


@dataclass
class PhaseLockController:
    """Decides, at each arrival of samples, whether and when to play the next sound.

    ``history_step`` (s) spaces the amplitudes kept for the threshold.

    :meth:`decide` returns the onset time (s, session clock) of a sound to
    play, or ``None`` with the reason in :attr:`last_reason`.
    """

    settings: PhaseLockSettings
    history_step: float
    _amplitudes: deque = field(default=None, repr=False)
    _last_onset: float = field(default=-np.inf, repr=False)
    _first_time: float | None = field(default=None, repr=False)
    _last_history: float = field(default=-np.inf, repr=False)
    last_reason: str = "starting"
    threshold: float = float("nan")

    def __post_init__(self) -> None:
        self._amplitudes = deque(maxlen=max(1, int(round(self.settings.history_seconds / self.history_step))))

    def reset(self) -> None:
        """After a gap or a stall cancelled the scheduled sound: free the refractory time it held.

        The amplitude history is kept."""
        self._last_onset = -np.inf
        self.last_reason = "gap"

    def decide(self, newest_time: float, estimate: EndpointPhase, delay: float, interval: float) -> float | None:
        """Onset time of the next sound, or ``None``.

        Parameters
        ----------
        newest_time : float
            Session time (s) of the window's newest sample.
        estimate : EndpointPhase
            Phase, amplitude and frequency at that sample (one channel).
        delay : float
            Seconds already spent since that sample was taken (its timestamp's age: transport and computing).
        interval : float
            Expected time (s) until the next decision (between arrivals of samples).
        """
        s = self.settings
        amplitude = float(estimate.amplitude[0])
        if self._first_time is None:
            self._first_time = newest_time
        if newest_time - self._last_history >= self.history_step - 1e-9:
            self._amplitudes.append(amplitude)
            self._last_history = newest_time
        self.threshold = float(np.quantile(self._amplitudes, s.amplitude_quantile)) if s.amplitude_quantile else 0.0
        if newest_time - self._first_time < s.warmup_seconds:
            self.last_reason = "warm-up"
            return None
        if amplitude <= self.threshold:
            self.last_reason = "amplitude below threshold"
            return None
        lead = max(0.0, delay) + s.output_latency
        wait = next_crossing(float(estimate.phase[0]), float(estimate.frequency[0]), s.target_phase, lead)
        onset = newest_time + wait
        if onset - self._last_onset < s.refractory_seconds:
            self.last_reason = "refractory"
            return None
        if wait >= lead + interval:
            self.last_reason = "crossing after the next decision"
            return None
        self._last_onset = onset
        self.last_reason = "stimulate"
        return onset
