"""The on-disk cache of harmonic bases: keys, atomic writes, and checks on load.

A basis is stored as ``<sha256>.npz`` (no pickles) under
:func:`default_cache_dir`; the key hashes everything the basis depends on
(:func:`cache_key`). The key inside a file only says which problem the file
claims to solve, not that its contents solve it, so :func:`cached_basis`
checks every entry on load by what a basis must satisfy
(:func:`basis_validator`: eigen-equation residual and orthonormality on a few
modes and a random combination of the rest) and recomputes, with a
:class:`HarmonicCacheWarning`, an entry that is unreadable or fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from harmonix import __version__
from harmonix.errors import ParameterError
from harmonix.harmonics.basis import _CACHE_FORMAT, BASIS_KINDS, HarmonicBasis
from harmonix.harmonics.eigensolve import LB_BLOCK_TOL



def default_cache_dir() -> Path:
    """``$HARMONIX_CACHE`` if set, else ``~/.cache/harmonix``."""
    return Path(os.environ.get("HARMONIX_CACHE") or Path.home() / ".cache" / "harmonix")


def cache_key(key_parts: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of ``key_parts``, the harmonix version and the cache format.

    Arrays are hashed by dtype, shape and bytes (C order); sparse matrices by
    their CSR arrays; dataclasses (e.g. :class:`TriMesh`) field by field;
    mappings in sorted key order; scalars and strings by type and ``repr``.
    """
    digest = hashlib.sha256()
    _hash_into(digest, {"harmonix": __version__, "format": _CACHE_FORMAT, "parts": dict(key_parts)})
    return digest.hexdigest()


def _hash_into(digest: Any, value: Any) -> None:
    def tag(label: str) -> None:
        digest.update(label.encode() + b"\0")

    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        tag(f"ndarray:{array.dtype.str}:{array.shape}")
        digest.update(array.tobytes())
    elif scipy.sparse.issparse(value):
        matrix = scipy.sparse.csr_matrix(value)
        matrix.sum_duplicates()
        matrix.sort_indices()
        tag(f"sparse:{matrix.shape}")
        for array in (matrix.data, matrix.indices.astype(np.int64), matrix.indptr.astype(np.int64)):
            _hash_into(digest, array)
    elif is_dataclass(value) and not isinstance(value, type):
        tag(f"dataclass:{type(value).__qualname__}")
        _hash_into(digest, {f.name: getattr(value, f.name) for f in fields(value)})
    elif isinstance(value, Mapping):
        tag(f"mapping:{len(value)}")
        for key in sorted(value, key=str):
            _hash_into(digest, str(key))
            _hash_into(digest, value[key])
    elif isinstance(value, (list, tuple)):
        tag(f"sequence:{len(value)}")
        for item in value:
            _hash_into(digest, item)
    elif value is None or isinstance(value, (bool, int, float, str, np.generic)):
        tag(f"{type(value).__name__}:{value!r}")
    else:
        raise ParameterError(f"cannot build a cache key from a {type(value).__name__}; use arrays, numbers, strings")


def _save(path: Path, basis: HarmonicBasis, key: str) -> None:
    arrays: dict[str, Any] = {
        "key": np.array(key),
        "kind": np.array(basis.kind),
        "params": np.array(json.dumps(basis.params, default=float)),
        "eigenvalues": basis.eigenvalues,
        "eigenvectors": basis.eigenvectors,
    }
    if basis.mass is not None:
        arrays.update(mass_data=basis.mass.data, mass_indices=basis.mass.indices, mass_indptr=basis.mass.indptr)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: readers never see a half-written file,
    # and concurrent writers of the same key both produce a complete one.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)  # uncompressed: loading is a memory copy
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _BadEntry(Exception):
    """A cache file that reads but is not an entry for this key; the message completes 'cache entry <path> ...'."""


_ENTRY_ARRAYS = ("key", "kind", "params", "eigenvalues", "eigenvectors")
_MASS_ARRAYS = ("mass_data", "mass_indices", "mass_indptr")


