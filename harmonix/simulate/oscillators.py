"""Nonlinear oscillator networks on the connectome: Kuramoto and Stuart-Landau, with annealing.

Two region-level models, with the Neural Annealing controls of the design
(``DESIGN.md``, "Simulation core"):

- **energy parameter** = noise temperature :math:`T(t)` from a schedule
  (:mod:`harmonix.simulate.schedules`): white noise :math:`\\sqrt{2T(t)}\\,dW`;
- **energy sources** = an external drive :math:`F_i(t)` (a waveform, e.g. from
  :mod:`harmonix.stimulus`, injected into chosen regions by ``drive_gain``);
- **energy sinks** = damping (:math:`a_i < 0` and the extra ``damping``
  :math:`\\gamma_i` of the Stuart-Landau model), and feedback that cancels
  the predictable part of the drive (:mod:`harmonix.simulate.sinks`, applied
  to the drive before it reaches the network);
- **plasticity** = a Hebbian rule (:class:`Hebbian`) that moves the couplings
  towards the phase coherence of each connected pair while T is above a
  threshold and freezes them as the system cools.

Kuramoto model (Kuramoto 1984; Strogatz 2000), phases :math:`\\theta_i` in rad,
time in s, frequencies in rad/s:

.. math::

    \\dot\\theta_i = \\omega_i + K \\sum_j W_{ij} \\sin\\bigl(\\theta_j(t - \\tau_{ij}) - \\theta_i\\bigr)
    + \\operatorname{Im}\\bigl(F_i(t)\\,e^{-i\\theta_i}\\bigr) + \\sqrt{2T(t)}\\,\\xi_i(t).

Without ``weights`` the network is all-to-all, :math:`W_{ij} = 1/N`, and the
coupling is computed in O(N) per step from the mean field
:math:`r e^{i\\psi} = N^{-1}\\sum_j e^{i\\theta_j}`:
:math:`K r \\sin(\\psi - \\theta_i)`. The drive term is the phase reduction of
an additive complex force on a unit-amplitude oscillator (a real waveform
F(t) gives :math:`-F(t)\\sin\\theta_i`, a rotating
:math:`A e^{i\\Omega t}` the classic forced Kuramoto model).

Stuart-Landau (Hopf normal form) network (Deco et al. 2017), complex
:math:`z_i`:

.. math::

    \\dot z_i = (a_i - \\gamma_i + i\\omega_i) z_i - |z_i|^2 z_i
    + G \\sum_j C_{ij}\\bigl(z_j(t - \\tau_{ij}) - z_i\\bigr) + F_i(t)
    + \\sqrt{2T(t)}\\,(\\xi_i^{re} + i\\,\\xi_i^{im}).

:math:`a > 0`: limit cycle of amplitude :math:`\\sqrt a`; :math:`a < 0`: damped
focus, noise-driven oscillations (the regime of Deco et al.).

Integration: Euler-Maruyama with step ``dt``; for the Stuart-Landau model
in integrating-factor (Lawson) form, the linear part exact:
:math:`z \\leftarrow e^{(a - \\gamma + i\\omega)dt}\\,(z + dt\\,N(z) + \\sqrt{2T dt}\\,\\eta)`
(N the nonlinear, coupling and drive terms), so fast rotations neither
inflate the amplitude nor shift the frequency of the limit cycle. Delays :math:`\\tau_{ij}` =
tract length / conduction speed are rounded to whole steps and read from a
history of the recent states (node-major, a few ``max_delay`` long); the
history before t = 0 is the initial state. The noise is the stream of
``numpy.random.default_rng(seed).standard_normal`` (for the default PCG64
generator, the same numbers drawn by a compiled copy of NumPy's algorithm,
:mod:`harmonix.simulate.pcg64`,
inside the time loop), so results are reproducible and do not depend on the
block size. Only every ``record_every``-th step is kept: memory is
O(N x (steps / record_every) + N x max_delay), independent of the number of
steps. The time loop is compiled with numba when available (NumPy/Python
fallback otherwise, correct but slow); the delayed coupling of most edges is
gathered many steps ahead at once (see the notes above the kernels).

Reported per recorded step: the Kuramoto order parameter
:math:`r(t) = |N^{-1}\\sum_j e^{i\\theta_j}|` (for Stuart-Landau the phases of
:math:`z_j`), the temperature, and the *energy*:

- Kuramoto: the coupling potential per oscillator
  :math:`E = -\\frac{K}{2N}\\sum_{ij} W_{ij}\\cos(\\theta_j - \\theta_i)`
  (instantaneous phases; equals :math:`-K r^2/2` all-to-all; the Lyapunov
  function of the noise-free, undelayed, symmetric network in the rotating frame
  when all :math:`\\omega_i` are equal);
- Stuart-Landau: the mean oscillator power :math:`E = N^{-1}\\sum_i |z_i|^2`.

References
----------
Kuramoto Y. (1984). Chemical Oscillations, Waves, and Turbulence. Springer.
Strogatz S. H. (2000). From Kuramoto to Crawford: exploring the onset of
synchronization in populations of coupled oscillators. Physica D 143:1-20.
Deco G., Kringelbach M. L., Jirsa V. K., Ritter P. (2017). The dynamics of
resting fluctuations in the brain: metastability and its dynamical cortical
core. Sci Rep 7:3095.
Seliger P., Young S. C., Tsimring L. S. (2002). Plasticity and learning in a
network of coupled phase oscillators. Phys Rev E 65:041906.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError
from harmonix.simulate.schedules import Constant, Schedule, as_schedule

from harmonix.simulate._compiled import HAVE_NUMBA, njit
from harmonix.simulate.pcg64 import fast_normals as _fast_normals
from harmonix.simulate.pcg64 import pcg64_normals as _pcg64_normals
from harmonix.simulate.pcg64 import pcg_store as _pcg_store
from harmonix.simulate.pcg64 import pcg_words as _pcg_words
from harmonix.simulate.pcg64 import standard_normal as _standard_normal


DEFAULT_SPEED = 5.0
"""Default conduction speed in m/s (= mm/ms) for delays from tract lengths."""

_BLOCK_ELEMENTS = 2_000_000
"""Random numbers drawn per block (bounds the transient memory of noise and drive)."""


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hebbian:
    """Hebbian plasticity of the couplings, gated by temperature.

    Rule (after Seliger, Young & Tsimring 2002), on every structural edge
    (:math:`W_{ij} \\ne 0` at the start):

    .. math::

        \\dot W_{ij} = \\eta\\,[T(t) > T_\\mathrm{th}]\\,
        \\bigl(W_\\mathrm{max} \\cos(\\theta_j - \\theta_i) - W_{ij}\\bigr),
        \\qquad W_{ij} \\in [0, W_\\mathrm{max}],

    i.e. while the system is hot (T above ``T_threshold``) each coupling
    relaxes at rate ``rate`` (1/s) towards ``w_max`` times the instantaneous
    phase coherence of the pair (anti-phase pairs are pruned towards 0, the
    lower clip); once T falls to the threshold or below, the couplings are
    frozen, so the landscape after an annealing cycle keeps what was learned
    while hot. Phases are the instantaneous ones (no delay). Edges absent
    at the start stay absent.

    Parameters
    ----------
    rate : float
        :math:`\\eta` in 1/s (> 0).
    w_max : float
        Upper bound of a coupling weight (> 0), same unit as the weights.
    T_threshold : float
        Plasticity is on only while :math:`T(t) >` this (>= 0).
    """

    rate: float
    w_max: float = 1.0
    T_threshold: float = 0.0

    def __post_init__(self) -> None:
        for name, positive in (("rate", True), ("w_max", True), ("T_threshold", False)):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError) as err:
                raise ParameterError(f"Hebbian: {name} must be a number, got {value!r}") from err
            if not math.isfinite(value) or value < 0 or (positive and value == 0):
                raise ParameterError(f"Hebbian: {name} must be a finite {'positive' if positive else 'non-negative'} number, got {value}")
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class OscillatorResult:
    """Recorded output of :func:`simulate_kuramoto` / :func:`simulate_stuart_landau`.

    Attributes
    ----------
    model : str
        ``"kuramoto"`` or ``"stuart-landau"``.
    times : ndarray, shape (n_records,)
        Time of each record in s (end of every ``record_every``-th step).
    states : ndarray, shape (n_records, n_nodes)
        Kuramoto: phases in rad wrapped to (-pi, pi]; Stuart-Landau: complex z.
    order : ndarray, shape (n_records,)
        Kuramoto order parameter r(t) in [0, 1].
    energy : ndarray, shape (n_records,)
        See the module docstring (coupling potential / mean power).
    temperature : ndarray, shape (n_records,)
        T at each record.
    weights_before, weights_after : ndarray, shape (n_nodes, n_nodes) | None
        Coupling matrix at the start and the end (None for the all-to-all
        mean-field Kuramoto model); they differ only with plasticity.
    params : dict
        The parameters of the run (dt, steps, coupling, seed, ...).
    """

    model: str
    times: np.ndarray
    states: np.ndarray
    order: np.ndarray
    energy: np.ndarray
    temperature: np.ndarray
    weights_before: np.ndarray | None
    weights_after: np.ndarray | None
    params: dict = field(default_factory=dict)

    @property
    def sfreq(self) -> float:
        """Sampling rate of the records in Hz."""
        return 1.0 / (self.params["dt"] * self.params["record_every"])

    @property
    def phases(self) -> np.ndarray:
        """Phases in rad, shape (n_records, n_nodes)."""
        return np.angle(self.states) if np.iscomplexobj(self.states) else self.states

    @property
    def coupling_change(self) -> float:
        """Relative Frobenius change :math:`\\|W_{after} - W_{before}\\| / \\|W_{before}\\|` (0 without plasticity)."""
        if self.weights_before is None:
            return 0.0
        norm = np.linalg.norm(self.weights_before)
        return float(np.linalg.norm(self.weights_after - self.weights_before) / norm) if norm > 0 else 0.0

    def __repr__(self) -> str:
        return (
            f"<OscillatorResult {self.model}: {self.states.shape[1]} nodes, {len(self.times)} records "
            f"at {self.sfreq:g} Hz, r_end={self.order[-1] if len(self.order) else float('nan'):.3f}>"
        )


def _readonly(array):
    if isinstance(array, np.ndarray):
        array.setflags(write=False)
    return array


def _finite_float(value, name: str, *, positive: bool = False, nonneg: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a number, got {value!r}") from err
    if not math.isfinite(value) or (positive and value <= 0) or (nonneg and value < 0):
        cond = " > 0" if positive else (" >= 0" if nonneg else "")
        raise ParameterError(f"{name} must be a finite number{cond}, got {value}")
    return value


def _per_node(value, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ParameterError(f"{name} must be a number or an array of shape ({n},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or Inf values")
    return arr


def _steps(duration, dt, record_every) -> tuple[float, int, int]:
    dt = _finite_float(dt, "dt (s)", positive=True)
    duration = _finite_float(duration, "duration (s)", positive=True)
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise ParameterError(f"duration {duration} s is shorter than one step dt = {dt} s")
    try:
        record_every = int(record_every)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"record_every must be a positive integer, got {record_every!r}") from err
    if record_every < 1:
        raise ParameterError(f"record_every must be a positive integer, got {record_every}")
    if record_every > n_steps:
        raise ParameterError(f"record_every = {record_every} exceeds the number of steps ({n_steps}); nothing would be recorded")
    return dt, n_steps, record_every


def _network(weights, delays, tract_lengths, speed, n: int, dt: float):
    """CSR edges (indptr, indices, weights, integer delays) from a dense matrix; diagonal dropped.

    Within a row the edges are sorted by delay (then by source node).
    """
    w = np.array(weights, dtype=float)
    if w.shape != (n, n):
        raise ParameterError(f"weights must have shape ({n}, {n}) to match the {n} nodes, got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ParameterError("weights contain NaN or Inf values")
    if np.any(w < 0):
        raise ParameterError("weights must be non-negative (structural coupling strengths)")
    np.fill_diagonal(w, 0.0)
    if delays is not None and tract_lengths is not None:
        raise ParameterError("give either delays (s) or tract_lengths (mm), not both")
    if tract_lengths is not None:
        speed = _finite_float(speed, "speed (m/s)", positive=True)
        lengths = np.asarray(tract_lengths, dtype=float)
        if lengths.shape != (n, n) or not np.all(np.isfinite(lengths)) or np.any(lengths < 0):
            raise ParameterError(f"tract_lengths must be a finite non-negative ({n}, {n}) matrix in mm")
        delays = lengths / (speed * 1000.0)  # mm / (mm/s)
    if delays is None:
        steps = np.zeros((n, n), dtype=np.int64)
    else:
        delays = np.asarray(delays, dtype=float)
        if delays.shape != (n, n) or not np.all(np.isfinite(delays)) or np.any(delays < 0):
            raise ParameterError(f"delays must be a finite non-negative ({n}, {n}) matrix in s")
        steps = np.rint(delays / dt).astype(np.int64)
    rows, cols = np.nonzero(w)
    edge_steps = steps[rows, cols]
    order = np.lexsort((cols, edge_steps, rows))  # by row, then delay (the kernels read the short ones first)
    rows, cols, edge_steps = rows[order], cols[order], edge_steps[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return w, indptr, cols.astype(np.int64), w[rows, cols].copy(), edge_steps.astype(np.int64)


class _Drive:
    """Drive blocks F(t) (complex, shape (n, N)) from None, a constant, a per-step array or a callable."""

    def __init__(self, drive, drive_gain, n: int, n_steps: int, dt: float) -> None:
        self.n, self.dt = n, dt
        self.gain = None if drive_gain is None else _per_node(drive_gain, n, "drive_gain")
        self.kind = "none"
        if drive is None:
            return
        if callable(drive):
            self.kind, self.function = "callable", drive
            return
        arr = np.asarray(drive)
        if not np.all(np.isfinite(arr)):
            raise ParameterError("drive contains NaN or Inf values")
        if arr.ndim == 0 or arr.shape == (n,):
            self.kind, self.const = "const", np.broadcast_to(arr.astype(complex), (n,))
        elif arr.ndim == 1 and arr.shape[0] == n_steps:
            self.kind, self.array = "array", arr[:, None]
        elif arr.shape == (n_steps, n):
            self.kind, self.array = "array", arr
        else:
            raise ParameterError(
                f"drive must be a number, shape ({n},) (constant), ({n_steps},) or ({n_steps}, {n}) (one value per step), "
                f"or a callable f(times_s) -> (n_times,) or (n_times, {n}); got shape {arr.shape}"
            )

    def block(self, start: int, count: int) -> np.ndarray | None:
        if self.kind == "none":
            return None
        if self.kind == "const":
            out = np.broadcast_to(self.const, (count, self.n)).astype(complex)
        elif self.kind == "array":
            out = np.broadcast_to(self.array[start : start + count], (count, self.n)).astype(complex)
        else:
            times = (start + np.arange(count)) * self.dt
            values = np.asarray(self.function(times))
            if values.shape not in ((count,), (count, self.n)):
                raise ParameterError(f"drive callable must return shape ({count},) or ({count}, {self.n}) for {count} times, got {values.shape}")
            if not np.all(np.isfinite(values)):
                raise ParameterError("drive callable returned NaN or Inf values")
            out = np.broadcast_to(values.reshape(count, -1), (count, self.n)).astype(complex)
        if self.gain is not None:
            out = out * self.gain
        return out


# ---------------------------------------------------------------------------
# compiled kernels
# ---------------------------------------------------------------------------
#
# The network kernels keep the delay history node-major and contiguous in
# time, the two real components of each state interleaved: h[j, 2c], h[j, 2c+1]
# (Stuart-Landau: Re z, Im z; Kuramoto: cos theta, sin theta) for successive
# steps c, column ``head`` holding the current state. The state of node j d
# steps ago is column ``head - d``: no modulo in the loop. When the columns run
# out, the last ``max_delay + 1`` move to the front.
#
# The delayed coupling input of a step is mostly gathered ahead of time. Steps
# go in blocks of ``big`` steps split into sub-blocks of ``small`` steps. An
# edge with delay d >= big - 1 reads, over a whole block, only states known at
# its start; so at the start of each block its inputs for all the block's
# steps are gathered at once, four edges at a time, as contiguous (SIMD)
# multiply-adds over 2 x big numbers. Edges with small - 1 <= d < big - 1 are
# gathered likewise per sub-block, and the few with d < small - 1 step by step.
# Edges are sorted by delay within each row; ``bounds[:, i]`` splits row i into
# these three classes (short, middle, long). Each per-node input is the same
# sequence of floating-point operations whichever way it is computed (in a
# class, groups of four edges added as ((w0 x0 + w1 x1) + (w2 x2 + w3 x3)),
# then the remaining edges; the long-class sum plus the middle-class sum, then
# the short edges one by one), so the results do not depend on where blocks,
# sub-blocks or noise blocks start. While plasticity is changing the weights
# (eta > 0 somewhere in a block) every edge is read step by step.
#
# Noise (``noise_mode``): 0 none; 1 drawn beforehand, ``noise[s, :]`` for step
# s of the call; 2 drawn in the kernel from the PCG64 state ``pcg``, one
# sub-block at a time into ``nbuf`` (the same numbers in the same order).


@njit(cache=True)
def _shift_history(h, head, max_delay):
    """Move the last ``max_delay + 1`` columns to the front; returns the new head."""
    n = h.shape[0]
    start = 2 * (head - max_delay)
    for i in range(n):
        row = h[i]
        for c in range(2 * (max_delay + 1)):
            row[c] = row[start + c]
    return max_delay


@njit(cache=True)
def _gather_ahead(h, head, nb, lo, hi, indices, w, delay, acc, inp, b0, add):
    """inp[b0 + b, :, i] (+)= sum over edges e in lo[i]..hi[i]-1 of w_e h[j_e, 2(head + b - d_e):+2], for b < nb.

    Edges are added four at a time, ((w0 x0 + w1 x1) + (w2 x2 + w3 x3)), then
    the rest one by one, exactly as :func:`_gather_now` does step by step.
    """
    n = acc.shape[0]
    m = np.uint64(2 * nb)
    flat = h.reshape(-1)
    row = np.uint64(h.shape[1])
    for i in range(n):
        a = acc[i]
        for b in range(m):
            a[b] = 0.0
        e = lo[i]
        end = hi[i]
        while e + 4 <= end:  # offsets are >= 0; unsigned, so no wraparound checks
            x0 = np.uint64(indices[e]) * row + np.uint64(2 * (head - delay[e]))
            x1 = np.uint64(indices[e + 1]) * row + np.uint64(2 * (head - delay[e + 1]))
            x2 = np.uint64(indices[e + 2]) * row + np.uint64(2 * (head - delay[e + 2]))
            x3 = np.uint64(indices[e + 3]) * row + np.uint64(2 * (head - delay[e + 3]))
            w0 = w[e]
            w1 = w[e + 1]
            w2 = w[e + 2]
            w3 = w[e + 3]
            for b in range(m):
                a[b] += (w0 * flat[x0 + b] + w1 * flat[x1 + b]) + (w2 * flat[x2 + b] + w3 * flat[x3 + b])
            e += 4
        while e < end:
            x0 = np.uint64(indices[e]) * row + np.uint64(2 * (head - delay[e]))
            w0 = w[e]
            for b in range(m):
                a[b] += w0 * flat[x0 + b]
            e += 1
        if add:
            for b in range(nb):
                inp[b0 + b, 0, i] += a[2 * b]
                inp[b0 + b, 1, i] += a[2 * b + 1]
        else:
            for b in range(nb):
                inp[b0 + b, 0, i] = a[2 * b]
                inp[b0 + b, 1, i] = a[2 * b + 1]


@njit(cache=True)
def _gather_now(h, head, lo, hi, indices, w, delay):
    """Sum of w_e h[j_e, 2(head - d_e):+2] over edges lo..hi-1, grouped as in :func:`_gather_ahead`."""
    s1 = 0.0
    s2 = 0.0
    e = lo
    while e + 4 <= hi:
        c0 = 2 * (head - delay[e])
        c1 = 2 * (head - delay[e + 1])
        c2 = 2 * (head - delay[e + 2])
        c3 = 2 * (head - delay[e + 3])
        j0 = indices[e]
        j1 = indices[e + 1]
        j2 = indices[e + 2]
        j3 = indices[e + 3]
        w0 = w[e]
        w1 = w[e + 1]
        w2 = w[e + 2]
        w3 = w[e + 3]
        s1 += (w0 * h[j0, c0] + w1 * h[j1, c1]) + (w2 * h[j2, c2] + w3 * h[j3, c3])
        s2 += (w0 * h[j0, c0 + 1] + w1 * h[j1, c1 + 1]) + (w2 * h[j2, c2 + 1] + w3 * h[j3, c3 + 1])
        e += 4
    while e < hi:
        col = 2 * (head - delay[e])
        s1 += w[e] * h[indices[e], col]
        s2 += w[e] * h[indices[e], col + 1]
        e += 1
    return s1, s2


@njit(cache=True)
def _delayed_input(h, head, b, learning, bounds, short_rows, indices, w, delay, inp):
    """Complete inp[b, :, i], the delayed input of node i at this step (step b of the block).

    inp[b] holds the long-class plus middle-class sums gathered ahead, unless
    learning (then they are summed now); the short edges are added now.
    """
    if learning:
        for i in range(inp.shape[2]):
            s1, s2 = _gather_now(h, head, bounds[2, i], bounds[3, i], indices, w, delay)
            t1, t2 = _gather_now(h, head, bounds[1, i], bounds[2, i], indices, w, delay)
            inp[b, 0, i] = s1 + t1
            inp[b, 1, i] = s2 + t2
    for i in short_rows:  # the rows with edges shorter than a sub-block
        s1 = inp[b, 0, i]
        s2 = inp[b, 1, i]
        for e in range(bounds[0, i], bounds[1, i]):
            col = 2 * (head - delay[e])
            s1 += w[e] * h[indices[e], col]
            s2 += w[e] * h[indices[e], col + 1]
        inp[b, 0, i] = s1
        inp[b, 1, i] = s2


@njit(cache=True)
def _noise_at(noise_flat, nbuf, noise_mode, s, b, width, k):
    """Normal number k of step s (call-relative; b: in the sub-block)."""
    return noise_flat[s * width + k] if noise_mode == 1 else nbuf[b * width + k]


@njit(cache=True)
def _learning(plastic, eta_dt, s0, nb):
    if plastic:
        for b in range(nb):
            if eta_dt[s0 + b] > 0.0:
                return True
    return False


@njit(cache=True)
def _row_sums(bounds, w, wsum):
    """Sum of each row's weights (long, middle, then short edges)."""
    for i in range(wsum.shape[0]):
        ws = 0.0
        for e in range(bounds[2, i], bounds[3, i]):
            ws += w[e]
        for e in range(bounds[1, i], bounds[2, i]):
            ws += w[e]
        for e in range(bounds[0, i], bounds[1, i]):
            ws += w[e]
        wsum[i] = ws


