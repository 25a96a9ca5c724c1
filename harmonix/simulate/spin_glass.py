"""Simulated annealing of Sherrington-Kirkpatrick spin glasses: a benchmark for the annealing schedules.

The Sherrington-Kirkpatrick (SK) model: N Ising spins :math:`s_i = \\pm 1`
with all-to-all Gaussian couplings :math:`J_{ij} = J_{ji} \\sim \\mathcal N(0, 1/N)`
(:math:`J_{ii} = 0`) and energy

.. math::

    E(s) = -\\sum_{i<j} J_{ij} s_i s_j = -\\tfrac12 s^T J s .

Its ground-state energy per spin tends to the Parisi value
:math:`e_0(\\infty) = -0.7633` (Parisi 1980; Crisanti & Rizzo 2002:
-0.763166). At finite N the mean ground state lies higher, with the
leading correction :math:`e_0(N) \\approx e_0(\\infty) + A N^{-2/3}`,
:math:`A \\approx 0.7` (Boettcher 2005, extremal optimisation up to N = 1023;
Palassini 2008 finds the same exponent 2/3): for N = 256,
:math:`e_0 \\approx -0.746`. No annealing run can go below the ground state of
its instance, so the mean final energy over instances is bounded by
:func:`ground_state_bound`.

:func:`anneal_sk` runs Metropolis single-spin-flip dynamics (Kirkpatrick,
Gelatt & Vecchi 1983): one *sweep* = N flip attempts in sequential order, at
temperature ``schedule(k)`` for sweep k = 0, 1, ... (the schedule's time unit
is the sweep), followed by a zero-temperature quench (greedy single flips until
no flip lowers the energy), so every run ends in a local minimum. Local fields
:math:`h = J s` are updated in O(N) per accepted flip. Compiled with numba
(its own generator seeded per run: reproducible for a given seed); a plain
Python fallback without numba.

References
----------
Sherrington D., Kirkpatrick S. (1975). Solvable model of a spin-glass. Phys
Rev Lett 35:1792-1796.
Kirkpatrick S., Gelatt C. D., Vecchi M. P. (1983). Optimization by simulated
annealing. Science 220:671-680.
Parisi G. (1980). A sequence of approximated solutions to the S-K model for
spin glasses. J Phys A 13:L115.
Crisanti A., Rizzo T. (2002). Analysis of the infinite-replica symmetry
breaking solution of the Sherrington-Kirkpatrick model. Phys Rev E 65:046137.
Boettcher S. (2005). Extremal optimization for Sherrington-Kirkpatrick spin
glasses. Eur Phys J B 46:501-505.
Palassini M. (2008). Ground-state energy fluctuations in the
Sherrington-Kirkpatrick model. J Stat Mech P10005.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harmonix.errors import ParameterError
from harmonix.simulate._compiled import njit
from harmonix.simulate.schedules import Schedule, as_schedule

PARISI_E0 = -0.7633
"""Ground-state energy per spin of the SK model for N -> infinity (Parisi)."""

FINITE_SIZE_A = 0.7
"""Amplitude A of the finite-size correction :math:`A N^{-2/3}` (Boettcher 2005)."""


def ground_state_bound(n: int) -> float:
    """Mean ground-state energy per spin at size N: :math:`-0.7633 + 0.7 N^{-2/3}` (Boettcher 2005)."""
    n = int(n)
    if n < 2:
        raise ParameterError(f"n must be >= 2 spins, got {n}")
    return PARISI_E0 + FINITE_SIZE_A * n ** (-2.0 / 3.0)


def sk_couplings(n: int, seed=None) -> np.ndarray:
    """One SK instance: symmetric :math:`J_{ij} \\sim \\mathcal N(0, 1/N)`, zero diagonal, shape (n, n)."""
    n = int(n)
    if n < 2:
        raise ParameterError(f"n must be >= 2 spins, got {n}")
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.standard_normal((n, n)) / math.sqrt(n), 1)
    return upper + upper.T


def sk_energy(couplings: np.ndarray, spins: np.ndarray) -> float:
    """Energy per spin :math:`-s^T J s / (2N)`."""
    spins = np.asarray(spins, dtype=float)
    return float(-0.5 * spins @ couplings @ spins / spins.size)


@njit(cache=True)
def _metropolis(J, spins, temps, seed):  # pragma: no cover - compiled
    np.random.seed(seed)
    n = spins.shape[0]
    h = J @ spins
    for k in range(temps.shape[0]):
        T = temps[k]
        for i in range(n):
            de = 2.0 * spins[i] * h[i]
            if de <= 0.0 or (T > 0.0 and np.random.random() < math.exp(-de / T)):
                s_old = spins[i]
                spins[i] = -s_old
                for j in range(n):
                    h[j] -= 2.0 * s_old * J[j, i]
    # zero-temperature quench to a local minimum
    changed = True
    while changed:
        changed = False
        for i in range(n):
            if spins[i] * h[i] < 0.0:
                s_old = spins[i]
                spins[i] = -s_old
                for j in range(n):
                    h[j] -= 2.0 * s_old * J[j, i]
                changed = True
    return spins


@dataclass(frozen=True)
class AnnealResult:
    """Outcome of :func:`anneal_sk`.

    Attributes
    ----------
    energy : float
        Final energy per spin (after the quench).
    spins : ndarray, shape (N,)
        Final configuration (+-1).
    n_sweeps : int
    seed : int
    """

    energy: float
    spins: np.ndarray
    n_sweeps: int
    seed: int


def anneal_sk(couplings: np.ndarray, schedule, n_sweeps: int, *, seed: int = 0) -> AnnealResult:
    """Simulated annealing of one spin-glass instance with Metropolis single-spin flips.

    Parameters
    ----------
    couplings : ndarray, shape (N, N)
        Symmetric J with zero diagonal (e.g. :func:`sk_couplings`).
    schedule : Schedule | float | callable
        Temperature per sweep: sweep k runs at ``schedule(k)`` (k = 0..n_sweeps-1).
    n_sweeps : int
        Number of sweeps (>= 0; 0 = quench only).
    seed : int
        Seeds the random start and the Metropolis draws.

    Returns
    -------
    AnnealResult
    """
    J = np.ascontiguousarray(couplings, dtype=float)
    if J.ndim != 2 or J.shape[0] != J.shape[1] or J.shape[0] < 2:
        raise ParameterError(f"couplings must be a square (N, N) matrix with N >= 2, got shape {J.shape}")
    if not np.all(np.isfinite(J)) or not np.allclose(J, J.T) or np.any(np.diag(J) != 0):
        raise ParameterError("couplings must be finite and symmetric with a zero diagonal")
    n_sweeps = int(n_sweeps)
    if n_sweeps < 0:
        raise ParameterError(f"n_sweeps must be >= 0, got {n_sweeps}")
    schedule: Schedule = as_schedule(schedule)
    temps = schedule.evaluate(np.arange(n_sweeps, dtype=float))
    seed = int(seed)
    rng = np.random.default_rng(seed)
    spins = rng.choice(np.array([-1.0, 1.0]), size=J.shape[0])
    spins = _metropolis(J, spins, temps, seed % (2**32))
    spins.setflags(write=False)
    return AnnealResult(sk_energy(J, spins), spins, n_sweeps, seed)


__all__ = [
    "AnnealResult",
    "FINITE_SIZE_A",
    "PARISI_E0",
    "anneal_sk",
    "ground_state_bound",
    "sk_couplings",
    "sk_energy",
]
