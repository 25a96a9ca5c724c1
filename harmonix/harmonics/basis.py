"""Harmonic bases: eigenmodes of a graph Laplacian or of the Laplace–Beltrami operator.

A :class:`HarmonicBasis` holds the ``k`` lowest eigenpairs of an operator on the
cortical vertices, ordered by eigenvalue (spatial frequency), with the inner
product that goes with it:

* ``'graph-normalized'`` / ``'graph-combinatorial'``: eigenvectors ``ψ_k`` of a
  symmetric graph Laplacian ``L`` (Atasoy et al. 2016), orthonormal in the
  Euclidean inner product, ``a = Ψ^T x``;
* ``'laplace-beltrami'``: solutions of ``A ψ = λ B ψ`` (cotangent stiffness
  ``A``, mass ``B``; Pang et al. 2023), B-orthonormal, ``a = Ψ^T B x``.

Three numerical pitfalls are handled for every basis:

1. **Degenerate eigenvalues.** A cut at exactly ``k`` can split a degenerate
   (or nearly degenerate) cluster, keeping an arbitrary part of an eigenspace.
   ``k + margin`` pairs are computed and the basis is cut at the largest
   spectral gap among the cuts ``k .. k + margin``, so a cluster is kept whole
   or dropped whole; ``n_modes`` reports how many were kept (>= ``k``).
2. **Gauge.** Eigenvectors are defined up to sign (and, inside a degenerate
   eigenspace, up to rotation), and what a solver returns depends on its start
   vector. Start vectors are seeded, and the gauge is then fixed independently
   of the solver: inside each cluster of eigenvalues equal to ``rtol`` the
   basis is the Gram–Schmidt orthonormalisation of the projections of fixed
   probe vectors (standard normal, ``numpy.random.default_rng(0)``) onto the
   eigenspace. For a simple eigenvalue this reduces to the sign convention
   ``<ψ_k, r_k> > 0`` for the fixed probe ``r_k`` (B-inner product for
   Laplace–Beltrami). The result depends only on the eigenspaces, not on the
   solver's seed.
3. **Solver choice.** Mesh Laplacians factorise cheaply (sparse LU with a
   fill-reducing ordering), so Laplace–Beltrami modes use shift-invert Lanczos:
   by default a block Lanczos (:func:`_block_lanczos`) whose
   reorthogonalisation is matrix–matrix products and whose solves run on
   whole blocks in threads, with ARPACK as the fallback and as an option.
   The connected components of a mesh (the two hemispheres of a cortex) are
   independent eigenproblems and are solved separately (:func:`_split_eigsh`).
   Long-range connectome edges destroy the separators that keep LU fill-in
   small, so graph bases never factorise: they use Lanczos on the spectrally
   flipped operator ``c I - L`` (see :func:`graph_basis`).

Computed bases can be cached on disk with :func:`harmonix.harmonics.cache.cached_basis`; an entry
is checked on load (:func:`~harmonix.harmonics.cache.basis_validator`) and recomputed if it fails.

References
----------
.. [1] S. Atasoy, I. Donnelly and J. Pearson, "Human brain networks function in
   connectome-specific harmonic waves", Nature Communications 7:10340, 2016.
.. [2] J. C. Pang et al., "Geometric constraints on human brain function",
   Nature 618:566–574, 2023.
.. [3] M. Reuter, F.-E. Wolter and N. Peinecke, "Laplace–Beltrami spectra as
   'Shape-DNA' of surfaces and solids", Computer-Aided Design 38(4):342–366, 2006.
.. [4] R. B. Lehoucq, D. C. Sorensen and C. Yang, "ARPACK Users' Guide", SIAM, 1998.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg
from threadpoolctl import threadpool_limits

from harmonix.errors import ParameterError
from harmonix.harmonics.laplace_beltrami import cotangent_laplacian
from harmonix.harmonics.mesh import TriMesh, check_mesh

BASIS_KINDS = ("graph-normalized", "graph-combinatorial", "laplace-beltrami")
"""Accepted values of :attr:`HarmonicBasis.kind`."""

GRAPH_MAX_LU_FILL = 30.0
"""Largest LU fill ratio at which :func:`graph_basis` uses shift-invert (``solver='auto'``)."""

GRAPH_MAX_LU_VERTICES = 200_000
"""Above this many vertices ``solver='auto'`` does not try a factorisation (a dense fill would not fit)."""

LB_BLOCK_SIZE = 8
"""Block size of the Laplace–Beltrami block Lanczos solver (``solver='block'``)."""

LB_SIGMA_FRACTION = 0.01
"""Default Laplace–Beltrami shift: ``σ = -LB_SIGMA_FRACTION · 4π k / area`` (Weyl's estimate of ``λ_k``)."""

LB_SPLIT_MIN_VERTICES = 1000
"""Connected components of at least this many vertices get an eigenproblem of their own (see :func:`_split_eigsh`)."""

LB_SPLIT_SAFETY = 0.03
"""Relative surplus of modes sought per component over its area share of the modes (Weyl's law)."""

LB_BLOCK_TOL = 1e-8
"""Ritz residual (relative to θ) accepted by the block solver when ``tol=0``."""

LB_MAX_WORKERS = 2
"""Threads for the block solves when ``workers=None`` (at most the CPU count)."""

LB_MAX_KRYLOV_FACTOR = 8
"""The block Krylov space may grow to this many times the modes sought before falling back to ARPACK."""

_CACHE_FORMAT = 1  # bump when the .npz layout or the gauge convention changes
_GAUGE_SEED = 0  # probe vectors of the gauge convention; part of the cache key via _CACHE_FORMAT
_DEGENERACY_RTOL = 1e-8
_ORTHO_TOL = 1e-10
_SOLVE_CHUNK = 8  # columns per SuperLU solve call
_CHOLQR_MAX_COND = 10.0  # one Cholesky QR pass leaves ~1e-16 * cond^2 of B-orthogonality error


@dataclass(frozen=True)
class HarmonicBasis:
    """Eigenmodes of a Laplacian on the cortical vertices, lowest first.

    Attributes
    ----------
    eigenvalues : ndarray, shape (n_modes,)
        Non-decreasing. Graph Laplacians: dimensionless (normalised Laplacian:
        in [0, 2]). Laplace–Beltrami: 1 / length² of the mesh units (mm⁻²).
    eigenvectors : ndarray, shape (n_vertices, n_modes)
        Column ``k`` is harmonic ``ψ_k``; orthonormal (graph) or B-orthonormal
        (Laplace–Beltrami), with the gauge described in the module docstring.
    kind : str
        One of :data:`BASIS_KINDS`.
    mass : scipy.sparse.csr_matrix or None
        Mass matrix ``B`` of a Laplace–Beltrami basis (``None`` for graphs).
    params : dict
        How the basis was computed (solver, seed, margin, requested modes...),
        JSON-serialisable.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    kind: str
    mass: scipy.sparse.csr_matrix | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.eigenvalues, dtype=float)
        vectors = np.asarray(self.eigenvectors, dtype=float)
        if self.kind not in BASIS_KINDS:
            raise ParameterError(f"unknown harmonic basis kind {self.kind!r}; expected one of {BASIS_KINDS}")
        if values.ndim != 1 or vectors.ndim != 2 or vectors.shape[1] != values.shape[0]:
            raise ParameterError(
                f"eigenvectors must be (n_vertices, n_modes) matching eigenvalues (n_modes,), "
                f"got {vectors.shape} and {values.shape}"
            )
        needs_mass = self.kind == "laplace-beltrami"
        if needs_mass != (self.mass is not None):
            raise ParameterError(
                f"a {self.kind!r} basis {'needs' if needs_mass else 'takes no'} mass matrix: "
                "Laplace–Beltrami modes are B-orthonormal, graph modes orthonormal"
            )
        mass = None
        if self.mass is not None:
            mass = scipy.sparse.csr_matrix(self.mass)
            if mass.shape != (vectors.shape[0],) * 2:
                raise ParameterError(f"mass matrix shape {mass.shape} does not match {vectors.shape[0]} vertices")
        for array in (values, vectors):
            array.setflags(write=False)
        object.__setattr__(self, "eigenvalues", values)
        object.__setattr__(self, "eigenvectors", vectors)
        object.__setattr__(self, "mass", mass)
        object.__setattr__(self, "params", dict(self.params))

    @property
    def n_modes(self) -> int:
        """Number of harmonics kept (may exceed the number requested, see the module docstring)."""
        return self.eigenvalues.shape[0]

    @property
    def n_vertices(self) -> int:
        """Number of vertices the harmonics live on."""
        return self.eigenvectors.shape[0]

    def project(self, x: np.ndarray) -> np.ndarray:
        """Harmonic coefficients of vertex activity.

        ``a = Ψ^T x`` for graph bases and ``a = Ψ^T B x`` for Laplace–Beltrami
        bases (the B-inner product that makes the modes orthonormal), so that
        ``reconstruct(project(x))`` is the orthogonal projection of ``x`` onto
        the span of the harmonics.

        Parameters
        ----------
        x : ndarray, shape (n_vertices,) or (n_vertices, n_times)
            Activity on the vertices.

        Returns
        -------
        a : ndarray, shape (n_modes,) or (n_modes, n_times)
        """
        x = np.asarray(x, dtype=float)
        if x.ndim not in (1, 2) or x.shape[0] != self.n_vertices:
            raise ParameterError(
                f"activity must have shape (n_vertices={self.n_vertices},) or (n_vertices, n_times), got {x.shape}"
            )
        weighted = x if self.mass is None else self.mass @ x
        return self.eigenvectors.T @ weighted

    def reconstruct(self, a: np.ndarray) -> np.ndarray:
        """Vertex activity ``x = Ψ a`` from coefficients ``a`` of shape (n_modes,) or (n_modes, n_times)."""
        a = np.asarray(a, dtype=float)
        if a.ndim not in (1, 2) or a.shape[0] != self.n_modes:
            raise ParameterError(f"coefficients must have shape (n_modes={self.n_modes},) or (n_modes, n_times), got {a.shape}")
        return self.eigenvectors @ a


# --------------------------------------------------------------------------- numerics


def _check_request(n_modes: int, margin: int, n: int) -> None:
    for name, value, low in (("n_modes", n_modes, 1), ("margin", margin, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ParameterError(f"{name} must be an integer >= {low}, got {value!r}")
    if n_modes >= n - 1:
        raise ParameterError(f"n_modes={n_modes} must be smaller than the number of vertices minus one ({n - 1})")


def _spectral_cut(eigenvalues: np.ndarray, n_modes: int) -> int:
    """Number of modes to keep: the cut in ``n_modes .. len(eigenvalues) - 1`` before the largest gap.

    ``eigenvalues`` must be sorted and hold at least one value beyond the
    largest cut, so that every candidate cut has a known gap after it.
    """
    candidates = np.arange(n_modes, len(eigenvalues))
    if candidates.size == 0:
        return n_modes
    gaps = eigenvalues[candidates] - eigenvalues[candidates - 1]
    return int(candidates[np.argmax(gaps)])  # argmax: the smallest cut among equal gaps


def _degenerate_clusters(eigenvalues: np.ndarray, rtol: float) -> list[slice]:
    """Runs of consecutive eigenvalues closer than ``rtol`` times the spectral scale."""
    scale = max(float(np.max(np.abs(eigenvalues))), np.finfo(float).tiny)
    breaks = np.flatnonzero(np.diff(eigenvalues) > rtol * scale) + 1
    bounds = np.concatenate([[0], breaks, [len(eigenvalues)]])
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def _fix_gauge(vectors: np.ndarray, eigenvalues: np.ndarray, mass: scipy.sparse.spmatrix | None) -> np.ndarray:
    """Make eigenvectors independent of the solver's start vector (see the module docstring).

    Inside each cluster ``V`` (columns orthonormal in the inner product of
    ``mass``), with fixed probes ``R``: ``M = V^T B R = Q U`` (QR, ``diag U > 0``)
    and ``V Q`` is the Gram–Schmidt orthonormalisation of the projections ``V M``
    of the probes, which does not depend on how ``V`` is rotated.
    """
    n, k = vectors.shape
    probes = np.random.default_rng(_GAUGE_SEED).standard_normal((n, k))
    # Column-major copies: the clusters are column slices.
    weighted = np.asfortranarray(probes if mass is None else mass @ probes)
    vectors = np.asfortranarray(vectors)
    fixed = np.empty_like(vectors)
    for cluster in _degenerate_clusters(eigenvalues, _DEGENERACY_RTOL):
        block = vectors[:, cluster]
        q, u = np.linalg.qr(block.T @ weighted[:, cluster])
        q *= np.where(np.diag(u) < 0, -1.0, 1.0)
        fixed[:, cluster] = block @ q
    return fixed


def _orthonormalize(vectors: np.ndarray, mass: scipy.sparse.spmatrix | None) -> tuple[np.ndarray, float]:
    """Re-orthonormalise (in the B-inner product) if the solver left more than round-off.

    Cholesky of the Gram matrix keeps column ``k`` within span(columns <= k),
    so ordering and gauge survive. Returns the vectors and the deviation
    ``max |Ψ^T B Ψ - I|`` before the correction.
    """
    gram = vectors.T @ (vectors if mass is None else mass @ vectors)
    deviation = float(np.max(np.abs(gram - np.eye(gram.shape[0]))))
    if deviation > _ORTHO_TOL:
        factor = np.linalg.cholesky(gram)
        vectors = np.linalg.solve(factor, vectors.T).T
    return vectors, deviation


def _finish(
    values: np.ndarray,
    vectors: np.ndarray,
    n_modes: int,
    mass: scipy.sparse.spmatrix | None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    order = np.argsort(values, kind="stable")
    values, vectors = values[order], vectors[:, order]
    keep = _spectral_cut(values, n_modes)
    gap = float(values[keep] - values[keep - 1]) if keep < len(values) else float("nan")
    values, vectors = values[:keep], vectors[:, :keep]
    vectors = _fix_gauge(vectors, values, mass)
    vectors, deviation = _orthonormalize(vectors, mass)
    return values, vectors, {"n_kept": keep, "gap_at_cut": gap, "orthonormality_error": deviation}


# --------------------------------------------------------------------------- Laplace–Beltrami


def laplace_beltrami_basis(
    mesh: TriMesh,
    n_modes: int,
    *,
    lump: bool = False,
    margin: int = 10,
    sigma: float | None = None,
    seed: int = 0,
    tol: float = 0.0,
    verify: int = 10,
    solver: str = "block",
    block: int = LB_BLOCK_SIZE,
    workers: int | None = None,
    split: bool = True,
) -> HarmonicBasis:
    """Lowest Laplace–Beltrami eigenmodes of a mesh: ``A ψ = λ B ψ``.

    ``A`` and ``B`` come from :func:`~harmonix.harmonics.laplace_beltrami.cotangent_laplacian`.
    Solved by shift-invert Lanczos (ARPACK mode 3, [4]_): the operator
    ``(A - σ B)^{-1} B`` maps the eigenvalues nearest ``σ`` to the largest ones.
    A small negative ``σ`` (LaPy [3]_ uses -0.01) makes ``A - σ B`` positive
    definite, so the LU factorisation (SuperLU, symmetric mode with a minimum
    degree ordering on ``A + A^T``, no pivoting, which a positive definite
    matrix does not need) is stable and sparse. How fast the highest wanted
    modes converge depends on their gaps relative to ``λ - σ``, so by default
    ``σ`` is a small fraction (:data:`LB_SIGMA_FRACTION`) of the expected
    largest eigenvalue sought, ``4π k / area`` by Weyl's law, which makes the
    choice independent of the mesh's length unit (on the 16k cortex in mm it
    is -1.3e-4 mm⁻² for 200 modes; LaPy's -0.01 is about two thirds of
    ``λ_200`` there and needs a quarter more Lanczos vectors).

    On a mesh of several connected components (the two hemispheres of a
    cortical surface) ``A`` and ``B`` are block diagonal, so the spectrum is
    the union of the components' spectra: with ``split=True`` each component
    of at least :data:`LB_SPLIT_MIN_VERTICES` vertices is solved on its own
    (see :func:`_split_eigsh`), the same eigenproblem at a fraction of the
    cost (reorthogonalisation grows with the square of the modes sought).

    Parameters
    ----------
    mesh : TriMesh
        Manifold triangle mesh (several connected components give several
        zero eigenvalues).
    n_modes : int
        Number of modes wanted; ``n_modes + margin + 1`` are computed and the
        basis is cut at the largest gap (see the module docstring), so the
        result holds between ``n_modes`` and ``n_modes + margin`` modes.
    lump : bool
        Lumped (diagonal) mass matrix instead of the consistent one (default,
        as LaPy).
    margin : int
        Extra modes computed to find a gap; ``0`` cuts at exactly ``n_modes``
        and may split a degenerate eigenspace.
    sigma : float or None
        Shift, below the smallest eigenvalue (0), in the units of the
        eigenvalues (``None``: see above). The eigenpairs do not depend on it,
        only the work.
    seed : int
        Seed of the Lanczos start vector.
    tol : float
        Relative accuracy of the Ritz values (``0``: machine precision).
    verify : int
        Completeness check for degenerate partners a single Lanczos run can
        miss (``0``: none). Laplace–Beltrami: any non-zero value counts the
        eigenvalues below the cut by Sylvester's law of inertia (one more LU)
        and solves for exactly the missing ones. Graphs (no factorisation):
        size of each extra search in the complement of the modes found.
    solver : {'block', 'arpack'}
        ``'block'`` (default): block shift-invert Lanczos with full
        reorthogonalisation (see :func:`_block_lanczos`; ``tol=0`` means a
        Ritz residual of :data:`LB_BLOCK_TOL`, which gives eigenvalues to
        about machine precision, since their error is quadratic in the
        residual); searches too large for the mesh fall back to ARPACK.
        ``'arpack'``: ARPACK mode 3 as LaPy does.
    block : int
        Block size of ``solver='block'``.
    workers : int or None
        Threads of the solver (``None``: up to :data:`LB_MAX_WORKERS`, at
        most the CPU count): with ``split``, components are solved side by
        side in them, otherwise the block solves are split over them. BLAS
        runs single-threaded during the solve (the Lanczos products are
        bound by memory traffic).
    split : bool
        Solve large connected components separately (exact; ``False``: one
        eigenproblem for the whole mesh).

    Returns
    -------
    HarmonicBasis
        ``kind='laplace-beltrami'``, B-orthonormal modes, with ``mass`` set.

    References
    ----------
    .. [3] Reuter, Wolter & Peinecke (2006), Computer-Aided Design 38(4):342–366.
    .. [4] Lehoucq, Sorensen & Yang (1998), ARPACK Users' Guide.

    Examples
    --------
    >>> from harmonix.harmonics.laplace_beltrami import icosphere
    >>> basis = laplace_beltrami_basis(icosphere(2), 3, margin=5)
    >>> basis.n_modes, np.round(basis.eigenvalues[1:] / 2, 2).tolist()  # l = 1: l(l+1) = 2, three times
    (4, [1.02, 1.02, 1.02])
    """
    labels = check_mesh(mesh)
    n = mesh.n_vertices
    _check_request(n_modes, margin, n)
    if sigma is not None:
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.number)) or not sigma < 0:
            raise ParameterError(f"sigma must be a negative number (below the zero eigenvalue) or None, got {sigma!r}")
        if not np.isfinite(sigma):
            raise ParameterError(f"sigma must be finite, got {sigma!r}")
    stiffness, mass = cotangent_laplacian(mesh, lump=lump)
    n_compute = min(n_modes + margin + 1, n - 1)
    if sigma is None:
        sigma = -LB_SIGMA_FRACTION * 4.0 * np.pi * n_compute / float(mass.sum())
    if solver not in ("block", "arpack"):
        raise ParameterError(f"solver must be 'block' or 'arpack', got {solver!r}")
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ParameterError(f"block must be an integer >= 1, got {block!r}")
    how: dict = {}
    # The Lanczos products are thin (n x p blocks) and bound by memory traffic:
    # BLAS threads gain little there and, on a busy machine, lose a lot while
    # they wait on each other. The solver's thread budget is `workers`.
    with threadpool_limits(limits=1, user_api="blas"):
        values, vectors = _shift_invert_eigsh(
            stiffness, mass, n_compute, sigma=sigma, seed=seed, tol=tol, n_modes=n_modes, verify=verify,
            solver=solver, block=int(block), workers=workers, labels=labels if split else None, info=how,
        )  # fmt: skip
    values, vectors, info = _finish(values, vectors, n_modes, mass)
    parts = how.get("parts", 1)
    params = {
        "n_requested": int(n_modes),
        "margin": int(margin),
        "lump": bool(lump),
        "sigma": float(sigma),
        "seed": int(seed),
        "tol": float(tol),
        "verify": int(verify),
        "solver": (
            f"block shift-invert Lanczos (block {int(block)}), SuperLU (MMD_AT_PLUS_A)"
            if solver == "block"
            else "arpack shift-invert, SuperLU (MMD_AT_PLUS_A)"
        )
        + (f", {parts} connected parts solved separately" if parts > 1 else ""),
        "parts": int(parts),
        **info,
    }
    return HarmonicBasis(values, vectors, "laplace-beltrami", mass=mass, params=params)


_Solvers = tuple[Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], Callable[[float], int]]
"""A :func:`_complete` solver ``solve(count, found, start)`` and its Sylvester count ``count_below(theta)``."""


def _shift_invert_eigsh(
    stiffness: scipy.sparse.csr_matrix,
    mass: scipy.sparse.csr_matrix,
    k: int,
    *,
    sigma: float,
    seed: int,
    tol: float,
    n_modes: int,
    verify: int = 10,
    solver: str = "block",
    block: int | None = None,
    workers: int | None = None,
    labels: np.ndarray | None = None,
    info: dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` lowest eigenpairs of ``A ψ = λ B ψ`` by shift-invert Lanczos, completed by :func:`_complete`.

    ``solver='block'`` uses :func:`_block_lanczos` (falling back to ARPACK for
    a search too large for the space it lives in), ``'arpack'`` ARPACK mode 3.
    With the connected-component ``labels`` of the vertices, large components
    are solved separately (:func:`_split_eigsh`); ``info['parts']`` is set to
    the number of separate problems solved.
    """
    n = stiffness.shape[0]
    workers = _solve_workers(workers)

    def solvers(a: scipy.sparse.csr_matrix, b: scipy.sparse.csr_matrix, key: tuple[int, ...], threads: int) -> _Solvers:
        return _shift_invert_solvers(a, b, sigma=sigma, key=key, tol=tol, solver=solver, block=block, workers=threads)

    groups = _component_groups(labels, mass, k) if labels is not None else None
    if groups is not None:
        try:
            values, vectors = _split_eigsh(
                stiffness, mass, groups, k, solvers, seed=seed, verify=verify, n_modes=n_modes, workers=workers
            )
            if info is not None:
                info["parts"] = len(groups)
            return values, vectors
        except _SplitFailed:
            pass  # a component ran out of room: solve the whole mesh at once
    solve, count_below = solvers(stiffness, mass, (seed,), workers)
    if info is not None:
        info["parts"] = 1
    return _complete(solve, k, n, seed, verify, n_modes=n_modes, count_below=count_below if verify else None)