def _load(path: Path, key: str) -> HarmonicBasis:
    """Read a cache entry; never unpickles (``allow_pickle=False``: object arrays are refused)."""
    # Our own handle: np.load leaks the one it opens when the zip directory is unreadable.
    with open(path, "rb") as handle:
        data = np.load(handle, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise _BadEntry("is unreadable (a single .npy array, not an .npz archive)")
        with data:
            return _read_arrays(data, key)


def _read_arrays(data: Any, key: str) -> HarmonicBasis:
    missing = [name for name in _ENTRY_ARRAYS if name not in data.files]
    has_mass = [name in data.files for name in _MASS_ARRAYS]
    if any(has_mass) and not all(has_mass):
        missing += [name for name, present in zip(_MASS_ARRAYS, has_mass) if not present]
    if missing:
        raise _BadEntry(f"is unreadable (missing arrays: {', '.join(missing)})")
    if str(data["key"]) != key:
        raise _BadEntry("failed its key check (the file holds another entry's key)")
    values, vectors = data["eigenvalues"], data["eigenvectors"]
    for name, array in (("eigenvalues", values), ("eigenvectors", vectors)):
        if array.dtype != np.float64:
            raise _BadEntry(f"is unreadable ({name} stored as {array.dtype}, not float64)")
    params = json.loads(str(data["params"]))
    if not isinstance(params, dict):
        raise _BadEntry("is unreadable (params are not a JSON object)")
    mass = None
    if all(has_mass):
        n = vectors.shape[0] if vectors.ndim == 2 else 0
        mass = scipy.sparse.csr_matrix((data["mass_data"], data["mass_indices"], data["mass_indptr"]), shape=(n, n))
        mass.check_format(full_check=True)  # out-of-range indices would make products read stray memory
    return HarmonicBasis(values, vectors, str(data["kind"]), mass=mass, params=params)


# --------------------------------------------------------------------------- entry checks

CACHE_RESIDUAL_FACTOR = 100.0
"""A cached eigenpair passes when its backward error is at most this many times the solver tolerance.

See :func:`basis_validator`: the solvers guarantee a backward error of about
their tolerance (:data:`LB_BLOCK_TOL` or the ``tol`` passed); the factor leaves
room for the mass matrix's conditioning and the gauge rotations inside clusters.
"""

CACHE_ORTHONORMALITY_TOL = 1e-8
"""Largest ``|ψ_i^T B ψ_j - δ_ij|`` accepted in a cached basis (:func:`_finish` leaves at most 1e-10)."""

CACHE_RANDOM_MODES = 2
"""Modes checked on load besides the first, the middle and the last (drawn from the cache key)."""

EntryCheck = Callable[[HarmonicBasis, np.random.Generator], "str | None"]
"""``validate(basis, rng)`` of :func:`cached_basis`: ``None`` if the entry is good, else why not.

The reason completes the sentence 'cache entry <file> ...', e.g. ``'failed its
eigen-equation check (residual 3.1e-01 on mode 7)'``. ``rng`` is seeded from
the cache key, so the modes checked are the same on every load of an entry.
"""


class HarmonicCacheWarning(UserWarning):
    """A harmonic basis cache entry was unreadable or failed its checks, and was recomputed."""


def basis_validator(
    operator: scipy.sparse.spmatrix,
    mass: scipy.sparse.spmatrix | None = None,
    *,
    kind: str,
    n_modes: int | None = None,
    margin: int = 10,
    solver_tol: float = 0.0,
) -> EntryCheck:
    """A :func:`cached_basis` check that a loaded basis is an eigenbasis of ``L ψ = λ B ψ``.

    Cheap (a few sparse products and passes over the eigenvectors; nothing is
    factorised or decomposed). The entry must

    * be of ``kind``, on ``operator.shape[0]`` vertices, with between
      ``n_modes`` and ``n_modes + margin`` modes (as the solvers return), and
      (Laplace–Beltrami) carry the mass matrix ``mass`` (to 1e-12 relative);
    * have finite eigenvalues in non-decreasing order and finite eigenvectors;
    * be B-orthonormal (``B = I`` for graphs): ``|ψ_i^T B ψ_j - δ_ij| <=``
      :data:`CACHE_ORTHONORMALITY_TOL` for every ``i`` and each checked mode
      ``j``, and for a random combination ``Ψ z`` of all modes,
      ``|Ψ^T B Ψ z - z|_∞ <= tol · |z|_1`` (implied by the entrywise bound);
    * satisfy the eigen-equation: the normwise backward error
      ``|L ψ - λ B ψ| / ((|L| + |λ| |B|) |ψ|)`` (2-norms of vectors, ``|L|``
      the max row sum, an upper bound of the 2-norm of a symmetric matrix) at
      most ``tol = CACHE_RESIDUAL_FACTOR · max(solver_tol, LB_BLOCK_TOL)`` for
      each checked mode, and for the combination: ``|L Ψ z - B Ψ Λ z|`` at most
      ``tol · Σ_j |z_j| (|L| + |λ_j| |B|) |ψ_j|`` (implied by the per-mode
      bound, by the triangle inequality).

    The checked modes are the first, the middle and the last and
    :data:`CACHE_RANDOM_MODES` more drawn from ``rng``; a grossly wrong mode
    anywhere also shows in the random combination, diluted by about the number
    of modes.

    Why this tolerance: the block Lanczos solver accepts a Ritz pair of the
    shift-invert operator when its residual is at most ``tol · θ``
    (:data:`LB_BLOCK_TOL` by default), which bounds the backward error of
    ``(λ, ψ)`` for ``L - λB`` by about ``tol`` times ``sqrt(cond(B))``;
    ARPACK on ``c I - L`` (graphs) accepts a residual of ``tol · θ <= tol · c``
    with ``c <= 2 |L|``; gauge fixing rotates only inside clusters of
    eigenvalues equal to 1e-8 relative. Fresh bases of the default model have
    backward errors below 2e-10; swapping two neighbouring modes of it gives
    about 1e-5, and a perturbation of relative size δ about δ.

    Parameters
    ----------
    operator : sparse matrix
        The Laplacian ``L`` (graph) or the stiffness matrix ``A`` (Laplace–Beltrami).
    mass : sparse matrix or None
        The mass matrix ``B`` (Laplace–Beltrami only).
    kind : str
        Expected :attr:`HarmonicBasis.kind`.
    n_modes, margin : int
        The request the basis was computed for (``None``: any number of modes).
    solver_tol : float
        The ``tol`` passed to the solver (``0``: its default accuracy).
    """
    if kind not in BASIS_KINDS:
        raise ParameterError(f"unknown harmonic basis kind {kind!r}; expected one of {BASIS_KINDS}")
    operator = scipy.sparse.csr_matrix(operator, dtype=float)
    if (mass is None) != (kind != "laplace-beltrami"):
        raise ParameterError("a Laplace–Beltrami check needs the mass matrix, a graph check takes none")
    mass = None if mass is None else scipy.sparse.csr_matrix(mass, dtype=float)
    residual_tol = CACHE_RESIDUAL_FACTOR * max(float(solver_tol), LB_BLOCK_TOL)

    def validate(basis: HarmonicBasis, rng: np.random.Generator) -> str | None:
        if basis.kind != kind:
            return f"failed its kind check (a {basis.kind!r} basis, {kind!r} expected)"
        if basis.n_vertices != operator.shape[0]:
            return f"failed its shape check ({basis.n_vertices} vertices, the operator has {operator.shape[0]})"
        if n_modes is not None and not n_modes <= basis.n_modes <= n_modes + margin:
            return f"failed its shape check ({basis.n_modes} modes, {n_modes} to {n_modes + margin} expected)"
        if mass is not None:
            scale = float(abs(mass).max()) if mass.nnz else 1.0
            difference = float(abs(basis.mass - mass).max()) if basis.mass.nnz or mass.nnz else 0.0
            if not difference <= 1e-12 * scale:
                return f"failed its mass matrix check (differs from the mesh's by {difference:.1e})"
        return _check_eigenbasis(basis, rng, operator=operator, mass=mass, residual_tol=residual_tol)

    return validate


def _checked_modes(n_modes: int, rng: np.random.Generator) -> np.ndarray:
    fixed = [0, n_modes // 2, n_modes - 1]
    drawn = rng.choice(n_modes, size=min(CACHE_RANDOM_MODES, n_modes), replace=False)
    return np.unique(np.concatenate([fixed, drawn]).astype(np.int64))


def _check_eigenbasis(
    basis: HarmonicBasis,
    rng: np.random.Generator,
    *,
    operator: scipy.sparse.csr_matrix | None,
    mass: scipy.sparse.csr_matrix | None,
    residual_tol: float,
    ortho_tol: float = CACHE_ORTHONORMALITY_TOL,
) -> str | None:
    """Structure, orthonormality and (with ``operator``) eigen-equation checks of :func:`basis_validator`."""
    values, vectors = basis.eigenvalues, basis.eigenvectors
    k = basis.n_modes
    if k == 0 or basis.n_vertices == 0:
        return "failed its shape check (no modes)"
    if not np.isfinite(values).all():
        return "failed its eigenvalue check (non-finite eigenvalues)"
    if np.any(np.diff(values) < 0):
        return f"failed its eigenvalue check (not sorted at mode {int(np.argmax(np.diff(values) < 0)) + 1})"
    if not np.isfinite(vectors).all():
        bad = int(np.argmax(~np.isfinite(vectors).all(axis=0)))
        return f"failed its eigenvector check (non-finite values in mode {bad})"
    modes = _checked_modes(k, rng)
    z = rng.standard_normal(k)

    def weigh(x: np.ndarray) -> np.ndarray:
        return x if mass is None else mass @ x

    with np.errstate(all="ignore"):
        picked = np.ascontiguousarray(vectors[:, modes])
        combos = vectors @ np.column_stack([z, values * z])  # Ψ z and Ψ Λ z
        weighted_picked, weighted_combo = weigh(picked), weigh(combos)
        gram = vectors.T @ np.column_stack([weighted_picked, weighted_combo[:, 0]])  # Ψ^T B [Ψ_S, Ψ z]
        inner = "psi_i^T B psi_j" if mass is not None else "psi_i^T psi_j"
        deviation = np.abs(gram[:, :-1] - np.eye(k)[:, modes])
        if not deviation.max() <= ortho_tol:
            i, j = np.unravel_index(np.nanargmax(np.where(np.isnan(deviation), np.inf, deviation)), deviation.shape)
            return (
                f"failed its orthonormality check (|{inner} - delta_ij| = {deviation[i, j]:.1e} "
                f"for modes {int(i)}, {int(modes[j])})"
            )
        combined = float(np.max(np.abs(gram[:, -1] - z)))
        if not combined <= ortho_tol * float(np.sum(np.abs(z))):
            return (
                f"failed its orthonormality check (|Psi^T B Psi z - z| = {combined:.1e} "
                "for a random combination z of all modes)"
            )
        if operator is None:
            return None
        norm_l = float(abs(operator).sum(axis=1).max())
        norm_b = 1.0 if mass is None else float(abs(mass).sum(axis=1).max())
        residual = operator @ picked - weighted_picked * values[modes]
        scale = (norm_l + np.abs(values[modes]) * norm_b) * np.linalg.norm(picked, axis=0)
        error = np.linalg.norm(residual, axis=0) / scale
        if not np.all(error <= residual_tol):
            worst = int(np.nanargmax(np.where(np.isnan(error), np.inf, error)))
            return f"failed its eigen-equation check (residual {error[worst]:.1e} on mode {int(modes[worst])})"
        residual = operator @ combos[:, 0] - weighted_combo[:, 1]
        column_norms = np.sqrt(np.einsum("ij,ij->j", vectors, vectors))
        bound = float(np.sum(np.abs(z) * (norm_l + np.abs(values) * norm_b) * column_norms))
        combined = float(np.linalg.norm(residual)) / bound
        if not combined <= residual_tol:
            return f"failed its eigen-equation check (residual {combined:.1e} on a random combination of all modes)"
    return None


def cached_basis(
    compute: Callable[[], HarmonicBasis],
    *,
    key_parts: Mapping[str, Any],
    cache_dir: str | os.PathLike | None = None,
    validate: EntryCheck | None = None,
) -> HarmonicBasis:
    """Load a basis from the disk cache, or compute and store it.

    Parameters
    ----------
    compute : callable
        Returns the :class:`HarmonicBasis`; called only when no good entry exists.
    key_parts : mapping
        Everything the basis depends on (mesh, Laplacian or connectome arrays,
        kind, ``n_modes``, solver parameters). Hashed with :func:`cache_key`;
        the harmonix version is added, so an upgrade recomputes.
    cache_dir : path, optional
        Folder of the ``<sha256>.npz`` files; default :func:`default_cache_dir`.
    validate : callable, optional
        ``validate(basis, rng)`` checks a loaded entry against what it must
        satisfy and returns ``None`` or the reason it fails (see
        :data:`EntryCheck`; :func:`basis_validator` builds one from the
        operator). Without it, only what needs no operator is checked: finite,
        sorted eigenvalues and orthonormality (in the file's own mass matrix).

    Returns
    -------
    HarmonicBasis
        With ``params['cache']`` set to ``'hit'``, ``'miss'`` or
        ``'recomputed: <reason>'``, and ``params['cache_file']`` to the file.

    Notes
    -----
    The key inside a file is not trusted alone: a file that cannot be read
    (truncated, not an archive, arrays missing or of the wrong type, another
    key) or that fails its checks is recomputed and replaced, with a
    :class:`HarmonicCacheWarning` naming the file and the reason. Files are
    read with ``allow_pickle=False``, so nothing in them is ever unpickled.
    Writes are atomic (temporary file and :func:`os.replace`).
    """
    key = cache_key(key_parts)
    path = Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"{key}.npz"
    problem = None
    if path.is_file():
        loaded, problem = _read_entry(path, key, validate)
        if loaded is not None:
            return _with_params(loaded, cache="hit", cache_file=str(path))
    basis = compute()
    if not isinstance(basis, HarmonicBasis):
        raise ParameterError(f"compute() must return a HarmonicBasis, got {type(basis).__name__}")
    _save(path, basis, key)
    if problem is None:
        return _with_params(basis, cache="miss", cache_file=str(path))
    warnings.warn(f"harmonic basis cache entry {path} {problem}; recomputed", HarmonicCacheWarning, stacklevel=2)
    return _with_params(basis, cache=f"recomputed: {problem}", cache_file=str(path))


def _read_entry(path: Path, key: str, validate: EntryCheck | None) -> tuple[HarmonicBasis | None, str | None]:
    """``(basis, None)`` if the entry at ``path`` is good, else ``(None, reason)`` (one line)."""
    try:
        basis = _load(path, key)
    except _BadEntry as error:
        return None, str(error)
    except Exception as error:  # whatever a damaged file makes the reader raise: zip, npy header, JSON...
        detail = " ".join(str(error).split()) or "no detail"
        if "pickled" in detail:  # numpy's advice to load it unsafely is not for a cache file
            detail = "neither .npz nor .npy, so numpy takes it for a pickle; not loaded"
        return None, f"is unreadable ({type(error).__name__}: {detail})"
    rng = np.random.default_rng(int(key[:16], 16))  # the same modes on every load of this entry
    if validate is None:
        problem = _check_eigenbasis(basis, rng, operator=None, mass=basis.mass, residual_tol=np.inf)
    else:
        problem = validate(basis, rng)
    return (basis, None) if problem is None else (None, " ".join(problem.split()))


def _with_params(basis: HarmonicBasis, **extra: Any) -> HarmonicBasis:
    return HarmonicBasis(basis.eigenvalues, basis.eigenvectors, basis.kind, mass=basis.mass, params={**basis.params, **extra})