@njit(cache=True)
def _kuramoto_kernel(theta, h, head, max_delay, big, small, g0, count, dt, omega, coupling, bounds, short_rows,
                     indices, w, delay, drive, has_drive, noise, sig, noise_mode, pcg, nbuf, eta_dt, w_max, plastic,
                     record_every, rec_states, rec_order, rec_energy, acc, inp):
    """Euler-Maruyama steps of the network Kuramoto model.

    K sum_j W_ij sin(theta_j(t - d) - theta_i) = K (cos theta_i S_i - sin theta_i C_i), with C, S the
    delayed sums over the cos / sin history: one cos and one sin per node and step, none per edge.
    """
    n = theta.shape[0]
    length = h.shape[1] // 2
    noise_flat = noise.reshape(-1)
    s0 = 0
    while s0 < count:
        nb1 = min(big, count - s0)
        if head + nb1 >= length:
            head = _shift_history(h, head, max_delay)
        learning = _learning(plastic, eta_dt, s0, nb1)
        if not learning:
            _gather_ahead(h, head, nb1, bounds[2], bounds[3], indices, w, delay, acc, inp, 0, False)
        b1 = 0
        while b1 < nb1:
            nb2 = min(small, nb1 - b1)
            if not learning:
                _gather_ahead(h, head, nb2, bounds[1], bounds[2], indices, w, delay, acc, inp, b1, True)
            if noise_mode == 2:
                _pcg64_normals(pcg, nbuf[: nb2 * n])
            for b2 in range(nb2):
                s = s0 + b1 + b2
                _delayed_input(h, head, b1 + b2, learning, bounds, short_rows, indices, w, delay, inp)
                sc = inp[b1 + b2, 0]
                ss = inp[b1 + b2, 1]
                cur = 2 * head
                src = noise_flat if noise_mode == 1 else nbuf
                off = s * n if noise_mode == 1 else b2 * n
                for i in range(n):
                    ci = h[i, cur]
                    si = h[i, cur + 1]
                    rate = omega[i] + coupling * (ci * ss[i] - si * sc[i])
                    if has_drive:
                        f = drive[s, i]
                        rate += f.imag * ci - f.real * si
                    new = theta[i] + dt * rate
                    if noise_mode != 0:
                        new += sig[s] * src[off + i]
                    theta[i] = new  # h still holds the old state for the other nodes
                if learning and eta_dt[s] > 0.0:
                    for i in range(n):
                        ci = h[i, cur]
                        si = h[i, cur + 1]
                        for e in range(bounds[0, i], bounds[3, i]):
                            j = indices[e]
                            v = w[e] + eta_dt[s] * (w_max * (h[j, cur] * ci + h[j, cur + 1] * si) - w[e])
                            w[e] = min(max(v, 0.0), w_max)
                head += 1
                cur = 2 * head
                for i in range(n):
                    h[i, cur] = math.cos(theta[i])
                    h[i, cur + 1] = math.sin(theta[i])
                g = g0 + s + 1
                if g % record_every == 0:
                    k = g // record_every - 1
                    sr = 0.0
                    si = 0.0
                    en = 0.0
                    for i in range(n):
                        ci = h[i, cur]
                        sn = h[i, cur + 1]
                        sr += ci
                        si += sn
                        rec_states[k, i] = math.atan2(sn, ci)
                        for e in range(bounds[0, i], bounds[3, i]):
                            j = indices[e]
                            en += w[e] * (h[j, cur] * ci + h[j, cur + 1] * sn)
                    rec_order[k] = math.sqrt(sr * sr + si * si) / n
                    rec_energy[k] = -0.5 * coupling * en / n
            b1 += nb2
        s0 += nb1
    return head


