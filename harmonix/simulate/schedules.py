"""Annealing schedules: the temperature (energy parameter) T(t) of a simulation.

In the Neural Annealing picture the *energy parameter* of a network is its
noise temperature T: the oscillator models in
:mod:`harmonix.simulate.oscillators` add white noise :math:`\\sqrt{2T(t)}\\,dW`
and the spin-glass annealer in :mod:`harmonix.simulate.spin_glass` uses T as
the Metropolis temperature. A schedule is a small frozen, hashable object
that maps a time (s, or sweeps for the spin glass) to T >= 0, and evaluates
vectorised on a whole time grid::

    >>> s = HeatHoldCool(t_heat=1.0, t_hold=2.0, t_cool=4.0, T_start=0.1, T_high=2.0, T_end=0.1)
    >>> s(np.array([0.0, 1.0, 2.5, 7.0, 100.0])).round(3)
    array([0.1, 2. , 2. , 0.1, 0.1])

Schedules
---------
:class:`Constant`
    :math:`T(t) = T_0`.
:class:`HeatHoldCool`
    Linear heating from ``T_start`` to ``T_high`` over ``t_heat``, a hold at
    ``T_high`` for ``t_hold``, then cooling to ``T_end`` over ``t_cool`` with
    one of three laws (u = elapsed cooling time / ``t_cool`` in [0, 1]):

    - ``"linear"``: :math:`T = T_h + (T_e - T_h)\\,u`;
    - ``"exponential"`` (geometric, Kirkpatrick et al. 1983):
      :math:`T = T_h (T_e/T_h)^u`;
    - ``"logarithmic"`` ("slow", the Geman & Geman 1984 law
      :math:`T \\propto 1/\\log t` rescaled to hit ``T_end`` at ``t_cool``):
      :math:`T = T_h / \\bigl(1 + (T_h/T_e - 1)\\,\\ln(1 + k u)/\\ln(1 + k)\\bigr)`
      with shape ``k = log_shape`` (default 100): quick initial drop, then a
      long slow approach to ``T_end``.

    After the cooling phase T stays at ``T_end``; before t = 0 it is ``T_start``.
:class:`Piecewise`
    Linear interpolation (or steps) through ``(time, T)`` knots, constant
    outside.

Any float is accepted where a schedule is expected (:func:`as_schedule` wraps
it in :class:`Constant`), and so is a callable ``f(times) -> T``.

References
----------
Kirkpatrick S., Gelatt C. D., Vecchi M. P. (1983). Optimization by simulated
annealing. Science 220:671-680.
Geman S., Geman D. (1984). Stochastic relaxation, Gibbs distributions, and the
Bayesian restoration of images. IEEE Trans PAMI 6:721-741.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from harmonix.errors import ParameterError

COOLING_LAWS = ("linear", "exponential", "logarithmic")
"""Names accepted by :class:`HeatHoldCool` ``cooling``."""


def _nonneg(value: float, name: str, *, positive: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a number, got {value!r}") from err
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ParameterError(f"{name} must be a finite {kind} number, got {value}")
    return value


class Schedule(ABC):
    """Base class: a temperature schedule ``T(t)``; call it on a scalar or an array of times."""

    @abstractmethod
    def __call__(self, t):
        """Temperature at time(s) ``t`` (s)."""

    def evaluate(self, times) -> np.ndarray:
        """T on a time grid, as a float64 array of the same shape (all >= 0)."""
        return np.asarray(self(np.asarray(times, dtype=float)), dtype=float)

    @property
    def duration(self) -> float:
        """Time after which T no longer changes (0 for a constant)."""
        return 0.0


@dataclass(frozen=True)
class Constant(Schedule):
    """Constant temperature :math:`T(t) = T_0`.

    Parameters
    ----------
    T : float
        Temperature (>= 0): the noise intensity, :math:`\\langle\\xi\\xi\\rangle = 2T`.
    """

    T: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "T", _nonneg(self.T, "Constant: T"))

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        out = np.full(t.shape, self.T)
        return out if out.ndim else float(out)


@dataclass(frozen=True)
class HeatHoldCool(Schedule):
    """Heat up linearly, hold, then cool with a linear, exponential or logarithmic law.

    Parameters
    ----------
    t_heat, t_hold, t_cool : float
        Durations of the three phases (s, or sweeps); ``t_cool > 0``.
    T_start, T_high, T_end : float
        Temperatures before heating, while holding, and at the end of cooling.
        Exponential and logarithmic cooling need ``T_high, T_end > 0``.
    cooling : {"linear", "exponential", "logarithmic"}
        Cooling law (see the module docstring).
    log_shape : float
        Shape k of the logarithmic law (> 0); larger = faster early drop.
    """

    t_heat: float = 0.0
    t_hold: float = 0.0
    t_cool: float = 1.0
    T_start: float = 0.0
    T_high: float = 1.0
    T_end: float = 0.0
    cooling: str = "linear"
    log_shape: float = 100.0

    def __post_init__(self) -> None:
        for name in ("t_heat", "t_hold", "T_start", "T_high", "T_end"):
            object.__setattr__(self, name, _nonneg(getattr(self, name), f"HeatHoldCool: {name}"))
        object.__setattr__(self, "t_cool", _nonneg(self.t_cool, "HeatHoldCool: t_cool", positive=True))
        object.__setattr__(self, "log_shape", _nonneg(self.log_shape, "HeatHoldCool: log_shape", positive=True))
        if self.cooling not in COOLING_LAWS:
            raise ParameterError(f"HeatHoldCool: cooling must be one of {COOLING_LAWS}, got {self.cooling!r}")
        if self.cooling != "linear" and (self.T_high <= 0 or self.T_end <= 0):
            raise ParameterError(
                f"HeatHoldCool: {self.cooling} cooling needs T_high > 0 and T_end > 0 "
                f"(got T_high={self.T_high}, T_end={self.T_end}); use cooling='linear' to reach T = 0"
            )

    @property
    def duration(self) -> float:
        return self.t_heat + self.t_hold + self.t_cool

    def _cool(self, u: np.ndarray) -> np.ndarray:
        th, te = self.T_high, self.T_end
        if self.cooling == "linear":
            return th + (te - th) * u
        if self.cooling == "exponential":
            return th * (te / th) ** u
        k = self.log_shape
        return th / (1.0 + (th / te - 1.0) * np.log1p(k * u) / math.log1p(k))

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        out = np.empty(t.shape)
        t1 = self.t_heat
        t2 = t1 + self.t_hold
        if t1 > 0:
            out[...] = self.T_start + (self.T_high - self.T_start) * np.clip(t / t1, 0.0, 1.0)
        else:
            out[...] = np.where(t < 0, self.T_start, self.T_high)
        cooling = t > t2
        if np.any(cooling):
            u = np.clip((t[cooling] - t2) / self.t_cool, 0.0, 1.0)
            out[cooling] = self._cool(u)
        return out if out.ndim else float(out)


@dataclass(frozen=True)
class Piecewise(Schedule):
    """Temperature through knots ``(times[k], temperatures[k])``.

    Parameters
    ----------
    times : sequence of float
        Strictly increasing knot times (s, or sweeps).
    temperatures : sequence of float
        T at each knot (>= 0).
    kind : {"linear", "step"}
        Linear interpolation between knots, or hold each value until the next knot.
        Constant (first / last value) outside the knots.
    """

    times: tuple[float, ...]
    temperatures: tuple[float, ...]
    kind: str = "linear"

    def __post_init__(self) -> None:
        times = tuple(float(x) for x in self.times)
        temps = tuple(_nonneg(x, "Piecewise: temperature") for x in self.temperatures)
        if len(times) == 0 or len(times) != len(temps):
            raise ParameterError(
                f"Piecewise: need as many times as temperatures (at least one), got {len(times)} and {len(temps)}"
            )
        if not all(math.isfinite(x) for x in times) or np.any(np.diff(times) <= 0):
            raise ParameterError(f"Piecewise: times must be finite and strictly increasing, got {times}")
        if self.kind not in ("linear", "step"):
            raise ParameterError(f"Piecewise: kind must be 'linear' or 'step', got {self.kind!r}")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "temperatures", temps)

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[float, float]], kind: str = "linear") -> Piecewise:
        """Build from a list of ``(time, T)`` pairs."""
        pairs = list(pairs)
        return cls(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), kind)

    @property
    def duration(self) -> float:
        return self.times[-1]

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        xs, ys = np.asarray(self.times), np.asarray(self.temperatures)
        if self.kind == "linear":
            out = np.interp(t, xs, ys)
        else:
            idx = np.clip(np.searchsorted(xs, t, side="right") - 1, 0, len(xs) - 1)
            out = ys[idx]
        out = np.asarray(out, dtype=float)
        return out if out.ndim else float(out)


@dataclass(frozen=True)
class FunctionSchedule(Schedule):
    """Wrap a user callable ``f(times) -> T`` (vectorised; negative values are an error)."""

    function: Callable

    def __call__(self, t):
        t_arr = np.asarray(t, dtype=float)
        out = np.asarray(self.function(t_arr), dtype=float)
        out = np.broadcast_to(out, t_arr.shape).astype(float)
        if not np.all(np.isfinite(out)) or np.any(out < 0):
            raise ParameterError("temperature schedule returned negative, NaN or Inf values; T(t) must be >= 0")
        return out if out.ndim else float(out)


def as_schedule(value) -> Schedule:
    """Coerce a float, a :class:`Schedule` or a callable ``f(times) -> T`` into a :class:`Schedule`."""
    if isinstance(value, Schedule):
        return value
    if value is None:
        return Constant(0.0)
    if callable(value):
        return FunctionSchedule(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return Constant(float(value))
    raise ParameterError(
        f"temperature must be a number, a harmonix.simulate.schedules.Schedule or a callable f(times) -> T; got {type(value).__name__}"
    )


def cooling_schedule(t_cool: float, T_high: float, T_end: float, cooling: str = "exponential") -> HeatHoldCool:
    """Pure cooling from ``T_high`` to ``T_end`` over ``t_cool`` (no heating, no hold)."""
    return HeatHoldCool(t_heat=0.0, t_hold=0.0, t_cool=t_cool, T_start=T_high, T_high=T_high, T_end=T_end, cooling=cooling)


__all__ = [
    "COOLING_LAWS",
    "Constant",
    "FunctionSchedule",
    "HeatHoldCool",
    "Piecewise",
    "Schedule",
    "as_schedule",
    "cooling_schedule",
]
