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
gathered many steps ahead at once (see :mod:`harmonix.simulate._kernels`).

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
from harmonix.simulate._compiled import HAVE_NUMBA
from harmonix.simulate._kernels import run_blocks
from harmonix.simulate.schedules import as_schedule


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
    times, states, order, energy, temps = run_blocks("kuramoto", theta, n_steps, dt, record_every, schedule, rng, drive_obj,
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
    times, states, order, energy, temps = run_blocks("stuart-landau", z, n_steps, dt, record_every, schedule, rng, drive_obj,
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