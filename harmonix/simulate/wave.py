r"""Neural field theory wave model in harmonic space.

The cortical field :math:`\phi(\mathbf{x}, t)` obeys the damped wave equation
of neural field theory (Robinson et al. 1997; Pang et al. 2023)

.. math::

    \left[\frac{1}{\gamma_s^2}\frac{\partial^2}{\partial t^2}
    + \frac{2}{\gamma_s}\frac{\partial}{\partial t}
    + 1 - r_s^2 \nabla^2\right] \phi(\mathbf{x}, t) = Q(\mathbf{x}, t),

with :math:`\gamma_s` the damping rate (s⁻¹), :math:`r_s` the spatial length
scale of axonal projections (mm) and :math:`Q` the drive. Expanding on the
eigenmodes of the Laplace–Beltrami operator, :math:`-\nabla^2\psi_k =
\lambda_k\psi_k` (:math:`\lambda_k` in mm⁻²), decouples it into one damped
oscillator per mode,

.. math::

    \frac{1}{\gamma_s^2}\ddot\phi_k + \frac{2}{\gamma_s}\dot\phi_k
    + (1 + r_s^2\lambda_k)\,\phi_k = Q_k(t),
    \qquad Q_k = \langle \psi_k, Q \rangle .

Multiplying by :math:`\gamma_s^2` gives the standard form
:math:`\ddot\phi_k + 2\gamma_s\dot\phi_k + \omega_k^2\phi_k = \gamma_s^2 Q_k`
with undamped natural frequency :math:`\omega_k = \gamma_s\sqrt{a_k}`,
:math:`a_k = 1 + r_s^2\lambda_k`, and damping ratio
:math:`\zeta_k = 1/\sqrt{a_k} \le 1` (every mode with :math:`\lambda_k > 0` is
underdamped).

Transfer function
-----------------
For :math:`Q_k = e^{i\omega t}` the steady state is :math:`\phi_k = H_k(\omega)
e^{i\omega t}` with

.. math::

    H_k(\omega) = \frac{1}{a_k - (\omega/\gamma_s)^2 + 2i\,\omega/\gamma_s},
    \qquad
    |H_k|^{-2} = \bigl(a_k - u^2\bigr)^2 + 4u^2,\ u = \omega/\gamma_s .

Setting :math:`d|H_k|^{-2}/d(u^2) = 0` gives :math:`u^2 = a_k - 2`: the gain
has a resonance peak iff :math:`a_k > 2` (:math:`r_s^2\lambda_k > 1`, i.e.
:math:`\zeta_k < 1/\sqrt2`) at

.. math::

    f_k^{\mathrm{peak}} = \frac{\gamma_s}{2\pi}\sqrt{r_s^2\lambda_k - 1},
    \qquad |H_k|_{\max} = \frac{1}{2 r_s\sqrt{\lambda_k}},

and is otherwise a low-pass with maximum :math:`|H_k(0)| = 1/a_k` at 0 Hz.
With the defaults (:math:`\gamma_s = 116` s⁻¹, :math:`r_s = 28.9` mm) a mode
resonates at 10 Hz for :math:`\lambda_k \approx 1.55\times10^{-3}` mm⁻².

Time domain
-----------
Each mode is integrated exactly: with state :math:`x = (\phi_k, \dot\phi_k)`,
:math:`\dot x = A_k x + b_k Q_k`, the step over :math:`\Delta t = 1/f_s` is the
matrix exponential of :math:`A_k\Delta t` together with the exact response to
the input interpolated between samples (first-order hold, ``'foh'``: linear
interpolation, zero phase error; or zero-order hold, ``'zoh'``: piecewise
constant). The result is a second-order recursive filter per mode, applied
with :func:`scipy.signal.lfilter` chunk by chunk with its state carried over,
so memory does not grow with run length. The only approximation is the
interpolation of the sampled drive: a sinusoid of frequency :math:`f` is seen
with amplitude :math:`\mathrm{sinc}^2(f/f_s)` (FOH), i.e. a relative error of
about :math:`(\pi f/f_s)^2/3` (0.5 % at 40 Hz and 1 kHz).

Graph bases
-----------
The equation needs :math:`\lambda_k` in mm⁻². Graph Laplacian eigenvalues are
dimensionless; :func:`mode_eigenvalues` converts them with a length scale
:math:`\ell`, :math:`\lambda_k = \lambda_k^{\mathrm{graph}}/\ell^2`. On a
regular triangular mesh of edge length :math:`h` the combinatorial Laplacian
approximates :math:`-\tfrac32 h^2\nabla^2` and the normalised one (degree
:math:`\bar d`) :math:`-\tfrac{3}{2\bar d} h^2\nabla^2`, hence the default
:func:`graph_length_scale`. On the default 16k cortex this matches the
Laplace–Beltrami spectrum to about 10 % above the lowest few modes (which the
long-range connectome edges change).

References
----------
.. [1] P. A. Robinson, C. J. Rennie and J. J. Wright, "Propagation and
   stability of waves of electrical activity in the cerebral cortex",
   Physical Review E 56:826–840, 1997.
.. [2] J. C. Pang et al., "Geometric constraints on human brain function",
   Nature 618:566–574, 2023.
.. [3] G. F. Franklin, J. D. Powell and M. L. Workman, "Digital Control of
   Dynamic Systems", 3rd ed., Addison-Wesley, 1998 (ZOH / FOH discretisation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.signal

from harmonix.errors import ParameterError
from harmonix.harmonics.connectome import region_indices

GAMMA_S = 116.0
"""Default damping rate :math:`\\gamma_s` in s⁻¹ (Pang et al. 2023)."""

R_S = 28.9
"""Default axonal length scale :math:`r_s` in mm (Pang et al. 2023)."""

AUDITORY_REGIONS = ("rA1", "rA2", "lA1", "lA2")
"""Primary and secondary auditory cortex of the default (tvb-data 76-region) connectome."""

HOLDS = ("foh", "zoh")
"""Input interpolations between samples accepted by the time-domain simulation."""


def _positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a positive number, got {value!r}") from err
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"{name} must be a positive number, got {value!r}")
    return value


# --------------------------------------------------------------------------- eigenvalues


def graph_length_scale(mesh, kind: str) -> float:
    r"""Length scale (mm) turning graph-Laplacian eigenvalues into mm⁻².

    For a regular triangular mesh of edge length :math:`h` (here the RMS edge
    length) the combinatorial Laplacian approximates :math:`-\tfrac32 h^2
    \nabla^2`, so :math:`\ell = h\sqrt{3/2}`; the symmetric-normalised one
    divides by the vertex degree, :math:`\ell = h\sqrt{3/(2\bar d)}` with
    :math:`\bar d = 2E/V` the mean mesh degree.

    Parameters
    ----------
    mesh : TriMesh
        The cortical mesh (mm).
    kind : {'graph-normalized', 'graph-combinatorial'}

    Returns
    -------
    length : float
        :math:`\ell` in mm; use :math:`\lambda = \lambda^{\mathrm{graph}}/\ell^2`.
    """
    tri = np.asarray(mesh.triangles)
    edges = np.sort(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1)
    edges = np.unique(edges, axis=0)
    vertices = np.asarray(mesh.vertices, dtype=float)
    h = float(np.sqrt(np.mean(np.sum((vertices[edges[:, 0]] - vertices[edges[:, 1]]) ** 2, axis=1))))
    if kind == "graph-combinatorial":
        return h * np.sqrt(1.5)
    if kind == "graph-normalized":
        degree = 2.0 * edges.shape[0] / vertices.shape[0]
        return h * np.sqrt(1.5 / degree)
    raise ParameterError(f"graph_length_scale needs a graph basis kind, got {kind!r}")


def mode_eigenvalues(basis, *, length_scale: float | None = None, mesh=None) -> np.ndarray:
    """Eigenvalues of a harmonic basis in mm⁻², as the wave equation needs them.

    Parameters
    ----------
    basis : HarmonicBasis
        ``'laplace-beltrami'``: eigenvalues are used as they are (mm⁻²).
        Graph kinds: divided by ``length_scale**2``.
    length_scale : float | None
        Graph bases: :math:`\\ell` in mm. ``None`` derives it from ``mesh``
        with :func:`graph_length_scale`. Not accepted for Laplace–Beltrami.
    mesh : TriMesh | None
        Mesh of a graph basis when ``length_scale`` is not given.

    Returns
    -------
    eigenvalues : ndarray, shape (n_modes,)
        Non-negative, mm⁻² (tiny negative round-off clipped to 0).
    """
    values = np.asarray(basis.eigenvalues, dtype=float)
    if basis.kind == "laplace-beltrami":
        if length_scale is not None:
            raise ParameterError("length_scale applies to graph bases only; Laplace–Beltrami eigenvalues are in mm⁻²")
        return np.clip(values, 0.0, None)
    if length_scale is None:
        if mesh is None:
            raise ParameterError(
                f"a {basis.kind!r} basis has dimensionless eigenvalues: give length_scale (mm) or the mesh, "
                "or use a 'laplace-beltrami' basis"
            )
        length_scale = graph_length_scale(mesh, basis.kind)
    length_scale = _positive("length_scale", length_scale)
    return np.clip(values, 0.0, None) / length_scale**2


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class WaveModel:
    r"""Damped-wave neural field on harmonic modes: one driven oscillator per mode.

    .. math:: \gamma_s^{-2}\ddot\phi_k + 2\gamma_s^{-1}\dot\phi_k + (1 + r_s^2\lambda_k)\phi_k = Q_k

    Attributes
    ----------
    eigenvalues : ndarray, shape (n_modes,)
        :math:`\lambda_k` in mm⁻² (see :func:`mode_eigenvalues`), non-negative.
    gamma_s : float
        Damping rate in s⁻¹ (default 116).
    r_s : float
        Axonal length scale in mm (default 28.9).

    Examples
    --------
    >>> model = WaveModel(np.array([0.0, 1.55e-3, 5e-3]))
    >>> np.round(model.peak_frequencies, 1)
    array([ nan, 10. , 32.9])
    """

    eigenvalues: np.ndarray
    gamma_s: float = GAMMA_S
    r_s: float = R_S

    def __post_init__(self) -> None:
        values = np.array(self.eigenvalues, dtype=float, ndmin=1)
        if values.ndim != 1 or values.size == 0:
            raise ParameterError(f"eigenvalues must be a non-empty 1-D array (mm⁻²), got shape {values.shape}")
        if not np.isfinite(values).all() or np.any(values < 0):
            raise ParameterError("eigenvalues must be finite and non-negative (mm⁻²)")
        values.setflags(write=False)
        object.__setattr__(self, "eigenvalues", values)
        object.__setattr__(self, "gamma_s", _positive("gamma_s", self.gamma_s))
        object.__setattr__(self, "r_s", _positive("r_s", self.r_s))

    @classmethod
    def from_basis(cls, basis, *, length_scale: float | None = None, mesh=None, n_modes: int | None = None,
                   gamma_s: float = GAMMA_S, r_s: float = R_S) -> WaveModel:
        """A wave model on the (first ``n_modes``) modes of ``basis`` (see :func:`mode_eigenvalues`)."""
        values = mode_eigenvalues(basis, length_scale=length_scale, mesh=mesh)
        return cls(values[: _n_modes(n_modes, values.size)], gamma_s, r_s)

    @property
    def n_modes(self) -> int:
        """Number of modes."""
        return int(self.eigenvalues.size)

    @property
    def stiffness(self) -> np.ndarray:
        """:math:`a_k = 1 + r_s^2\\lambda_k` (dimensionless); also ``1 / H_k(0)``."""
        return 1.0 + self.r_s**2 * self.eigenvalues

    @property
    def natural_frequencies(self) -> np.ndarray:
        """Undamped natural frequencies :math:`\\gamma_s\\sqrt{a_k}/2\\pi` in Hz."""
        return self.gamma_s * np.sqrt(self.stiffness) / (2 * np.pi)

    @property
    def damping_ratios(self) -> np.ndarray:
        """:math:`\\zeta_k = 1/\\sqrt{a_k}` (dimensionless, <= 1)."""
        return 1.0 / np.sqrt(self.stiffness)

    @property
    def peak_frequencies(self) -> np.ndarray:
        """Analytic resonance frequency of :math:`|H_k|` in Hz, :math:`\\gamma_s\\sqrt{r_s^2\\lambda_k - 1}/2\\pi`.

        NaN for modes with :math:`r_s^2\\lambda_k \\le 1`, whose gain is largest at 0 Hz.
        """
        x = self.r_s**2 * self.eigenvalues - 1.0
        with np.errstate(invalid="ignore"):
            return np.where(x > 0, self.gamma_s * np.sqrt(np.where(x > 0, x, 0.0)) / (2 * np.pi), np.nan)

    @property
    def peak_gains(self) -> np.ndarray:
        """Maximum of :math:`|H_k|`: :math:`1/(2r_s\\sqrt{\\lambda_k})` with a peak, else :math:`1/a_k`."""
        x = self.r_s**2 * self.eigenvalues
        with np.errstate(divide="ignore"):
            return np.where(x > 1, 1.0 / (2.0 * np.sqrt(np.maximum(x, 1.0))), 1.0 / (1.0 + x))

    def transfer_function(self, freqs) -> np.ndarray:
        r"""Complex gain :math:`H_k(f) = 1/(a_k - (2\pi f/\gamma_s)^2 + 4\pi i f/\gamma_s)`.

        Parameters
        ----------
        freqs : array_like, shape (n_freqs,)
            Frequencies in Hz.

        Returns
        -------
        H : ndarray, complex, shape (n_modes, n_freqs)
            Dimensionless (field per unit drive); :math:`H_k(0) = 1/a_k`.
        """
        u = 2 * np.pi * np.atleast_1d(np.asarray(freqs, dtype=float)) / self.gamma_s
        if u.ndim != 1 or not np.isfinite(u).all():
            raise ParameterError("freqs must be a 1-D array of finite frequencies in Hz")
        return 1.0 / (self.stiffness[:, None] - u[None, :] ** 2 + 2j * u[None, :])

    def gain(self, freqs) -> np.ndarray:
        """:math:`|H_k(f)|`, shape (n_modes, n_freqs) (see :meth:`transfer_function`)."""
        return np.abs(self.transfer_function(freqs))

    # ------------------------------------------------------------------ time domain

    def discrete_filters(self, sfreq: float, *, hold: str = "foh") -> tuple[np.ndarray, np.ndarray]:
        r"""Exact discretisation of every mode as a second-order recursive filter.

        The continuous system :math:`\dot x = A x + b\,Q`, :math:`x = (\phi,
        \dot\phi)`, :math:`A = \begin{pmatrix}0 & 1\\ -\gamma_s^2 a_k & -2\gamma_s\end{pmatrix}`,
        :math:`b = (0, \gamma_s^2)^T`, is sampled at ``sfreq`` by the matrix
        exponential of the augmented system (Franklin et al. 1998): with
        :math:`E = \exp\begin{pmatrix}A\Delta t & b\Delta t & 0\\ 0&0&1\\ 0&0&0\end{pmatrix}`,
        :math:`\Phi = E_{11}`, :math:`\Gamma_1 = E_{12}`, :math:`\Gamma_2 = E_{13}`;
        FOH: :math:`x_{n+1} = \Phi x_n + (\Gamma_1-\Gamma_2)Q_n + \Gamma_2 Q_{n+1}`;
        ZOH: :math:`x_{n+1} = \Phi x_n + \Gamma_1 Q_n`. The state-space form is
        turned into :math:`b(z)/a(z)` in closed form.

        Returns
        -------
        b, a : ndarray, shape (n_modes, 3)
            Numerator and denominator (``a[:, 0] == 1``) in powers of :math:`z^{-1}`.
        """
        sfreq = _positive("sfreq", sfreq)
        if hold not in HOLDS:
            raise ParameterError(f"hold must be one of {HOLDS}, got {hold!r}")
        dt = 1.0 / sfreq
        g = self.gamma_s
        n = self.n_modes
        m = np.zeros((n, 4, 4))
        m[:, 0, 1] = dt
        m[:, 1, 0] = -(g**2) * self.stiffness * dt
        m[:, 1, 1] = -2 * g * dt
        m[:, 1, 2] = g**2 * dt
        m[:, 2, 3] = 1.0
        e = scipy.linalg.expm(m)
        phi = e[:, :2, :2]
        g1, g2 = e[:, :2, 2], e[:, :2, 3]
        if hold == "foh":
            # xi_n = x_n - G2 Q_n turns x_{n+1} = Phi x_n + (G1 - G2) Q_n + G2 Q_{n+1} into standard form
            bvec = np.einsum("kij,kj->ki", phi, g2) + g1 - g2
            d = g2[:, 0]
        else:
            bvec, d = g1, np.zeros(n)
        tr = phi[:, 0, 0] + phi[:, 1, 1]
        det = phi[:, 0, 0] * phi[:, 1, 1] - phi[:, 0, 1] * phi[:, 1, 0]
        # y = C (zI - Phi)^-1 B + D with C = (1, 0): numerator (z - Phi22) B0 + Phi01 B1 + D det(zI - Phi)
        b = np.stack([d, bvec[:, 0] - d * tr, phi[:, 0, 1] * bvec[:, 1] - phi[:, 1, 1] * bvec[:, 0] + d * det], axis=1)
        a = np.stack([np.ones(n), -tr, det], axis=1)
        return b, a

    def simulator(self, sfreq: float, *, hold: str = "foh") -> WaveSimulator:
        """A stateful chunk-by-chunk integrator starting at rest (see :class:`WaveSimulator`)."""
        return WaveSimulator(self, sfreq, hold=hold)

    def simulate(self, drive, sfreq: float, *, hold: str = "foh", chunk: int = 65536) -> np.ndarray:
        r"""Field of every mode driven by ``drive``, from rest.

        Parameters
        ----------
        drive : ndarray, shape (n_modes, n_times) or (n_times,)
            :math:`Q_k(t)` sampled at ``sfreq`` (a 1-D drive is applied to
            every mode). Use :func:`project_drive` / :func:`region_drive` to
            get it from a spatial pattern.
        sfreq : float
            Sampling rate in Hz.
        hold : {'foh', 'zoh'}
            Interpolation of the drive between samples (module docstring).
        chunk : int
            Samples per integration chunk.

        Returns
        -------
        phi : ndarray, shape (n_modes, n_times)
            :math:`\phi_k(t)`, in the drive's units (the static gain is :math:`1/a_k`).
        """
        drive = np.asarray(drive, dtype=float)
        if drive.ndim == 1:
            drive = np.broadcast_to(drive, (self.n_modes, drive.size))
        sim = self.simulator(sfreq, hold=hold)
        chunk = int(chunk)
        if chunk < 1:
            raise ParameterError(f"chunk must be a positive number of samples, got {chunk}")
        out = np.empty(drive.shape)
        for start in range(0, drive.shape[1], chunk):
            out[:, start : start + chunk] = sim.step(drive[:, start : start + chunk])
        return out

    def simulate_chunks(self, chunks: Iterable[np.ndarray], sfreq: float, *, hold: str = "foh") -> Iterator[np.ndarray]:
        """Generator version of :meth:`simulate`: one output chunk per input chunk (constant memory)."""
        sim = self.simulator(sfreq, hold=hold)
        for block in chunks:
            yield sim.step(block)


class WaveSimulator:
    """Chunked exact integrator of a :class:`WaveModel` (state carried between calls).

    Each mode is the recursive filter of :meth:`WaveModel.discrete_filters`
    run by :func:`scipy.signal.lfilter`; the filter state after a chunk is
    the initial state of the next, so splitting a drive into chunks gives the
    same result as one call.
    """

    def __init__(self, model: WaveModel, sfreq: float, *, hold: str = "foh") -> None:
        self.model = model
        self.sfreq = _positive("sfreq", sfreq)
        self.b, self.a = model.discrete_filters(self.sfreq, hold=hold)
        self.state = np.zeros((model.n_modes, 2))
        self.n_done = 0

    def step(self, drive) -> np.ndarray:
        """Advance by ``drive.shape[1]`` samples; returns the field, shape (n_modes, n)."""
        drive = np.asarray(drive, dtype=float)
        if drive.ndim == 1:
            drive = np.broadcast_to(drive, (self.model.n_modes, drive.size))
        if drive.ndim != 2 or drive.shape[0] != self.model.n_modes:
            raise ParameterError(f"drive must be (n_modes={self.model.n_modes}, n_times), got shape {drive.shape}")
        if not np.isfinite(drive).all():
            raise ParameterError("drive contains NaN or Inf values")
        out = np.empty(drive.shape)
        for k in range(self.model.n_modes):
            out[k], self.state[k] = scipy.signal.lfilter(self.b[k], self.a[k], drive[k], zi=self.state[k])
        self.n_done += drive.shape[1]
        return out


def _n_modes(n_modes: int | None, available: int) -> int:
    if n_modes is None:
        return available
    n_modes = int(n_modes)
    if not 1 <= n_modes <= available:
        raise ParameterError(f"n_modes must be between 1 and {available}, got {n_modes}")
    return n_modes


# --------------------------------------------------------------------------- drives


def region_pattern(connectome, regions: Sequence[str | int] | str | int) -> np.ndarray:
    """Indicator of the vertices of ``regions`` (labels or indices), shape (n_vertices,).

    Raises
    ------
    ParameterError
        An unknown label, an index out of range, or regions without vertices.
    """
    indices = region_indices(connectome, regions)
    pattern = np.isin(connectome.region_map, indices).astype(float)
    if not pattern.any():
        raise ParameterError(f"regions {list(regions)} have no cortical vertices")
    return pattern


def project_drive(basis, pattern, *, n_modes: int | None = None, normalize: bool = True) -> np.ndarray:
    """Coefficients :math:`c_k = \\langle\\psi_k, P\\rangle` of a spatial drive pattern.

    Parameters
    ----------
    basis : HarmonicBasis
        Modes (B-inner product for Laplace–Beltrami, Euclidean for graphs).
    pattern : ndarray, shape (n_vertices,) or (n_vertices, n_patterns)
        Drive per vertex (e.g. :func:`region_pattern`).
    n_modes : int | None
        Keep the first ``n_modes`` coefficients.
    normalize : bool
        Scale each pattern to unit norm in the basis' inner product first, so
        that :math:`\\sum_k c_k^2 \\le 1` is the fraction of the pattern the
        (truncated) basis captures and a drive's size does not depend on the
        region's area.

    Returns
    -------
    c : ndarray, shape (n_modes,) or (n_modes, n_patterns)
    """
    p = np.asarray(pattern, dtype=float)
    if p.shape[0] != basis.n_vertices:
        raise ParameterError(f"pattern has {p.shape[0]} vertices, the basis {basis.n_vertices}")
    if normalize:
        weighted = p if basis.mass is None else basis.mass @ p
        norm = np.sqrt(np.sum(p * weighted, axis=0))
        if np.any(norm == 0):
            raise ParameterError("a drive pattern is zero everywhere")
        p = p / norm
    return basis.project(p)[: _n_modes(n_modes, basis.n_modes)]


def region_drive(basis, connectome, signals, regions, *, n_modes: int | None = None,
                 normalize: bool = True) -> np.ndarray:
    """Mode drive :math:`Q_k(t) = \\sum_r c_{kr} s_r(t)` of time courses injected into regions.

    Parameters
    ----------
    basis : HarmonicBasis
    connectome : Connectome
    signals : ndarray, shape (n_times,) or (n_groups, n_times)
        One time course per entry of ``regions``.
    regions : sequence
        One entry per signal: a region label/index or a list of them (the
        signal drives all their vertices with one uniform pattern).
    n_modes, normalize
        As in :func:`project_drive`.

    Returns
    -------
    drive : ndarray, shape (n_modes, n_times)
    """
    s = np.atleast_2d(np.asarray(signals, dtype=float))
    if isinstance(regions, (str, int, np.integer)):
        regions = [regions]
    if s.shape[0] != len(regions):
        raise ParameterError(f"{s.shape[0]} signals for {len(regions)} region groups; give one signal per group")
    patterns = np.stack([region_pattern(connectome, r) for r in regions], axis=1)
    c = project_drive(basis, patterns, n_modes=n_modes, normalize=normalize)
    return c @ s


def modal_noise(n_modes: int, n_times: int, *, std: float = 1.0, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Spatiotemporally white drive: independent N(0, std²) samples per mode and time."""
    rng = np.random.default_rng(seed)
    return std * rng.standard_normal((int(n_modes), int(n_times)))