@njit(cache=True)
def _stuart_landau_kernel(z, h, head, max_delay, big, small, g0, count, dt, lin, coupling, bounds, short_rows,
                          indices, w, delay, drive, has_drive, noise, sig, noise_mode, pcg, nbuf, eta_dt, w_max,
                          plastic, record_every, rec_states, rec_order, rec_energy, acc, inp):
    """Lawson-Euler step z <- e^{(a - gamma + i omega) dt} (z + dt N(z) + sig noise); noise (re, im) per node."""
    n = z.shape[0]
    width = 2 * n
    length = h.shape[1] // 2
    noise_flat = noise.reshape(-1)
    zr = np.empty(n)
    zi = np.empty(n)
    pr = np.empty(n)
    pi = np.empty(n)
    amp = np.empty(n)
    nz_re = np.empty(n)
    nz_im = np.empty(n)
    lr = np.empty(n)
    li = np.empty(n)
    wsum = np.empty(n)
    for i in range(n):
        zr[i] = z[i].real
        zi[i] = z[i].imag
        lr[i] = lin[i].real
        li[i] = lin[i].imag
    _row_sums(bounds, w, wsum)
    s0 = 0
    while s0 < count:
        nb1 = min(big, count - s0)
        if head + nb1 >= length:
            head = _shift_history(h, head, max_delay)
        learning = _learning(plastic, eta_dt, s0, nb1)
        if not learning:
            _gather_ahead(h, head, nb1, bounds[2], bounds[3], indices, w, delay, acc, inp, 0, False)
        b1 = 0
        while b1 < nb1:
            nb2 = min(small, nb1 - b1)
            if not learning:
                _gather_ahead(h, head, nb2, bounds[1], bounds[2], indices, w, delay, acc, inp, b1, True)
            if noise_mode == 2:
                _pcg64_normals(pcg, nbuf[: nb2 * width])
            for b2 in range(nb2):
                s = s0 + b1 + b2
                _delayed_input(h, head, b1 + b2, learning, bounds, short_rows, indices, w, delay, inp)
                ur = inp[b1 + b2, 0]
                ui = inp[b1 + b2, 1]
                sg = sig[s]
                plastic_step = learning and eta_dt[s] > 0.0
                if plastic_step:  # the rule uses z(t)
                    for i in range(n):
                        pr[i] = zr[i]
                        pi[i] = zi[i]
                if has_drive:
                    for i in range(n):
                        xr = zr[i]
                        xi = zi[i]
                        p = xr * xr + xi * xi
                        vr = xr + dt * (coupling * (ur[i] - wsum[i] * xr) - p * xr + drive[s, i].real)
                        vi = xi + dt * (coupling * (ui[i] - wsum[i] * xi) - p * xi + drive[s, i].imag)
                        if noise_mode != 0:
                            vr += sg * _noise_at(noise_flat, nbuf, noise_mode, s, b2, width, 2 * i)
                            vi += sg * _noise_at(noise_flat, nbuf, noise_mode, s, b2, width, 2 * i + 1)
                        zr[i] = lr[i] * vr - li[i] * vi
                        zi[i] = lr[i] * vi + li[i] * vr
                elif noise_mode != 0:
                    src = noise_flat if noise_mode == 1 else nbuf
                    off = s * width if noise_mode == 1 else b2 * width
                    for i in range(n):  # de-interleave (re, im), so that the update below vectorises
                        nz_re[i] = src[off + 2 * i]
                        nz_im[i] = src[off + 2 * i + 1]
                    for i in range(n):
                        xr = zr[i]
                        xi = zi[i]
                        p = xr * xr + xi * xi
                        vr = xr + dt * (coupling * (ur[i] - wsum[i] * xr) - p * xr) + sg * nz_re[i]
                        vi = xi + dt * (coupling * (ui[i] - wsum[i] * xi) - p * xi) + sg * nz_im[i]
                        zr[i] = lr[i] * vr - li[i] * vi
                        zi[i] = lr[i] * vi + li[i] * vr
                else:
                    for i in range(n):
                        xr = zr[i]
                        xi = zi[i]
                        p = xr * xr + xi * xi
                        vr = xr + dt * (coupling * (ur[i] - wsum[i] * xr) - p * xr)
                        vi = xi + dt * (coupling * (ui[i] - wsum[i] * xi) - p * xi)
                        zr[i] = lr[i] * vr - li[i] * vi
                        zi[i] = lr[i] * vi + li[i] * vr
                if plastic_step:
                    for i in range(n):
                        amp[i] = math.hypot(pr[i], pi[i])
                    for i in range(n):
                        ai = amp[i]
                        for e in range(bounds[0, i], bounds[3, i]):
                            j = indices[e]
                            aj = amp[j]
                            c = 0.0
                            if ai > 0.0 and aj > 0.0:
                                c = (pr[j] * pr[i] + pi[j] * pi[i]) / (ai * aj)
                            v = w[e] + eta_dt[s] * (w_max * c - w[e])
                            w[e] = min(max(v, 0.0), w_max)
                    _row_sums(bounds, w, wsum)
                head += 1
                nxt = 2 * head
                for i in range(n):
                    h[i, nxt] = zr[i]
                    h[i, nxt + 1] = zi[i]
                g = g0 + s + 1
                if g % record_every == 0:
                    k = g // record_every - 1
                    sum_re = 0.0
                    sum_im = 0.0
                    power = 0.0
                    for i in range(n):
                        p = zr[i] * zr[i] + zi[i] * zi[i]
                        power += p
                        if p > 0.0:
                            a = math.sqrt(p)
                            sum_re += zr[i] / a
                            sum_im += zi[i] / a
                        rec_states[k, i] = complex(zr[i], zi[i])
                    rec_order[k] = math.sqrt(sum_re * sum_re + sum_im * sum_im) / n
                    rec_energy[k] = power / n
            b1 += nb2
        s0 += nb1
    for i in range(n):
        z[i] = complex(zr[i], zi[i])
    return head


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------

