"""Sparse symmetric eigensolvers for the harmonic bases: shift-invert block Lanczos and its helpers.

The lowest eigenpairs of a symmetric pencil ``A ψ = λ B ψ`` (``B`` positive
definite: the mass matrix of a mesh, or the identity for a graph), as
:mod:`harmonix.harmonics.basis` needs them:

* :func:`shift_invert_eigsh`: shift-invert Lanczos on ``(A - σ B)^{-1} B``,
  which maps the eigenvalues nearest ``σ`` to the largest ones (ARPACK mode 3,
  [1]_). One sparse LU of ``A - σ B`` (:func:`symmetric_lu`: SuperLU,
  symmetric mode, minimum degree ordering on ``A + A^T``, no pivoting) serves
  every solve. By default the Lanczos is a block one (:func:`block_lanczos`)
  whose full reorthogonalisation is matrix–matrix products and whose solves run
  on whole blocks in threads (:func:`parallel_solve`); ARPACK is the fallback
  for searches too large for the space they live in, and an option.
* Connected components (the two hemispheres of a cortex) make ``A`` and ``B``
  block diagonal, so the spectrum is the union of the components' spectra:
  :func:`component_groups` picks the vertex groups and how many modes to seek
  in each (Weyl's law, ``N(λ) ≈ area · λ / 4π`` on a surface), and each group
  is solved on its own.
* A single Lanczos run sees, in exact arithmetic, one direction per eigenspace
  and can miss a partner of a degenerate eigenvalue. :func:`complete` searches
  the complement of the modes found: with a factorisation, the number of
  eigenvalues below the cut of the basis (:func:`spectral_cut`) is counted by
  Sylvester's law of inertia (the negative pivots of ``A - θ B``) and exactly
  the missing ones are sought.
* Graphs whose LU fills in (:func:`lu_fill`) are solved without factorising:
  :func:`flipped_lanczos` finds the lowest eigenpairs of ``L`` as the largest
  of ``c I - L``.

The solvers return eigenpairs sorted by eigenvalue but in no fixed gauge; the
cut at a spectral gap, the gauge and the final orthonormalisation are
:func:`harmonix.harmonics.basis._finish`'s.

References
----------
.. [1] R. B. Lehoucq, D. C. Sorensen and C. Yang, "ARPACK Users' Guide", SIAM, 1998.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from harmonix.errors import ParameterError

LB_BLOCK_SIZE = 8
"""Block size of the Laplace–Beltrami block Lanczos solver (``solver='block'``)."""

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

DEGENERACY_RTOL = 1e-8
"""Eigenvalues closer than this times the spectral scale count as one degenerate cluster."""

_SOLVE_CHUNK = 8  # columns per SuperLU solve call
_CHOLQR_MAX_COND = 10.0  # one Cholesky QR pass leaves ~1e-16 * cond^2 of B-orthogonality error


_Solvers = tuple[Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], Callable[[float], int]]
"""A :func:`complete` solver ``solve(count, found, start)`` and its Sylvester count ``count_below(theta)``."""


def shift_invert_eigsh(
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
    """``k`` lowest eigenpairs of ``A ψ = λ B ψ`` by shift-invert Lanczos, completed by :func:`complete`.

    ``solver='block'`` uses :func:`block_lanczos` (falling back to ARPACK for
    a search too large for the space it lives in), ``'arpack'`` ARPACK mode 3.
    With the connected-component ``labels`` of the vertices, large components
    are solved separately (:func:`_split_eigsh`); ``info['parts']`` is set to
    the number of separate problems solved.
    """
    n = stiffness.shape[0]
    workers = _solve_workers(workers)

    def solvers(a: scipy.sparse.csr_matrix, b: scipy.sparse.csr_matrix, key: tuple[int, ...], threads: int) -> _Solvers:
        return _shift_invert_solvers(a, b, sigma=sigma, key=key, tol=tol, solver=solver, block=block, workers=threads)

    groups = component_groups(labels, mass, k) if labels is not None else None
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
    return complete(solve, k, n, seed, verify, n_modes=n_modes, count_below=count_below if verify else None)


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
    """The :func:`complete` solver of ``A ψ = λ B ψ`` (one LU of ``A - σB``) and its Sylvester count.

    ``key`` seeds the start block's columns after the first.
    """
    lu = symmetric_lu(stiffness - sigma * mass)
    n = stiffness.shape[0]
    block = LB_BLOCK_SIZE if block is None else block
    block_rng = np.random.default_rng([*key, 1])  # the start block's columns after the first
    solve_block = parallel_solve(lu, workers)

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
                theta, vectors = block_lanczos(
                    solve_block, mass, count, found, weighted_found, starts, tol=tol or LB_BLOCK_TOL
                )
                return sigma + 1.0 / theta, vectors
            except _KrylovBreakdown:
                pass  # small or exhausted space: ARPACK handles it
        return arpack(count, found, start, weighted_found)

    def count_below(theta: float) -> int:
        # Sylvester: eigenvalues of the pencil below theta = negative pivots of A - theta B.
        return int(np.count_nonzero(symmetric_lu(stiffness - theta * mass).U.diagonal() < 0))

    return solve, count_below


class _SplitFailed(Exception):
    """A connected component cannot supply the modes asked of it: solve the whole mesh instead."""


def component_groups(labels: np.ndarray, mass: scipy.sparse.spmatrix, k: int) -> list[tuple[np.ndarray, int]] | None:
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
    spectra. Each group is asked for the count of :func:`component_groups`
    (``workers`` threads solve groups side by side). Then, until nothing is
    missing:

    * **coverage**: a group whose largest eigenvalue found lies below the
      ``k``-th lowest of the union may hold more eigenvalues below it; it is
      asked for more, one and a half times as many as Weyl's law expects in
      between, and two (fewer than ``k`` in all: the shortfall, shared by
      area);
    * **completeness** (``verify``): at the gap where the basis will be cut,
      each group's count of eigenvalues below (Sylvester's law of inertia, as
      in :func:`complete`) must equal the number found; missing ones are
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
            cut = spectral_cut(lowest, n_modes)
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


def parallel_solve(lu: Any, workers: int) -> Callable[[np.ndarray], np.ndarray]:
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


def b_orthonormalize(block: np.ndarray, mass: scipy.sparse.spmatrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def block_lanczos(
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
    :func:`complete` catches the rest).

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
    basis[:, :p], _, weighted = b_orthonormalize(deflate(np.array(starts, dtype=float)), mass)
    m = p
    next_check = int(2.5 * count) + 2 * p  # shift-invert searches converge at about 3-4 times `count`
    previous: tuple[int, float] | None = None  # (m, worst relative residual) at the last check
    while True:
        new = deflate(solve(weighted))
        coefficients = basis[:, :m].T @ (mass @ new)  # full reorthogonalisation, one BLAS-3 pass
        new -= basis[:, :m] @ coefficients
        new, upper, weighted = b_orthonormalize(deflate(new), mass)
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
    """Lanczos steps (columns) to the next convergence check of :func:`block_lanczos`.

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