# --------------------------------------------------------------------------- resonance profile


@dataclass(frozen=True)
class ResonanceProfile:
    r"""Energy a stimulus' envelope puts into each harmonic.

    .. math:: E_k = c_k^2 \int S(f)\,|H_k(f)|^2\,df

    Attributes
    ----------
    energy : ndarray, shape (n_modes,)
        :math:`E_k` (dimensionless: the modulation spectrum is of the
        mean-normalised envelope, and the drive pattern has unit norm).
    fraction : ndarray, shape (n_modes,)
        :math:`E_k / \sum_j E_j`.
    projection : ndarray, shape (n_modes,)
        :math:`c_k`, the drive pattern's coefficient on mode ``k``.
    peak_frequencies : ndarray, shape (n_modes,)
        Analytic resonance frequency of each mode in Hz (NaN without one).
    density : ndarray, shape (n_modes, n_freqs)
        :math:`c_k^2 S(f)|H_k(f)|^2` (per Hz): where in frequency each mode gets its energy.
    freqs : ndarray, shape (n_freqs,)
        Modulation frequencies in Hz.
    modulation_power : ndarray, shape (n_freqs,)
        :math:`S(f)` in 1/Hz.
    params : dict
        Model parameters and the regions driven.
    """

    energy: np.ndarray
    fraction: np.ndarray
    projection: np.ndarray
    peak_frequencies: np.ndarray
    density: np.ndarray
    freqs: np.ndarray
    modulation_power: np.ndarray
    params: dict = field(default_factory=dict)

    def top(self, n: int = 5) -> np.ndarray:
        """Indices of the ``n`` most energised modes, strongest first."""
        return np.argsort(self.energy)[::-1][: int(n)]