def _shift_invert_solvers(
    stiffness: scipy.sparse.csr_matrix,
    mass: scipy.sparse.csr_matrix,
    *,
    sigma: float,
    key: tuple[int, ...],
    tol: float,
    solver: str,
    block: int | None,
    workers: int,
) -> _Solvers:
    """The :func:`_complete` solver of ``A ψ = λ B ψ`` (one LU of ``A - σB``) and its Sylvester count.

    ``key`` seeds the start block's columns after the first.
    """
    lu = _symmetric_lu(stiffness - sigma * mass)
    n = stiffness.shape[0]
    block = LB_BLOCK_SIZE if block is None else block
    block_rng = np.random.default_rng([*key, 1])  # the start block's columns after the first
    solve_block = _parallel_solve(lu, workers)

    def arpack(count: int, found: np.ndarray, start: np.ndarray, weighted_found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        def project(y: np.ndarray) -> np.ndarray:
            return y - found @ (weighted_found.T @ y)

        inverse = scipy.sparse.linalg.LinearOperator((n, n), matvec=lambda z: project(lu.solve(z)), dtype=float)
        return scipy.sparse.linalg.eigsh(
            stiffness, count, mass, sigma=sigma, which="LM", OPinv=inverse,
            ncv=_lanczos_ncv(count, n), tol=tol, v0=project(start),
        )  # fmt: skip

    def solve(count: int, found: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Searching the B-orthogonal complement of the modes found so far.
        weighted_found = mass @ found
        if solver == "block":
            starts = np.column_stack([start, block_rng.uniform(-1.0, 1.0, (n, block - 1))])
            try:
                theta, vectors = _block_lanczos(
                    solve_block, mass, count, found, weighted_found, starts, tol=tol or LB_BLOCK_TOL
                )
                return sigma + 1.0 / theta, vectors
            except _KrylovBreakdown:
                pass  # small or exhausted space: ARPACK handles it
        return arpack(count, found, start, weighted_found)

    def count_below(theta: float) -> int:
        # Sylvester: eigenvalues of the pencil below theta = negative pivots of A - theta B.
        return int(np.count_nonzero(_symmetric_lu(stiffness - theta * mass).U.diagonal() < 0))

    return solve, count_below


class _SplitFailed(Exception):
    """A connected component cannot supply the modes asked of it: solve the whole mesh instead."""


def _component_groups(labels: np.ndarray, mass: scipy.sparse.spmatrix, k: int) -> list[tuple[np.ndarray, int]] | None:
    """Vertex groups for :func:`_split_eigsh` and the number of modes to seek in each, or ``None``.

    Every connected component of at least :data:`LB_SPLIT_MIN_VERTICES`
    vertices is a group; smaller components join the largest. By Weyl's law
    (``N(λ) ≈ area · λ / 4π`` on a surface) a group holds about its area share
    of the ``k`` lowest modes; it is asked for that share plus
    :data:`LB_SPLIT_SAFETY`, one mode per extra component (each has its own
    zero eigenvalue) and two. ``None`` (no split) with fewer than two groups,
    or when a group would need more than a quarter of its vertices.
    """
    labels = np.asarray(labels)
    sizes = np.bincount(labels)
    large = np.flatnonzero(sizes >= LB_SPLIT_MIN_VERTICES)
    if len(large) < 2:
        return None
    owner = np.full(len(sizes), large[np.argmax(sizes[large])])  # small components join the largest
    owner[large] = large
    group_of = owner[labels]
    vertex_area = np.asarray(mass.sum(axis=1)).ravel()
    total = float(vertex_area.sum())
    groups = []
    for component in large:
        members = np.flatnonzero(group_of == component)
        share = k * float(vertex_area[members].sum()) / total
        count = int(np.ceil(share * (1.0 + LB_SPLIT_SAFETY))) + int(np.count_nonzero(owner == component)) + 1
        if count > len(members) // 4:
            return None
        groups.append((members, count))
    return groups


def _split_eigsh(
    stiffness: scipy.sparse.csr_matrix,
    mass: scipy.sparse.csr_matrix,
    groups: list[tuple[np.ndarray, int]],
    k: int,
    solvers: Callable[[scipy.sparse.csr_matrix, scipy.sparse.csr_matrix, tuple[int, ...], int], _Solvers],
    *,
    seed: int,
    verify: int,
    n_modes: int,
    workers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest ``k`` eigenpairs of a block-diagonal pencil, one diagonal block (vertex group) at a time.

    With no edge between groups, ``A`` and ``B`` are block diagonal and every
    eigenvector lives on one group: the spectrum is the union of the groups'
    spectra. Each group is asked for the count of :func:`_component_groups`
    (``workers`` threads solve groups side by side). Then, until nothing is
    missing:

    * **coverage**: a group whose largest eigenvalue found lies below the
      ``k``-th lowest of the union may hold more eigenvalues below it; it is
      asked for more, one and a half times as many as Weyl's law expects in
      between, and two (fewer than ``k`` in all: the shortfall, shared by
      area);
    * **completeness** (``verify``): at the gap where the basis will be cut,
      each group's count of eigenvalues below (Sylvester's law of inertia, as
      in :func:`_complete`) must equal the number found; missing ones are
      sought in the complement of those found.

    Raises :class:`_SplitFailed` when a group has no room for the modes asked.
    """
    n = stiffness.shape[0]
    vertex_area = np.asarray(mass.sum(axis=1)).ravel()
    threads = max(1, min(workers, len(groups)))
    inner = max(1, workers // threads)

    def setup(index: int) -> dict:
        members, count = groups[index]
        sub_a, sub_b = stiffness[members][:, members].tocsr(), mass[members][:, members].tocsr()
        solve, count_below = solvers(sub_a, sub_b, (seed, 2, index), inner)
        rng = np.random.default_rng([seed, 2, index, 0])
        values, vectors = solve(count, np.empty((len(members), 0)), rng.uniform(-1.0, 1.0, len(members)))
        return {
            "members": members, "solve": solve, "count_below": count_below, "rng": rng,
            "values": values, "vectors": vectors, "area": float(vertex_area[members].sum()),
        }  # fmt: skip

    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(setup, range(len(groups))))
    else:
        parts = [setup(index) for index in range(len(groups))]

    total_area = sum(part["area"] for part in parts)
    for _ in range(k):  # each pass adds at least one mode, or stops
        lowest = np.sort(np.concatenate([part["values"] for part in parts]))[:k]
        requests = {}
        if len(lowest) < k:  # too few in all: more from every group, by area
            for index, part in enumerate(parts):
                requests[index] = int(np.ceil((k - len(lowest)) * part["area"] / total_area)) + 2
        else:
            for index, part in enumerate(parts):
                top = float(part["values"].max())
                if top < lowest[-1]:
                    expected = part["area"] * (lowest[-1] - top) / (4.0 * np.pi)
                    requests[index] = int(np.ceil(1.5 * expected)) + 2
        if not requests and verify:
            cut = _spectral_cut(lowest, n_modes)
            if cut < len(lowest):
                theta = 0.5 * (lowest[cut - 1] + lowest[cut])
                for index, part in enumerate(parts):
                    missing = part["count_below"](theta) - int(np.count_nonzero(part["values"] < theta))
                    if missing > 0:
                        requests[index] = missing
        if not requests:
            break
        for index, count in requests.items():
            part = parts[index]
            room = len(part["members"]) - part["vectors"].shape[1] - 2
            if count > room:
                raise _SplitFailed(f"vertex group {index} has room for {room} more modes, {count} asked")
            start = part["rng"].uniform(-1.0, 1.0, len(part["members"]))
            values, vectors = part["solve"](count, part["vectors"], start)
            part["values"] = np.concatenate([part["values"], values])
            part["vectors"] = np.column_stack([part["vectors"], vectors])

    values = np.concatenate([part["values"] for part in parts])
    owner = np.concatenate([np.full(len(part["values"]), index) for index, part in enumerate(parts)])
    column = np.concatenate([np.arange(len(part["values"])) for part in parts])
    order = np.argsort(values, kind="stable")[:k]
    vectors = np.zeros((n, len(order)))
    for index, part in enumerate(parts):
        mine = np.flatnonzero(owner[order] == index)
        vectors[np.ix_(part["members"], mine)] = part["vectors"][:, column[order[mine]]]
    return values[order], vectors


class _KrylovBreakdown(Exception):
    """The block Krylov space cannot grow (too small a problem, rank loss) or did not converge."""


def _solve_workers(workers: int | None) -> int:
    if workers is None:
        return max(1, min(LB_MAX_WORKERS, os.cpu_count() or 1))
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ParameterError(f"workers must be an integer >= 1 or None, got {workers!r}")
    return int(workers)


def _parallel_solve(lu: Any, workers: int) -> Callable[[np.ndarray], np.ndarray]:
    """``lu.solve`` on the columns of a block, split over ``workers`` threads (SuperLU releases the GIL).

    Each SuperLU call gets at most :data:`_SOLVE_CHUNK` columns: its cost per
    right-hand side grows past that (16 columns cost about 2.4 times 8).
    """

    def chunks(rhs: np.ndarray) -> np.ndarray:
        if rhs.shape[1] <= _SOLVE_CHUNK:
            return lu.solve(np.asfortranarray(rhs))
        out = np.empty(rhs.shape, order="F")
        for first in range(0, rhs.shape[1], _SOLVE_CHUNK):
            out[:, first : first + _SOLVE_CHUNK] = lu.solve(np.asfortranarray(rhs[:, first : first + _SOLVE_CHUNK]))
        return out

    if workers == 1:
        return chunks

    def solve(rhs: np.ndarray) -> np.ndarray:
        parts = np.array_split(np.arange(rhs.shape[1]), min(workers, rhs.shape[1]))
        out = np.empty_like(rhs)
        with ThreadPoolExecutor(len(parts)) as pool:
            for part, result in zip(parts, pool.map(lambda idx: chunks(rhs[:, idx]), parts)):
                out[:, part] = result
        return out

    return solve


def _b_orthonormalize(block: np.ndarray, mass: scipy.sparse.spmatrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``block = Q R`` with ``Q^T B Q = I`` by Cholesky QR; returns ``Q, R, B Q``.

    One pass leaves ``|Q^T B Q - I|`` of about ``ε κ(R)²``: a second pass
    (CholQR2) is made only when ``κ(R)`` exceeds :data:`_CHOLQR_MAX_COND`
    (the Lanczos blocks, already orthogonal to the basis, have ``κ`` of a few
    units, so one pass is the rule). The tall ``n × p`` factors are multiplied
    by the ``p × p`` inverse of the Cholesky factor (one matrix product)
    rather than solved against it.
    """
    identity = np.eye(block.shape[1])
    factor = identity
    for _ in range(2):
        weighted = mass @ block
        upper = _cholesky_upper(block.T @ weighted)
        inverse = scipy.linalg.solve_triangular(upper, identity, check_finite=False)
        block = block @ inverse
        weighted = weighted @ inverse
        factor = upper @ factor
        if np.linalg.cond(upper) <= _CHOLQR_MAX_COND:
            break
    return block, factor, weighted


def _cholesky_upper(gram: np.ndarray) -> np.ndarray:
    try:
        upper = np.linalg.cholesky(gram).T
    except np.linalg.LinAlgError as error:
        raise _KrylovBreakdown("rank loss in the Krylov block") from error
    if np.min(np.diag(upper)) < 1e-7 * np.max(np.diag(upper)):
        raise _KrylovBreakdown("rank loss in the Krylov block")
    return upper


def _block_lanczos(
    solve: Callable[[np.ndarray], np.ndarray],
    mass: scipy.sparse.spmatrix,
    count: int,
    found: np.ndarray,
    weighted_found: np.ndarray,
    starts: np.ndarray,
    *,
    tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Largest ``count`` eigenpairs ``θ`` of ``(A - σB)^{-1} B`` in the B-complement of ``found``.

    Block Lanczos (block size ``p = starts.shape[1]``) with full
    reorthogonalisation, without restarts. What makes it faster than ARPACK
    for a few hundred modes is the memory traffic of reorthogonalisation: ARPACK
    orthogonalises one vector at a time against the whole basis (matrix–vector
    products, which stream the ``n × m`` basis from memory once per vector),
    a block method ``p`` vectors at a time (matrix–matrix products, one pass
    per block). The shift-invert solves are done for the whole block, split
    over threads. A block of ``p`` random vectors also sees up to ``p``
    partners of a degenerate eigenvalue (the completeness check of
    :func:`_complete` catches the rest).

    The Rayleigh–Ritz step uses the block-tridiagonal Lanczos matrix (band
    ``p``); a Ritz pair is accepted when its residual (the B-norm of
    ``(A - σB)^{-1} B y - θ y``, read off the last block row of the Ritz
    vector) is at most ``tol · θ``. Ritz values are accurate to the square of
    that (``tol = 1e-8`` gives eigenvalues to ~1e-14 relative on the cortical
    mesh). Each check costs a dense eigendecomposition of the Lanczos matrix,
    so the next one is placed where the worst residual, extrapolated
    geometrically from the last two checks, reaches ``tol``
    (:func:`_next_check`). Raises :class:`_KrylovBreakdown` when the space is
    too small for the search or the block loses rank.
    """
    n, p = starts.shape
    room = n - found.shape[1]
    max_dim = min(room - 2 * p, max(LB_MAX_KRYLOV_FACTOR * count, 8 * p) + p)
    if max_dim < 2 * count + 2 * p:
        raise _KrylovBreakdown("problem too small for a block Krylov search")

    def deflate(block: np.ndarray) -> np.ndarray:
        if found.shape[1]:
            block -= found @ (weighted_found.T @ block)
        return block

    basis = np.empty((n, max_dim + p), order="F")
    tmatrix = np.zeros((max_dim + p, max_dim + p))  # the block-tridiagonal Lanczos matrix
    basis[:, :p], _, weighted = _b_orthonormalize(deflate(np.array(starts, dtype=float)), mass)
    m = p
    next_check = int(2.5 * count) + 2 * p  # shift-invert searches converge at about 3-4 times `count`
    previous: tuple[int, float] | None = None  # (m, worst relative residual) at the last check
    while True:
        new = deflate(solve(weighted))
        coefficients = basis[:, :m].T @ (mass @ new)  # full reorthogonalisation, one BLAS-3 pass
        new -= basis[:, :m] @ coefficients
        new, upper, weighted = _b_orthonormalize(deflate(new), mass)
        tmatrix[m - p : m, m - p : m] = 0.5 * (coefficients[m - p :] + coefficients[m - p :].T)
        tmatrix[m : m + p, m - p : m] = upper
        tmatrix[m - p : m, m : m + p] = upper.T
        if m >= next_check or m + p > max_dim:
            theta, ritz = scipy.linalg.eigh(
                tmatrix[:m, :m], subset_by_index=(m - count, m - 1), check_finite=False, driver="evr"
            )
            theta, ritz = theta[::-1], ritz[:, ::-1]
            residual = np.linalg.norm(upper @ ritz[m - p :], axis=0)
            if theta[-1] > 0 and np.all(residual <= tol * theta):
                return theta, basis[:, :m] @ ritz
            worst = float(np.max(residual / theta)) if theta[-1] > 0 else np.inf
            next_check = m + _next_check(m, p, worst, previous, tol)
            previous = (m, worst)
        if m + p > max_dim:
            raise _KrylovBreakdown("block Lanczos did not converge")
        basis[:, m : m + p] = new
        m += p


def _next_check(m: int, p: int, worst: float, previous: tuple[int, float] | None, tol: float) -> int:
    """Lanczos steps (columns) to the next convergence check of :func:`_block_lanczos`.

    Residuals of the slowest Ritz pair fall about geometrically with the
    dimension ``m``: the rate between the last two checks predicts where
    ``worst`` reaches ``tol`` (at least one block, at most a quarter of ``m``
    ahead). Without a rate (first check, no progress): 10 % of ``m``, at least
    two blocks.
    """
    if previous is None or not 0.0 < worst < previous[1] or m <= previous[0]:
        return max(2 * p, int(0.1 * m))
    rate = np.log(worst / previous[1]) / (m - previous[0])  # < 0
    return int(min(max(np.log(tol / worst) / rate, p), 0.25 * m))


def _complete(
    solve: Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    k: int,
    n: int,
    seed: int,
    verify: int,
    *,
    n_modes: int,
    count_below: Callable[[float], int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest ``k`` eigenpairs, with a search for eigenvectors a Lanczos run missed.

    From one start vector, Lanczos (in exact arithmetic) sees one direction per
    eigenspace: with exactly degenerate eigenvalues (symmetric meshes, cycle
    graphs) a run can return one partner of a pair and skip the other.

    * With ``count_below`` (the number of eigenvalues below a value, from
      Sylvester's law of inertia), the count below the gap where the basis
      will be cut is checked, and exactly the missing number of modes is
      sought in the complement of those found.
    * Without it, ``verify`` more modes are sought in the complement; any below
      the largest of the ``k`` lowest joins them, until nothing lower is found.

    ``solve(count, found, start)`` returns the ``count`` lowest eigenpairs in
    the complement of the columns of ``found`` (orthogonal in the problem's
    inner product).
    """
    rng = np.random.default_rng(seed)
    values, vectors = solve(k, np.empty((n, 0)), rng.uniform(-1.0, 1.0, n))
    for _ in range(k):  # each pass adds at least one mode, or stops
        order = np.argsort(values, kind="stable")
        lowest = values[order][:k]
        if count_below is not None:
            cut = _spectral_cut(lowest, n_modes)
            if cut >= len(lowest):
                break
            missing = count_below(0.5 * (lowest[cut - 1] + lowest[cut])) - cut
            if missing <= 0:
                break
            count = min(missing, n - vectors.shape[1] - 2)
        else:
            count = min(verify, n - vectors.shape[1] - 2)
        if count < 1:
            break
        extra_values, extra_vectors = solve(count, vectors, rng.uniform(-1.0, 1.0, n))
        scale = max(abs(lowest[-1]), np.finfo(float).tiny)
        if count_below is None and extra_values.min() > lowest[-1] + _DEGENERACY_RTOL * scale:
            break
        values = np.concatenate([values, extra_values])
        vectors = np.column_stack([vectors, extra_vectors])
    order = np.argsort(values, kind="stable")[:k]
    return values[order], vectors[:, order]


def _symmetric_lu(matrix: scipy.sparse.spmatrix) -> Any:
    """SuperLU ``P M P^T = L U`` without pivoting, so that ``U = D L^T`` for symmetric ``M``."""
    return scipy.sparse.linalg.splu(
        matrix.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )


# --------------------------------------------------------------------------- graphs


def graph_basis(
    laplacian: scipy.sparse.spmatrix,
    n_modes: int,
    *,
    kind: str = "graph-normalized",
    margin: int = 10,
    seed: int = 0,
    tol: float = 1e-10,
    verify: int = 10,
    solver: str = "auto",
    max_fill: float = GRAPH_MAX_LU_FILL,
) -> HarmonicBasis:
    """Lowest eigenvectors of a symmetric graph Laplacian (connectome harmonics).

    The graph must be connected, so that the null space is one-dimensional and
    known in closed form: ``ψ_0 ∝ D^{1/2} 1`` for the normalised Laplacian
    ``L = I - D^{-1/2} W D^{-1/2}`` and ``ψ_0 = 1 / sqrt(n)`` for the
    combinatorial ``L = D - W`` (``D``: the
    degrees); after the solve ``λ_0`` is set to 0 and ``ψ_0`` to that closed
    form.

    Solvers (``solver``):

    * ``'shift-invert'``: block Lanczos on ``(L - σ I)^{-1}`` with a sparse LU,
      as for Laplace–Beltrami (:func:`_block_lanczos`, ARPACK for searches too
      small for it), with the exact completeness count of Sylvester's law
      of inertia. Fast, but long-range edges destroy the separators that keep
      LU fill-in small: a vertex-level tractography connectome can make the
      factors nearly dense.
    * ``'lanczos'``: ARPACK for the *largest* eigenvalues of ``c I - L``, with
      ``c`` an upper bound of the spectrum (2 for the normalised Laplacian
      [1]_, the Gershgorin bound ``max_i 2 D_ii`` for the combinatorial one).
      Only matrix–vector products, so no fill-in, but the clustered low end of
      a cortical spectrum converges slowly (several times slower).
      (LOBPCG would also avoid factorisation but needs a good preconditioner;
      Jacobi, all scipy offers, is weak for a near-uniform degree graph.)
    * ``'auto'`` (default): factorise ``L - σ I`` and use shift-invert when
      the factors hold at most ``max_fill`` times the non-zeros of ``L``
      (the default connectome, with about 900 region-level long-range edges,
      fills about 6x); otherwise fall back to ``'lanczos'``. Graphs with more
      than :data:`GRAPH_MAX_LU_VERTICES` vertices skip the trial factorisation.

    Parameters
    ----------
    laplacian : sparse matrix, shape (n_vertices, n_vertices)
        Symmetric Laplacian of a connected graph.
    n_modes : int
        Number of harmonics wanted, including ``ψ_0``; between ``n_modes`` and
        ``n_modes + margin`` are returned (cut at the largest gap).
    kind : {'graph-normalized', 'graph-combinatorial'}
        Which Laplacian ``laplacian`` is; sets ``c`` and ``ψ_0``.
    margin : int
        Extra modes computed to find a spectral gap.
    seed : int
        Seed of the Lanczos start vector.
    tol : float
        Relative accuracy of the Ritz values of ``c I - L``.
    verify : int
        Completeness check for degenerate partners a single Lanczos run can
        miss (``0``: none). Shift-invert: any non-zero value counts the
        eigenvalues below the cut by Sylvester's law of inertia (one more LU)
        and solves for exactly the missing ones. Lanczos (no factorisation):
        size of each extra search in the complement of the modes found.
    solver : {'auto', 'shift-invert', 'lanczos'}
        See above.
    max_fill : float
        Largest LU fill ratio ``nnz(L_f + U_f) / nnz(L)`` that ``'auto'``
        accepts for shift-invert.

    Returns
    -------
    HarmonicBasis
        Orthonormal harmonics (``max |Ψ^T Ψ - I| < 1e-10``).

    References
    ----------
    .. [1] Atasoy, Donnelly & Pearson (2016), Nature Communications 7:10340.

    Examples
    --------
    >>> n = 12  # cycle graph: normalised eigenvalues 1 - cos(2 pi j / n), in pairs
    >>> w = scipy.sparse.diags([np.ones(n - 1), np.ones(n - 1), [1.0], [1.0]], [1, -1, n - 1, 1 - n])
    >>> basis = graph_basis(scipy.sparse.eye(n) - w / 2, 4, margin=2)
    >>> basis.n_modes, np.round(basis.eigenvalues, 3).tolist()  # the pair at j = 2 is kept whole
    (5, [0.0, 0.134, 0.134, 0.5, 0.5])
    """
    if kind not in ("graph-normalized", "graph-combinatorial"):
        raise ParameterError(f"graph basis kind must be 'graph-normalized' or 'graph-combinatorial', got {kind!r}")
    laplacian = _check_laplacian(laplacian)
    n = laplacian.shape[0]
    _check_request(n_modes, margin, n)
    degrees = laplacian.diagonal()
    if kind == "graph-normalized":
        if not np.allclose(degrees, 1.0):
            raise ParameterError("a normalised Laplacian has ones on its diagonal; pass kind='graph-combinatorial'?")
        bound = 2.0
    else:
        bound = float(2.0 * degrees.max())

    if solver not in ("auto", "shift-invert", "lanczos"):
        raise ParameterError(f"solver must be 'auto', 'shift-invert' or 'lanczos', got {solver!r}")
    n_compute = min(n_modes + margin + 1, n - 1)
    sigma = -1e-3 * bound / 2.0
    fill = _lu_fill(laplacian, sigma) if solver == "shift-invert" or (solver == "auto" and n <= GRAPH_MAX_LU_VERTICES) else None
    # Single-threaded BLAS: Lanczos is bound by memory traffic, and BLAS threads
    # waiting on each other cost several times the solve on a busy machine.
    with threadpool_limits(limits=1, user_api="blas"):
        if solver == "shift-invert" or (fill is not None and fill <= max_fill):
            identity = scipy.sparse.identity(n, format="csr")
            values, vectors = _shift_invert_eigsh(
                laplacian, identity, n_compute, sigma=sigma, seed=seed, tol=0.0, n_modes=n_modes, verify=verify,
                solver="block", workers=1,
            )  # fmt: skip
            description = (
                f"block shift-invert Lanczos (sigma={sigma:g}), SuperLU fill {fill:.1f}x, null mode in closed form"
            )
        else:
            flipped = _flipped_lanczos(laplacian, bound, tol)
            values, vectors = _complete(flipped, n_compute, n, seed, verify, n_modes=n_modes)
            fill_note = f" (LU fill {fill:.0f}x > {max_fill:g}x)" if fill is not None else ""
            description = f"arpack lanczos on {bound:g} I - L{fill_note}, null mode in closed form"
    order = np.argsort(values, kind="stable")
    values, vectors = values[order], vectors[:, order]
    _replace_null_mode(values, vectors, kind)
    values, vectors, info = _finish(values, vectors, n_modes, None)
    params = {
        "n_requested": int(n_modes),
        "margin": int(margin),
        "seed": int(seed),
        "tol": float(tol),
        "verify": int(verify),
        "solver": description,
        **info,
    }
    return HarmonicBasis(values, vectors, kind, params=params)


def _lu_fill(laplacian: scipy.sparse.csr_matrix, sigma: float) -> float:
    """Fill ratio ``nnz(L_f + U_f) / nnz(L)`` of the symmetric LU of ``L - σ I``."""
    lu = _symmetric_lu(laplacian - sigma * scipy.sparse.identity(laplacian.shape[0]))
    return (lu.L.nnz + lu.U.nnz) / laplacian.nnz


def _flipped_lanczos(
    laplacian: scipy.sparse.csr_matrix, bound: float, tol: float
) -> Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A :func:`_complete` solver: the lowest eigenpairs of ``L`` as the largest of ``c I - L``."""
    n = laplacian.shape[0]

    def solve(count: int, found: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        def project(x: np.ndarray) -> np.ndarray:
            return x - found @ (found.T @ x)

        def flipped(x: np.ndarray) -> np.ndarray:
            x = project(x)
            return project(bound * x - laplacian @ x)

        operator = scipy.sparse.linalg.LinearOperator((n, n), matvec=flipped, matmat=flipped, dtype=float)
        values, vectors = scipy.sparse.linalg.eigsh(
            operator, count, which="LA", v0=project(start), tol=tol, ncv=_lanczos_ncv(count, n)
        )
        return bound - values, vectors

    return solve


def _check_laplacian(laplacian: scipy.sparse.spmatrix) -> scipy.sparse.csr_matrix:
    if not scipy.sparse.issparse(laplacian) or laplacian.ndim != 2 or laplacian.shape[0] != laplacian.shape[1]:
        raise ParameterError(f"the Laplacian must be a square sparse matrix, got {type(laplacian).__name__}")
    laplacian = scipy.sparse.csr_matrix(laplacian, dtype=float)
    if not np.isfinite(laplacian.data).all():
        raise ParameterError("the Laplacian has NaN or infinite entries")
    asymmetry = abs(laplacian - laplacian.T).max() if laplacian.nnz else 0.0
    if asymmetry > 1e-10 * max(abs(laplacian).max(), 1.0):
        raise ParameterError(f"the Laplacian must be symmetric (max |L - L^T| = {asymmetry:.3g})")
    off = laplacian - scipy.sparse.diags(laplacian.diagonal())
    n_components, labels = scipy.sparse.csgraph.connected_components(off, directed=False)
    if n_components > 1:
        sizes = np.bincount(labels)
        raise ParameterError(
            f"the graph has {n_components} connected components (sizes {sorted(sizes.tolist(), reverse=True)[:5]}); "
            "connectome harmonics need one connected graph: add long-range edges that join the parts"
        )
    return laplacian


def _lanczos_ncv(k: int, n: int) -> int:
    """Lanczos basis size: ARPACK's default ``2k + 1`` for few modes, ``1.3 k`` for many.

    Reorthogonalisation costs ``O(n ncv^2)`` per restart; past a few dozen modes
    a shorter basis with a few more restarts is faster overall.
    """
    return min(n, 2 * k + 1 if k < 40 else int(1.3 * k) + 20)


def _replace_null_mode(values: np.ndarray, vectors: np.ndarray, kind: str) -> None:
    """Set ``λ_0 = 0`` and ``ψ_0`` to its closed form, in place.

    Combinatorial: ``ψ_0 = 1 / sqrt(n)``. Normalised: ``ψ_0 ∝ D^{1/2} 1`` is
    positive everywhere, so ``|ψ_0|`` (renormalised) removes round-off signs
    without needing the degrees. Both are exact null vectors of a connected graph.
    """
    n = vectors.shape[0]
    scale = max(abs(values[-1]), 1.0)
    if abs(values[0]) > 1e-8 * scale or values[1] < 1e-8 * scale:
        raise ParameterError(
            f"expected exactly one zero eigenvalue for a connected graph Laplacian, got {values[:2].tolist()}; "
            "is the matrix a Laplacian (rows summing to zero, or the normalised form)?"
        )
    values[0] = 0.0
    null = np.full(n, 1.0 / np.sqrt(n)) if kind == "graph-combinatorial" else np.abs(vectors[:, 0])
    vectors[:, 0] = null / np.linalg.norm(null)