def complete(
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
            cut = spectral_cut(lowest, n_modes)
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
        if count_below is None and extra_values.min() > lowest[-1] + DEGENERACY_RTOL * scale:
            break
        values = np.concatenate([values, extra_values])
        vectors = np.column_stack([vectors, extra_vectors])
    order = np.argsort(values, kind="stable")[:k]
    return values[order], vectors[:, order]


def symmetric_lu(matrix: scipy.sparse.spmatrix) -> Any:
    """SuperLU ``P M P^T = L U`` without pivoting, so that ``U = D L^T`` for symmetric ``M``."""
    return scipy.sparse.linalg.splu(
        matrix.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )


def spectral_cut(eigenvalues: np.ndarray, n_modes: int) -> int:
    """Number of modes to keep: the cut in ``n_modes .. len(eigenvalues) - 1`` before the largest gap.

    ``eigenvalues`` must be sorted and hold at least one value beyond the
    largest cut, so that every candidate cut has a known gap after it.
    """
    candidates = np.arange(n_modes, len(eigenvalues))
    if candidates.size == 0:
        return n_modes
    gaps = eigenvalues[candidates] - eigenvalues[candidates - 1]
    return int(candidates[np.argmax(gaps)])  # argmax: the smallest cut among equal gaps


def lu_fill(laplacian: scipy.sparse.csr_matrix, sigma: float) -> float:
    """Fill ratio ``nnz(L_f + U_f) / nnz(L)`` of the symmetric LU of ``L - σ I``."""
    lu = symmetric_lu(laplacian - sigma * scipy.sparse.identity(laplacian.shape[0]))
    return (lu.L.nnz + lu.U.nnz) / laplacian.nnz


def flipped_lanczos(
    laplacian: scipy.sparse.csr_matrix, bound: float, tol: float
) -> Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A :func:`complete` solver: the lowest eigenpairs of ``L`` as the largest of ``c I - L``."""
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


def _lanczos_ncv(k: int, n: int) -> int:
    """Lanczos basis size: ARPACK's default ``2k + 1`` for few modes, ``1.3 k`` for many.

    Reorthogonalisation costs ``O(n ncv^2)`` per restart; past a few dozen modes
    a shorter basis with a few more restarts is faster overall.
    """
    return min(n, 2 * k + 1 if k < 40 else int(1.3 * k) + 20)