_BLOCK_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)


def _block_sizes(delay, n: int) -> tuple[int, int]:
    """(big, small) block lengths minimising a cost model of the gathers (ns per step, measured on x86-64).

    An edge read step by step costs ~5 ns a step; gathered ahead over L steps
    ~0.3 + 3.2 / L ns a step; each gather pass ~2 n / L ns a step.
    """
    best = (math.inf, 1, 1)
    sizes = [size for size in _BLOCK_SIZES if size <= int(delay.max(initial=0)) + 1]  # longer: no edge gains
    for small in sizes:
        n_short = np.count_nonzero(delay < small - 1)
        for big in sizes:
            if big < small or big % small:
                continue
            n_long = np.count_nonzero(delay >= big - 1)
            n_mid = delay.size - n_short - n_long
            cost = (5.0 * n_short + (0.3 + 3.2 / small) * n_mid + (0.3 + 3.2 / big) * n_long
                    + 2.0 * n * (1.0 / small + 1.0 / big))
            if cost < best[0]:
                best = (cost, big, small)
    return best[1], best[2]


def _run(model, state, n_steps, dt, record_every, schedule: Schedule, rng, drive: _Drive, network, coupling,
         node_param, plasticity: Hebbian | None, mean_field: bool, block_elements: int):
    n = state.shape[0]
    n_rec = n_steps // record_every
    is_sl = model == "stuart-landau"
    rec_states = np.empty((n_rec, n), dtype=complex if is_sl else float)
    rec_order = np.empty(n_rec)
    rec_energy = np.empty(n_rec)
    has_noise = not (isinstance(schedule, Constant) and schedule.T == 0.0)
    width = 2 * n if is_sl else n  # normal numbers per step (Stuart-Landau: re, im per node)
    block = max(1, int(block_elements) // width)
    noise_mode = 0
    if has_noise:
        noise_mode = 2 if (not mean_field and _fast_normals(rng)) else 1
    dummy_c = np.zeros((1, n), dtype=complex)
    dummy_r = np.zeros((1, width))
    w_max = 0.0 if plasticity is None else plasticity.w_max

    if not mean_field:
        indptr, indices, w, delay = network  # edges sorted by delay within each row
        max_delay = int(delay.max()) if delay.size else 0
        big, small = _block_sizes(delay, n)
        rows = np.repeat(np.arange(n), np.diff(indptr))
        bounds = np.empty((4, n), dtype=np.int64)  # row i: [short | middle | long] edges
        bounds[0] = indptr[:-1]
        bounds[1] = bounds[0] + np.bincount(rows[delay < small - 1], minlength=n)
        bounds[2] = bounds[0] + np.bincount(rows[delay < big - 1], minlength=n)
        bounds[3] = indptr[1:]
        short_rows = np.flatnonzero(bounds[1] > bounds[0])
        length = 4 * (max_delay + 1) + 4 * big + 64  # shifted back every >= 3 (max_delay + 1) steps
        h = np.empty((n, length, 2))
        first = np.stack((state.real, state.imag) if is_sl else (np.cos(state), np.sin(state)), axis=1)
        h[:, : max_delay + 1] = first[:, None, :]  # constant history before t = 0
        h = h.reshape(n, 2 * length)
        head = max_delay
        acc = np.empty((n, 2 * big))
        inp = np.empty((big, 2, n))  # delayed input of each step of a block
        nbuf = np.empty(small * width if noise_mode == 2 else 0)
        if noise_mode == 2:
            bitgen = rng.bit_generator
            full_state = bitgen.state
            pcg = _pcg_words(full_state)
        else:
            pcg = np.zeros(8, dtype=np.uint64)
        kernel = _stuart_landau_kernel if is_sl else _kuramoto_kernel

    try:
        for start in range(0, n_steps, block):
            count = min(block, n_steps - start)
            t_start = (start + np.arange(count)) * dt
            temps = schedule.evaluate(t_start)
            sig = np.sqrt(2.0 * temps * dt)
            noise = _standard_normal(rng, (count, width)) if noise_mode == 1 else dummy_r
            f = drive.block(start, count)
            has_drive = f is not None
            f = f if has_drive else dummy_c
            if plasticity is not None:
                eta_dt = np.where(temps > plasticity.T_threshold, plasticity.rate * dt, 0.0)
            else:
                eta_dt = np.zeros(1)
            if mean_field:
                _mean_field_block(state, start, count, dt, node_param, coupling, f, has_drive, noise, sig,
                                  noise_mode != 0, record_every, rec_states, rec_order, rec_energy)
            else:
                head = kernel(state, h, head, max_delay, big, small, start, count, dt, node_param, coupling,
                              bounds, short_rows, indices, w, delay, f, has_drive, noise, sig, noise_mode, pcg, nbuf,
                              eta_dt, w_max, plasticity is not None, record_every, rec_states, rec_order, rec_energy,
                              acc, inp)
    finally:
        if not mean_field and noise_mode == 2:  # the caller's generator advances as with Generator.standard_normal
            _pcg_store(bitgen, full_state, pcg)
    rec_times = (np.arange(1, n_rec + 1) * record_every) * dt
    rec_temps = schedule.evaluate((np.arange(1, n_rec + 1) * record_every - 1) * dt)
    return rec_times, rec_states, rec_order, rec_energy, rec_temps


@njit(cache=True)
def _mean_field_block(theta, g0, count, dt, omega, coupling, drive, has_drive, noise, sig, has_noise,
                      record_every, rec_states, rec_order, rec_energy):  # pragma: no cover - compiled
    """All-to-all Kuramoto in O(N) per step: K r sin(psi - theta_i) = K Im(Z e^{-i theta_i})."""
    n = theta.shape[0]
    c = np.empty(n)
    si = np.empty(n)
    for s in range(count):
        zr = 0.0
        zi = 0.0
        for i in range(n):
            c[i] = math.cos(theta[i])
            si[i] = math.sin(theta[i])
            zr += c[i]
            zi += si[i]
        zr /= n
        zi /= n
        for i in range(n):
            rate = omega[i] + coupling * (zi * c[i] - zr * si[i])
            if has_drive:
                rate += drive[s, i].imag * c[i] - drive[s, i].real * si[i]
            theta[i] += dt * rate
            if has_noise:
                theta[i] += sig[s] * noise[s, i]
        g = g0 + s + 1
        if g % record_every == 0:
            k = g // record_every - 1
            zr = 0.0
            zi = 0.0
            for i in range(n):
                cc = math.cos(theta[i])
                ss = math.sin(theta[i])
                zr += cc
                zi += ss
                rec_states[k, i] = math.atan2(ss, cc)
            r2 = (zr * zr + zi * zi) / (n * n)
            rec_order[k] = math.sqrt(r2)
            rec_energy[k] = -0.5 * coupling * r2


def _initial(initial, n, rng, complex_state: bool):
    if initial is None:
        phases = rng.uniform(-np.pi, np.pi, n)
        return np.exp(1j * phases) if complex_state else phases
    arr = np.array(initial, dtype=complex if complex_state else float)
    if np.iscomplexobj(initial) and not complex_state:
        raise ParameterError("initial phases for the Kuramoto model must be real (rad)")
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ParameterError(f"initial state must be a finite array of shape ({n},), got shape {arr.shape}")
    return arr


def _frozen(arr):
    return None if arr is None else _readonly(np.array(arr))


def simulate_kuramoto(
    omega,
    *,
    duration: float,
    dt: float,
    coupling: float = 1.0,
    weights=None,
    delays=None,
    tract_lengths=None,
    speed: float = DEFAULT_SPEED,
    temperature=0.0,
    drive=None,
    drive_gain=None,
    plasticity: Hebbian | None = None,
    record_every: int = 1,
    seed=None,
    initial=None,
    block_elements: int = _BLOCK_ELEMENTS,
) -> OscillatorResult:
    """Simulate a (network) Kuramoto model with noise temperature, drive, delays and plasticity.

    .. math::

        \\dot\\theta_i = \\omega_i + K \\sum_j W_{ij} \\sin(\\theta_j(t-\\tau_{ij}) - \\theta_i)
        + \\operatorname{Im}(F_i e^{-i\\theta_i}) + \\sqrt{2T(t)}\\,\\xi_i

    Euler-Maruyama; see the module docstring.

    Parameters
    ----------
    omega : array_like, shape (N,)
        Natural angular frequencies in rad/s.
    duration, dt : float
        Simulated time and step in s; ``round(duration / dt)`` steps.
    coupling : float
        K in rad/s. All-to-all (no ``weights``): locking range of a pair is
        :math:`|\\omega_1 - \\omega_2| < K` for N = 2, critical coupling
        :math:`K_c = 2g` for Lorentzian frequencies of half-width g.
    weights : ndarray, shape (N, N) | None
        :math:`W_{ij}` (non-negative; row i = inputs to i; diagonal ignored).
        None: all-to-all :math:`W_{ij} = 1/N` in O(N) mean-field form
        (no delays or plasticity then; pass ``np.full((N, N), 1/N)`` for those).
    delays : ndarray, shape (N, N) | None
        Conduction delays in s (rounded to steps); or
    tract_lengths : ndarray, shape (N, N) | None
        Tract lengths in mm, delays = length / ``speed``.
    speed : float
        Conduction speed in m/s.
    temperature : float | Schedule | callable
        T(t) (rad^2/s): phase diffusion :math:`D = T` per oscillator.
    drive : None | complex or real array | callable
        F(t): a number or shape (N,) (constant), shape (steps,) or (steps, N),
        or ``f(times_s) -> (n,) or (n, N)`` evaluated block by block.
    drive_gain : array_like, shape (N,) | None
        Multiplies the drive per node (e.g. 1 on the driven regions, 0 elsewhere).
    plasticity : Hebbian | None
        Coupling plasticity (needs ``weights``).
    record_every : int
        Keep one state every this many steps.
    seed : int | numpy.random.Generator | None
        Seeds the initial phases (when ``initial`` is None) and the noise.
    initial : array_like, shape (N,) | None
        Initial phases in rad (default: uniform random from ``seed``).

    Returns
    -------
    OscillatorResult

    Raises
    ------
    ParameterError
        Bad shapes, non-finite values, non-positive dt or duration, ...
    """
    omega = np.asarray(omega, dtype=float)
    if omega.ndim != 1 or omega.size < 1 or not np.all(np.isfinite(omega)):
        raise ParameterError(f"omega must be a finite 1-D array of natural frequencies (rad/s), got shape {omega.shape}")
    n = omega.size
    dt, n_steps, record_every = _steps(duration, dt, record_every)
    coupling = _finite_float(coupling, "coupling K (rad/s)")
    schedule = as_schedule(temperature)
    rng = np.random.default_rng(seed)
    theta = _initial(initial, n, rng, complex_state=False)
    mean_field = weights is None
    if mean_field and (delays is not None or tract_lengths is not None or plasticity is not None):
        raise ParameterError(
            "delays and plasticity need an explicit weights matrix; for all-to-all pass weights=np.full((N, N), 1 / N)"
        )
    network, w_dense = None, None
    if not mean_field:
        w_dense, indptr, indices, w, delay = _network(weights, delays, tract_lengths, speed, n, dt)
        network = (indptr, indices, w, delay)
    drive_obj = _Drive(drive, drive_gain, n, n_steps, dt)
    times, states, order, energy, temps = _run("kuramoto", theta, n_steps, dt, record_every, schedule, rng, drive_obj,
                                               network, coupling, omega, plasticity, mean_field, block_elements)
    after = None
    if network is not None:
        after = np.zeros_like(w_dense)
        rows = np.repeat(np.arange(n), np.diff(network[0]))
        after[rows, network[1]] = network[2]
    params = dict(dt=dt, n_steps=n_steps, record_every=record_every, coupling=coupling, speed=speed,
                  temperature=schedule, plasticity=plasticity, seed=seed, n_nodes=n,
                  max_delay_steps=0 if network is None else int(network[3].max(initial=0)))
    return OscillatorResult("kuramoto", _readonly(times), _readonly(states), _readonly(order), _readonly(energy),
                            _readonly(temps), _frozen(w_dense), _frozen(after), params)


def simulate_stuart_landau(
    omega,
    *,
    duration: float,
    dt: float,
    a=-0.5,
    damping=0.0,
    coupling: float = 1.0,
    weights=None,
    delays=None,
    tract_lengths=None,
    speed: float = DEFAULT_SPEED,
    temperature=0.0,
    drive=None,
    drive_gain=None,
    plasticity: Hebbian | None = None,
    record_every: int = 1,
    seed=None,
    initial=None,
    block_elements: int = _BLOCK_ELEMENTS,
) -> OscillatorResult:
    """Simulate a Stuart-Landau (Hopf normal form) network with delays, noise, drive and plasticity.

    .. math::

        \\dot z_i = (a_i - \\gamma_i + i\\omega_i) z_i - |z_i|^2 z_i
        + G \\sum_j C_{ij}(z_j(t-\\tau_{ij}) - z_i) + F_i(t) + \\sqrt{2T(t)}(\\xi^{re}_i + i\\xi^{im}_i)

    (Deco et al. 2017). Integrating-factor (Lawson) Euler-Maruyama, the linear
    part exact; see the module docstring.

    Parameters
    ----------
    omega : array_like, shape (N,)
        Angular frequencies in rad/s (e.g. ``2 * np.pi * 10`` for alpha).
    duration, dt : float
        Simulated time and step in s.
    a : float | array_like
        Bifurcation parameter in 1/s (> 0 limit cycle of amplitude sqrt(a), < 0 damped).
    damping : float | array_like
        Extra damping :math:`\\gamma_i \\ge 0` in 1/s (the energy sink).
    coupling : float
        Global coupling G in 1/s.
    weights : ndarray, shape (N, N) | None
        :math:`C_{ij}` (non-negative, diagonal ignored). None: all-to-all 1/N.
        :func:`default_network` gives the 76-region connectome.
    delays, tract_lengths, speed, temperature, drive, drive_gain, plasticity, record_every, seed
        As in :func:`simulate_kuramoto` (drive adds to dz/dt; a real waveform drives Re z).
    initial : array_like, shape (N,) complex | None
        Initial z (default unit phasors with random phases from ``seed``).

    Returns
    -------
    OscillatorResult
        ``states`` complex z; ``energy`` mean |z|^2.
    """
    omega = np.asarray(omega, dtype=float)
    if omega.ndim != 1 or omega.size < 1 or not np.all(np.isfinite(omega)):
        raise ParameterError(f"omega must be a finite 1-D array of angular frequencies (rad/s), got shape {omega.shape}")
    n = omega.size
    dt, n_steps, record_every = _steps(duration, dt, record_every)
    a = _per_node(a, n, "a (1/s)")
    damping = _per_node(damping, n, "damping (1/s)")
    if np.any(damping < 0):
        raise ParameterError("damping must be >= 0 (it is an energy sink); lower `a` instead to add gain")
    coupling = _finite_float(coupling, "coupling G (1/s)")
    schedule = as_schedule(temperature)
    rng = np.random.default_rng(seed)
    z = _initial(initial, n, rng, complex_state=True)
    if weights is None:
        weights = np.full((n, n), 1.0 / n)
    w_dense, indptr, indices, w, delay = _network(weights, delays, tract_lengths, speed, n, dt)
    lin = np.exp((a - damping + 1j * omega) * dt)
    drive_obj = _Drive(drive, drive_gain, n, n_steps, dt)
    times, states, order, energy, temps = _run("stuart-landau", z, n_steps, dt, record_every, schedule, rng, drive_obj,
                                               (indptr, indices, w, delay), coupling, lin, plasticity, False,
                                               block_elements)
    after = np.zeros_like(w_dense)
    after[np.repeat(np.arange(n), np.diff(indptr)), indices] = w
    params = dict(dt=dt, n_steps=n_steps, record_every=record_every, coupling=coupling, a=a, damping=damping,
                  speed=speed, temperature=schedule, plasticity=plasticity, seed=seed, n_nodes=n,
                  max_delay_steps=int(delay.max(initial=0)))
    return OscillatorResult("stuart-landau", _readonly(times), _readonly(states), _readonly(order), _readonly(energy),
                            _readonly(temps), _frozen(w_dense), _frozen(after), params)


def default_network(*, normalize: str = "max") -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The 76-region default connectome as an oscillator network.

    Weights of :func:`harmonix.harmonics.connectome.load_default_connectome`,
    symmetrised by the element-wise maximum, diagonal zeroed, and scaled so
    that the largest weight is 1 (``normalize="max"``) or the mean row sum is 1
    (``"row-mean"``); tract lengths in mm.

    Returns
    -------
    weights : ndarray, shape (76, 76)
    tract_lengths : ndarray, shape (76, 76)
        mm (pass as ``tract_lengths=`` with a ``speed`` in m/s).
    labels : tuple of str
    """
    from harmonix.harmonics.connectome import load_default_connectome

    con = load_default_connectome()
    w = np.maximum(con.weights, con.weights.T).astype(float)
    np.fill_diagonal(w, 0.0)
    if normalize == "max":
        w /= w.max()
    elif normalize == "row-mean":
        w /= w.sum(axis=1).mean()
    else:
        raise ParameterError(f"normalize must be 'max' or 'row-mean', got {normalize!r}")
    lengths = np.maximum(con.tract_lengths, con.tract_lengths.T).astype(float)
    return w, lengths, con.region_labels


def lorentzian_quantiles(n: int, half_width: float, centre: float = 0.0) -> np.ndarray:
    """Deterministic Lorentzian sample: :math:`\\omega_i = \\omega_0 + g\\tan(\\pi(i - 1/2)/N - \\pi/2)`, i = 1..N.

    The quantiles of a Cauchy distribution of half-width g (rad/s); a sample
    with the smallest finite-size noise (Strogatz 2000, Sec. 4).
    """
    n = int(n)
    if n < 1:
        raise ParameterError(f"n must be a positive integer, got {n}")
    g = _finite_float(half_width, "half_width (rad/s)", positive=True)
    i = np.arange(1, n + 1)
    return centre + g * np.tan(np.pi * (i - 0.5) / n - np.pi / 2)


__all__ = [
    "DEFAULT_SPEED",
    "HAVE_NUMBA",
    "Hebbian",
    "OscillatorResult",
    "default_network",
    "lorentzian_quantiles",
    "simulate_kuramoto",
    "simulate_stuart_landau",
]
