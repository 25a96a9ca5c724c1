"""Connectome harmonics of a model, computed once and cached; regional harmonics.

:func:`connectome_harmonics` turns a :class:`~harmonix.harmonics.connectome.Connectome`
into a :class:`~harmonix.harmonics.basis.HarmonicBasis`:

* ``'graph-normalized'`` (default, Atasoy et al. 2016): binary graph of mesh
  neighbours plus long-range structural edges, symmetric-normalised Laplacian;
* ``'graph-combinatorial'``: the same graph, ``L = D - A``;
* ``'laplace-beltrami'``: geometric eigenmodes of the cortical mesh alone
  (cotangent FEM, Pang et al. 2023).

Results are cached on disk keyed by a hash of every input array and parameter
(see :func:`~harmonix.harmonics.cache.cached_basis`), so a second run loads in
well under a second. A loaded entry is checked against the operator it claims to
be an eigenbasis of (eigen-equation residual and orthonormality on a few modes,
:func:`~harmonix.harmonics.cache.basis_validator`) and recomputed if it fails.

:func:`regional_harmonics` gives region-specific harmonic waves (RSHWs): the
Laplace–Beltrami eigenmodes of each region's own patch of cortex, whose high
spatial frequencies can be compared with the connectome-wide low ones.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from harmonix.errors import ParameterError
from harmonix.harmonics.basis import BASIS_KINDS, HarmonicBasis, graph_basis, laplace_beltrami_basis
from harmonix.harmonics.cache import basis_validator, cached_basis
from harmonix.harmonics.connectome import Connectome, load_default_connectome, region_indices
from harmonix.harmonics.graph import connectome_graph, graph_laplacian
from harmonix.harmonics.laplace_beltrami import cotangent_laplacian
from harmonix.harmonics.mesh import TriMesh

DEFAULT_N_MODES = 200
"""Harmonics computed for a model by default."""


def connectome_harmonics(
    connectome: Connectome | None = None,
    *,
    n_modes: int = DEFAULT_N_MODES,
    kind: str = "graph-normalized",
    long_range: str = "centroid-nearest",
    weighted: bool = False,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
) -> HarmonicBasis:
    """The ``n_modes`` lowest harmonics of a connectome (default: the tvb-data model).

    Parameters
    ----------
    connectome : Connectome | None
        ``None`` loads :func:`~harmonix.harmonics.connectome.load_default_connectome`.
    n_modes : int
        Harmonics wanted; a few more may be kept so that no degenerate
        eigenspace is cut (see :mod:`harmonix.harmonics.basis`).
    kind : {'graph-normalized', 'graph-combinatorial', 'laplace-beltrami'}
        Operator (see the module docstring).
    long_range : str
        Rule turning region-level connections into vertex edges
        (:data:`~harmonix.harmonics.graph.LONG_RANGE_RULES`); graph kinds only.
    weighted : bool
        Weighted instead of binary long-range edges; graph kinds only.
    seed : int
        Seed of the eigensolver's start vector (the result's gauge does not
        depend on it).
    cache_dir : path | None
        Cache folder (default ``$HARMONIX_CACHE`` or ``~/.cache/harmonix``).

    Returns
    -------
    basis : HarmonicBasis
        ``params`` record the model name, rule, solver, and ``cache``: ``'hit'``,
        ``'miss'`` or ``'recomputed: <reason>'`` (an entry that was unreadable or
        failed its checks; a :class:`~harmonix.harmonics.cache.HarmonicCacheWarning`
        says so too).
    """
    if kind not in BASIS_KINDS:
        raise ParameterError(f"unknown harmonic basis kind {kind!r}; choose one of {', '.join(BASIS_KINDS)}")
    connectome = load_default_connectome() if connectome is None else connectome
    mesh = connectome.mesh
    key = {"kind": kind, "n_modes": n_modes, "seed": seed, "vertices": mesh.vertices, "triangles": mesh.triangles}
    # The operator is built at most once, and only when needed: to check a cache
    # entry (a few tens of ms on the default model) and to compute the basis.
    if kind == "laplace-beltrami":
        @functools.cache
        def operator():
            return cotangent_laplacian(mesh)

        def compute() -> HarmonicBasis:
            return laplace_beltrami_basis(mesh, n_modes, seed=seed)
    else:
        key.update(region_map=connectome.region_map, weights=connectome.weights, long_range=long_range,
                   weighted=weighted)

        @functools.cache
        def operator():
            adjacency = connectome_graph(connectome, long_range=long_range, weighted=weighted)
            return graph_laplacian(adjacency, normalized=kind == "graph-normalized"), None

        def compute() -> HarmonicBasis:
            return graph_basis(operator()[0], n_modes, kind=kind, seed=seed)

    def validate(basis: HarmonicBasis, rng) -> str | None:
        stiffness, mass = operator()
        # compute() uses the solvers' default tol (graph 1e-10, Laplace–Beltrami LB_BLOCK_TOL): solver_tol=0 covers both.
        return basis_validator(stiffness, mass, kind=kind, n_modes=n_modes)(basis, rng)

    basis = cached_basis(compute, key_parts=key, cache_dir=cache_dir, validate=validate)
    return HarmonicBasis(
        basis.eigenvalues, basis.eigenvectors, basis.kind, mass=basis.mass,
        params={**basis.params, "connectome": connectome.name, "long_range": long_range if kind != "laplace-beltrami" else None},
    )


def region_submesh(mesh: TriMesh, vertex_mask: np.ndarray) -> tuple[TriMesh, np.ndarray]:
    """The triangles whose three vertices lie in ``vertex_mask``, re-indexed.

    Returns
    -------
    submesh : TriMesh
    vertices : ndarray of int
        Indices in ``mesh`` of the submesh's vertices (those used by a kept triangle).
    """
    keep = vertex_mask[mesh.triangles].all(axis=1)
    triangles = mesh.triangles[keep]
    used = np.unique(triangles)
    new_index = np.full(mesh.n_vertices, -1, dtype=np.int64)
    new_index[used] = np.arange(used.size)
    return TriMesh(mesh.vertices[used], new_index[triangles]), used


@dataclass(frozen=True)
class RegionalHarmonics:
    """Laplace–Beltrami eigenmodes of one region's cortical patch (an RSHW basis).

    Attributes
    ----------
    region : int
        Region index in the connectome.
    label : str
        Region label.
    vertices : ndarray of int
        Indices of the patch's vertices in the whole mesh.
    basis : HarmonicBasis
        Modes on the patch (B-orthonormal; eigenvalues in mm⁻²).
    """

    region: int
    label: str
    vertices: np.ndarray
    basis: HarmonicBasis

    def project(self, x: np.ndarray) -> np.ndarray:
        """Coefficients of whole-mesh activity ``x`` (n_vertices, ...) on this region's modes."""
        return self.basis.project(np.asarray(x)[self.vertices])


