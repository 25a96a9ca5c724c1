r"""The annealing controller: heat, hold, cool, driven by the measured energy parameter.

The framework's procedure (Johnson 2019; ``../shared/DESIGN.md``): raise the
brain's energy with rhythmic input that resonates with its harmonics, hold
it, then cool slowly. The controller turns it into stages that advance on
the *measured* energy parameter :math:`E` (the online
:func:`~harmonix.live.online.window_energy`), not on the clock alone:

1. **baseline** (``baseline_seconds``, no drive): :math:`E_0`, the median of
   the measured energy; the target is :math:`E^* = f\,E_0` (``heat_factor``),
   the band :math:`E^*(1 \pm b)`;
2. **heat**: the drive's depth rises until :math:`E` enters the band, or
   ``heat_limit_seconds`` pass: then the target is out of reach, which is
   logged, and the session cools from where it is;
3. **hold** (``hold_seconds``): the depth is adjusted so that :math:`E`
   stays in the band;
4. **cool**: the excess energy follows
   :math:`E_{ref}(t) = E_0 + (E_{hold} - E_0)\,e^{-(t - t_c)/\tau}`
   (``cool_tau``) for ``cool_taus`` time constants, then the drive fades out.

The drive's energy grows with the square of its depth (a linear system's
power), so the controller acts on :math:`s = \sqrt{\max(E - E_0, 0)}`:
an integral law on the normalised error,

.. math:: d_{n+1} = d_n + k_i\,\Delta t\,\frac{s_{ref} - s_n}{s^*},
   \qquad s^* = \sqrt{E^* - E_0},

plus, while cooling, a feedforward term: the depth whose modulation index
:math:`m = (d/2)/(1 - d/2)` (that of a stack amplitude-modulated with depth
:math:`d`) scales the one at the start of cooling by
:math:`\sqrt{(E_{ref} - E_0)/(E_{hold} - E_0)}`, since the drive's energy goes
with :math:`m^2`; the integral term then only corrects the model's error
(pure integral action would lag a decaying reference). The depth is limited
to ``[0, max_depth]`` and its change to ``max_slew`` per second (the safety fades: a full swing takes at least
:data:`~harmonix.stimulus.protocol.MIN_FADE_S`). The integral term is what
holds the energy against a brain that habituates to its input: a fixed
schedule played open loop cannot. A requested cooling faster than the
fades allow is refused. Every decision carries the state that caused it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError
from harmonix.stimulus.protocol import MIN_FADE_S

STAGES = ("baseline", "heat", "hold", "cool", "done")
MAX_STEP_SECONDS = 0.5
"""Longest time one decision may integrate over (the hop is 0.1 s; a gap must not count as control time)."""


@dataclass(frozen=True)
class AnnealingSettings:
    """Stages and limits of the annealing controller (module docstring)."""

    baseline_seconds: float = 20.0
    heat_factor: float = 2.0
    band: float = 0.15
    heat_limit_seconds: float = 120.0
    hold_seconds: float = 120.0
    cool_tau: float = 40.0
    cool_taus: float = 4.0
    max_depth: float = 1.0
    max_slew: float = 1.0 / MIN_FADE_S
    integral_gain: float = 1.0
    max_session_seconds: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("baseline_seconds", "heat_limit_seconds", "hold_seconds", "cool_tau", "cool_taus"):
            if not getattr(self, name) > 0:
                raise ParameterError(f"{name.replace('_', ' ')} must be positive, got {getattr(self, name)}")
        if not self.heat_factor > 1:
            raise ParameterError(f"the energy target must exceed the baseline (heat factor > 1), got {self.heat_factor}")
        if not 0 < self.band < 1:
            raise ParameterError(f"the hold band must be a fraction in (0, 1), got {self.band}")
        if not 0 < self.max_depth <= 1:
            raise ParameterError(f"the maximum depth must be in (0, 1], got {self.max_depth}")
        if self.cool_tau < MIN_FADE_S:
            raise ParameterError(f"a cooling time constant of {self.cool_tau:g} s is faster than the safety fades "
                                 f"allow (the drive may change by its full range in no less than {MIN_FADE_S:g} s); "
                                 f"ask for {MIN_FADE_S:g} s or more")
        if self.total_seconds > self.max_session_seconds:
            raise ParameterError(f"the stages may last {self.total_seconds:g} s, above the maximum session length "
                                 f"of {self.max_session_seconds:g} s")

    @property
    def total_seconds(self) -> float:
        """The longest the stages can take."""
        return self.baseline_seconds + self.heat_limit_seconds + self.hold_seconds + self.cool_tau * self.cool_taus \
            + self.max_depth / self.max_slew


@dataclass(frozen=True)
class Decision:
    """One step of the controller: the depth it commands and why."""

    time: float
    stage: str
    depth: float
    energy: float
    reference: float
    reason: str


@dataclass
class AnnealingController:
    """Heat, hold, cool on the measured energy; :meth:`decide` once per energy update."""

    settings: AnnealingSettings
    stage: str = "baseline"
    depth: float = 0.0
    baseline: float = float("nan")
    target: float = float("nan")
    stage_start: float = 0.0
    hold_energy: float = float("nan")
    unreachable: bool = False
    trim: float = 0.0
    _cool_from: tuple = field(default=(0.0, 0.0), repr=False)
    _baseline_values: list = field(default_factory=list, repr=False)
    _last_time: float | None = field(default=None, repr=False)
    _start: float | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.stage == "done"

    def _enter(self, stage: str, time: float) -> None:
        self.stage, self.stage_start = stage, time
        if stage == "cool":
            depth = self.depth
            self._cool_from = ((depth / 2) / (1 - depth / 2), max(self.hold_energy - self.baseline, 1e-300))
            self.trim = 0.0

    def _feedforward(self, reference: float) -> float:
        if self.stage != "cool":
            return 0.0
        index, excess = self._cool_from
        m = index * math.sqrt(max(reference - self.baseline, 0.0) / excess)
        return 2 * m / (1 + m)

    def _step(self, reference: float, energy: float, dt: float) -> None:
        s = self.settings
        scale = math.sqrt(self.target - self.baseline)
        error = (math.sqrt(max(reference - self.baseline, 0.0)) - math.sqrt(max(energy - self.baseline, 0.0))) / scale
        feedforward = self._feedforward(reference)
        if self.stage != "cool":
            self.trim = self.depth
        self.trim += s.integral_gain * error * dt
        wanted = float(np.clip(feedforward + self.trim, 0.0, s.max_depth))
        self.depth = float(np.clip(wanted, self.depth - s.max_slew * dt, self.depth + s.max_slew * dt))
        self.trim = self.depth - feedforward  # no wind-up beyond what the limits let through

    def decide(self, time: float, energy: float) -> Decision:
        """The depth to drive with from ``time`` (s), given the energy measured on the window ending there."""
        s = self.settings
        if self._start is None:
            self._start = self.stage_start = time
        # capped: after a gap (no energy measured for seconds) one step must not swing the depth past the fades
        dt = 0.0 if self._last_time is None else min(max(0.0, time - self._last_time), MAX_STEP_SECONDS)
        self._last_time = time
        elapsed = time - self.stage_start
        reference, reason = float("nan"), ""
        if time - self._start > s.max_session_seconds and self.stage not in ("cool", "done"):
            self.hold_energy = energy
            self._enter("cool", time)
            reason = "maximum session length reached: cooling"
        if self.stage == "baseline":
            self._baseline_values.append(energy)
            reason = "measuring the baseline energy"
            if elapsed >= s.baseline_seconds:
                self.baseline = float(np.median(self._baseline_values))
                self.target = s.heat_factor * self.baseline
                self._enter("heat", time)
                reason = f"baseline {self.baseline:.4g}; heating to {self.target:.4g}"
        elif self.stage == "heat":
            reference = self.target
            if energy >= self.target * (1 - s.band):
                self._enter("hold", time)
                reason = f"energy {energy:.4g} reached the band after {elapsed:.1f} s: holding"
            elif elapsed >= s.heat_limit_seconds:
                self.unreachable = True
                self.hold_energy = energy
                self._enter("cool", time)
                reason = (f"energy target {self.target:.4g} not reached in {s.heat_limit_seconds:g} s "
                          f"(energy {energy:.4g} at depth {self.depth:.2f}): cooling from here")
            else:
                self._step(reference, energy, dt)
                reason = "heating"
        elif self.stage == "hold":
            reference = self.target
            if elapsed >= s.hold_seconds:
                self.hold_energy = self.target
                self._enter("cool", time)
                reason = f"held {s.hold_seconds:g} s: cooling with time constant {s.cool_tau:g} s"
            else:
                self._step(reference, energy, dt)
                inside = abs(energy - self.target) <= s.band * self.target
                reason = "holding (in band)" if inside else "holding (out of band)"
        elif self.stage == "cool":
            decay = math.exp(-elapsed / s.cool_tau)
            reference = self.baseline + (self.hold_energy - self.baseline) * decay
            if elapsed >= s.cool_taus * s.cool_tau:
                self._enter("done", time)
                reason = "cooled: the drive fades out"
            else:
                self._step(reference, energy, dt)
                reason = reason or "cooling"
        if self.stage == "done":
            self.depth = max(0.0, self.depth - s.max_slew * dt)
            reason = reason or ("fading out" if self.depth > 0 else "finished")
        return Decision(time, self.stage, self.depth, energy, reference, reason)


def fit_cooling_time_constant(times: np.ndarray, energy: np.ndarray, baseline: float) -> float:
    """Time constant (s) of ``baseline + A exp(-(t - t0)/τ)`` fitted to the energy measured while cooling.

    The floor is the baseline the controller cooled towards (fixed, so that
    the fit measures the decay the controller produced, not a floor of its
    own choosing); least squares on the energy itself, not its logarithm,
    which noise near the floor would dominate.
    """
    import scipy.optimize

    times, energy = np.asarray(times, dtype=float), np.asarray(energy, dtype=float)
    if times.size < 4:
        raise ParameterError("need at least 4 energy values to fit a cooling time constant")
    t = times - times[0]
    excess = energy / baseline - 1.0  # in units of the baseline: energies of 1e-19 would stall the solver
    start = (max(excess[0], 1e-6), max(t[-1] / 3, 1e-3))
    (_, tau), _ = scipy.optimize.curve_fit(lambda t, a, tau: a * np.exp(-t / tau), t, excess, p0=start,
                                          bounds=([0, 1e-3], [np.inf, np.inf]), maxfev=5000)
    return float(tau)
