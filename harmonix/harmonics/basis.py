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
   fill-reducing ordering), so Laplace–Beltrami modes use shift-invert Lanczos
   (:mod:`harmonix.harmonics.eigensolve`): by default a block Lanczos
   (:func:`~harmonix.harmonics.eigensolve.block_lanczos`) whose
   reorthogonalisation is matrix–matrix products and whose solves run on
   whole blocks in threads, with ARPACK as the fallback and as an option.
   The connected components of a mesh (the two hemispheres of a cortex) are
   independent eigenproblems and are solved separately
   (:func:`~harmonix.harmonics.eigensolve._split_eigsh`).
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

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
from threadpoolctl import threadpool_limits

from harmonix.errors import ParameterError
from harmonix.harmonics.eigensolve import (
    DEGENERACY_RTOL,
    LB_BLOCK_SIZE,
    complete,
    flipped_lanczos,
    lu_fill,
    shift_invert_eigsh,
    spectral_cut,
)
from harmonix.harmonics.laplace_beltrami import cotangent_laplacian
from harmonix.harmonics.mesh import TriMesh, check_mesh

BASIS_KINDS = ("graph-normalized", "graph-combinatorial", "laplace-beltrami")
"""Accepted values of :attr:`HarmonicBasis.kind`."""

GRAPH_MAX_LU_FILL = 30.0
"""Largest LU fill ratio at which :func:`graph_basis` uses shift-invert (``solver='auto'``)."""

GRAPH_MAX_LU_VERTICES = 200_000
"""Above this many vertices ``solver='auto'`` does not try a factorisation (a dense fill would not fit)."""

LB_SIGMA_FRACTION = 0.01
"""Default Laplace–Beltrami shift: ``σ = -LB_SIGMA_FRACTION · 4π k / area`` (Weyl's estimate of ``λ_k``)."""

_CACHE_FORMAT = 1  # bump when the .npz layout or the gauge convention changes
_GAUGE_SEED = 0  # probe vectors of the gauge convention; part of the cache key via _CACHE_FORMAT
_ORTHO_TOL = 1e-10


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
    for cluster in _degenerate_clusters(eigenvalues, DEGENERACY_RTOL):
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
    keep = spectral_cut(values, n_modes)
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
    of at least :data:`~harmonix.harmonics.eigensolve.LB_SPLIT_MIN_VERTICES`
    vertices is solved on its own (see
    :func:`~harmonix.harmonics.eigensolve._split_eigsh`), the same eigenproblem
    at a fraction of the cost (reorthogonalisation grows with the square of the
    modes sought).

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
        reorthogonalisation (see
        :func:`~harmonix.harmonics.eigensolve.block_lanczos`; ``tol=0`` means a
        Ritz residual of :data:`~harmonix.harmonics.eigensolve.LB_BLOCK_TOL`,
        which gives eigenvalues to about machine precision, since their error
        is quadratic in the residual); searches too large for the mesh fall
        back to ARPACK.
        ``'arpack'``: ARPACK mode 3 as LaPy does.
    block : int
        Block size of ``solver='block'``.
    workers : int or None
        Threads of the solver (``None``: up to
        :data:`~harmonix.harmonics.eigensolve.LB_MAX_WORKERS`, at most the CPU
        count): with ``split``, components are solved side by
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
        values, vectors = shift_invert_eigsh(
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
      as for Laplace–Beltrami
      (:func:`~harmonix.harmonics.eigensolve.block_lanczos`, ARPACK for
      searches too small for it), with the exact completeness count of
      Sylvester's law of inertia. Fast, but long-range edges destroy the separators that keep
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
    fill = lu_fill(laplacian, sigma) if solver == "shift-invert" or (solver == "auto" and n <= GRAPH_MAX_LU_VERTICES) else None
    # Single-threaded BLAS: Lanczos is bound by memory traffic, and BLAS threads
    # waiting on each other cost several times the solve on a busy machine.
    with threadpool_limits(limits=1, user_api="blas"):
        if solver == "shift-invert" or (fill is not None and fill <= max_fill):
            identity = scipy.sparse.identity(n, format="csr")
            values, vectors = shift_invert_eigsh(
                laplacian, identity, n_compute, sigma=sigma, seed=seed, tol=0.0, n_modes=n_modes, verify=verify,
                solver="block", workers=1,
            )  # fmt: skip
            description = (
                f"block shift-invert Lanczos (sigma={sigma:g}), SuperLU fill {fill:.1f}x, null mode in closed form"
            )
        else:
            flipped = flipped_lanczos(laplacian, bound, tol)
            values, vectors = complete(flipped, n_compute, n, seed, verify, n_modes=n_modes)
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