def regional_harmonics(
    connectome: Connectome | None = None,
    region: int | str = 0,
    *,
    n_modes: int = 8,
    seed: int = 0,
) -> RegionalHarmonics:
    """Region-specific harmonic waves: eigenmodes of one region's patch of cortex.

    The patch is the set of triangles whose vertices all belong to the region
    (its own sub-mesh, no long-range edges); its Laplace–Beltrami modes are the
    region's spatial harmonics, from the patch-wide constant mode upwards.

    Parameters
    ----------
    connectome : Connectome | None
        Default model when ``None``.
    region : int | str
        Region index or label (e.g. ``'rV1'``).
    n_modes : int
        Modes wanted; the default 8 fits the smallest region of the default
        model (29 vertices); a patch needs at least three vertices per mode.
    """
    connectome = load_default_connectome() if connectome is None else connectome
    (region,) = region_indices(connectome, region)
    submesh, vertices = region_submesh(connectome.mesh, connectome.region_map == region)
    if submesh.n_vertices < 3 * n_modes:
        raise ParameterError(
            f"region {connectome.region_labels[region]!r} has {submesh.n_vertices} vertices, too few for {n_modes} modes; "
            f"ask for at most {submesh.n_vertices // 3}"
        )
    basis = laplace_beltrami_basis(submesh, n_modes, seed=seed)
    return RegionalHarmonics(region, connectome.region_labels[region], vertices, basis)


@dataclass(frozen=True)
class HarmonicModel:
    """A connectome with its harmonic basis: what a sensor decomposition needs."""

    connectome: Connectome
    basis: HarmonicBasis

    def params(self) -> dict:
        """JSON-ready description (model name, basis kind, solver, cache)."""
        return {"connectome": self.connectome.name, "kind": self.basis.kind, "n_modes": self.basis.n_modes,
                **{k: v for k, v in self.basis.params.items() if k not in ("connectome",)}}


def default_harmonic_model(
    *, kind: str = "graph-normalized", n_modes: int = DEFAULT_N_MODES, cache_dir: str | os.PathLike | None = None
) -> HarmonicModel:
    """The tvb-data connectome with its ``n_modes`` lowest harmonics (cached)."""
    connectome = load_default_connectome()
    return HarmonicModel(connectome, connectome_harmonics(connectome, n_modes=n_modes, kind=kind, cache_dir=cache_dir))