def resonance_profile(
    audio,
    model: WaveModel,
    projection,
    *,
    fmin: float = 0.5,
    fmax: float = 64.0,
    resolution: float = 0.5,
    params: dict | None = None,
) -> ResonanceProfile:
    """Which harmonics a sound energises: envelope spectrum x |H_k|² x projection².

    Parameters
    ----------
    audio : Audio | ModulationSpectrum
        The stimulus; its envelope's modulation spectrum is computed with
        :func:`harmonix.spectral.audio.modulation_spectrum` (``fmin``,
        ``fmax``, ``resolution``), or given directly.
    model : WaveModel
    projection : ndarray, shape (n_modes,)
        Coefficients :math:`c_k` of the drive pattern (:func:`project_drive`).

    Returns
    -------
    profile : ResonanceProfile
    """
    from harmonix.spectral.audio import ModulationSpectrum, modulation_spectrum

    spectrum = audio if isinstance(audio, ModulationSpectrum) else modulation_spectrum(
        audio, fmin=fmin, fmax=fmax, resolution=resolution)
    c = np.asarray(projection, dtype=float)
    if c.shape != (model.n_modes,):
        raise ParameterError(f"projection must have one value per mode ({model.n_modes}), got shape {c.shape}")
    freqs = np.asarray(spectrum.freqs, dtype=float)
    power = np.asarray(spectrum.power, dtype=float)
    density = c[:, None] ** 2 * power[None, :] * model.gain(freqs) ** 2
    df = float(spectrum.resolution)
    energy = density.sum(axis=1) * df
    total = energy.sum()
    fraction = energy / total if total > 0 else np.zeros_like(energy)
    return ResonanceProfile(
        energy=energy, fraction=fraction, projection=c, peak_frequencies=model.peak_frequencies,
        density=density, freqs=freqs, modulation_power=power,
        params={"gamma_s": model.gamma_s, "r_s": model.r_s, "n_modes": model.n_modes, **(params or {})},
    )


def stimulus_resonance(
    audio,
    harmonic_model=None,
    *,
    regions: Sequence[str | int] = AUDITORY_REGIONS,
    n_modes: int | None = None,
    length_scale: float | None = None,
    gamma_s: float = GAMMA_S,
    r_s: float = R_S,
    **spectrum_kwargs,
) -> ResonanceProfile:
    """Resonance profile of a sound driving the auditory cortex of a connectome.

    Parameters
    ----------
    audio : Audio | ModulationSpectrum
    harmonic_model : HarmonicModel | None
        Connectome and basis; ``None`` uses the default connectome with its
        200 lowest Laplace–Beltrami modes (cached after the first run).
    regions : sequence of str | int
        Regions the sound drives (default :data:`AUDITORY_REGIONS`), as one
        uniform unit-norm pattern.
    n_modes, length_scale, gamma_s, r_s
        See :meth:`WaveModel.from_basis`.
    **spectrum_kwargs
        ``fmin``, ``fmax``, ``resolution`` of the modulation spectrum.
    """
    if harmonic_model is None:
        from harmonix.harmonics.model import default_harmonic_model

        harmonic_model = default_harmonic_model(kind="laplace-beltrami")
    basis, connectome = harmonic_model.basis, harmonic_model.connectome
    model = WaveModel.from_basis(basis, length_scale=length_scale, mesh=connectome.mesh, n_modes=n_modes,
                                 gamma_s=gamma_s, r_s=r_s)
    c = project_drive(basis, region_pattern(connectome, list(regions)), n_modes=model.n_modes)
    return resonance_profile(audio, model, c, params={"regions": [str(r) for r in regions], "basis": basis.kind},
                             **spectrum_kwargs)
