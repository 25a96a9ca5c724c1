"""Benchmark harmonic bases on the default 16k cortical mesh (tvb-data ``cortex_16384``).

Times, in one run and on the same matrices:

* 200 Laplace–Beltrami eigenmodes with :func:`harmonix.harmonics.basis.laplace_beltrami_basis`
  and with LaPy (``lapy.Solver(mesh).eigs(k=200)``, consistent mass, the same
  cotangent FEM), eigenvalues compared from index 2 on as relative differences
  (indices 0 and 1 are the two hemispheres' zero eigenvalues, compared as
  absolute differences);
* 200 graph harmonics (normalised Laplacian) of the mesh graph plus random
  long-range edges, a stand-in for the connectome graph with the same
  size and the same obstacle to factorisation;
* a warm load of the cached Laplace–Beltrami basis.

Ends with one ``key=value`` line. ``--quick`` runs k=50.
Needs ``lapy`` (``pip install lapy``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import zipfile

import numpy as np
import scipy.sparse

from harmonix.harmonics.basis import cached_basis, graph_basis, laplace_beltrami_basis
from harmonix.harmonics.mesh import TriMesh, mesh_adjacency


def load_cortex() -> TriMesh:
    import tvb_data

    path = os.path.join(os.path.dirname(tvb_data.__file__), "surfaceData", "cortex_16384.zip")
    with zipfile.ZipFile(path) as archive:
        vertices = np.loadtxt(archive.open("vertices.txt"))
        triangles = np.loadtxt(archive.open("triangles.txt"), dtype=np.int64)
    return TriMesh(vertices, triangles)


def long_range_graph(mesh: TriMesh, n_edges: int, seed: int = 0) -> scipy.sparse.csr_matrix:
    """Normalised Laplacian of mesh edges plus ``n_edges`` random binary long-range edges."""
    rng = np.random.default_rng(seed)
    n = mesh.n_vertices
    ends = rng.integers(0, n, size=(n_edges, 2))
    ends = ends[ends[:, 0] != ends[:, 1]]
    extra = scipy.sparse.coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(n, n))
    adjacency = mesh_adjacency(mesh) + extra + extra.T
    adjacency.data[:] = 1.0  # binary, as in Atasoy et al. 2016
    inv_sqrt = 1.0 / np.sqrt(np.asarray(adjacency.sum(axis=1)).ravel())
    return (scipy.sparse.eye(n) - scipy.sparse.diags(inv_sqrt) @ adjacency @ scipy.sparse.diags(inv_sqrt)).tocsr()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="k=50 instead of 200")
    parser.add_argument("-k", type=int, default=None, help="number of modes")
    args = parser.parse_args()
    k = args.k or (50 if args.quick else 200)
    import lapy

    mesh = load_cortex()
    print(f"mesh: {mesh.n_vertices} vertices, {len(mesh.triangles)} triangles; k={k}")

    start = time.perf_counter()
    lapy_values, _ = lapy.Solver(lapy.TriaMesh(mesh.vertices, mesh.triangles)).eigs(k=k)
    lapy_s = time.perf_counter() - start

    start = time.perf_counter()
    basis = laplace_beltrami_basis(mesh, k)
    ours_s = time.perf_counter() - start
    ours = basis.eigenvalues[:k]
    zero_abs = float(np.max(np.abs(ours[:2] - lapy_values[:2])))
    rel = float(np.max(np.abs(ours[2:] - lapy_values[2:]) / lapy_values[2:]))
    print(f"laplace-beltrami: harmonix {ours_s:.2f} s ({basis.n_modes} kept of {k}+{basis.params['margin']}), "
          f"lapy {lapy_s:.2f} s, ratio {lapy_s / ours_s:.2f}")
    print(f"eigenvalues: max relative difference (index >= 2) {rel:.2e}, zero modes absolute {zero_abs:.1e}")

    laplacian = long_range_graph(mesh, n_edges=2000)
    start = time.perf_counter()
    graph = graph_basis(laplacian, k)
    graph_s = time.perf_counter() - start
    psi = graph.eigenvectors
    ortho = float(np.max(np.abs(psi.T @ psi - np.eye(graph.n_modes))))
    print(f"graph (mesh + 2000 random long-range edges): {graph_s:.2f} s for {graph.n_modes} modes, "
          f"max|Psi^T Psi - I| {ortho:.1e}")

    with tempfile.TemporaryDirectory() as cache:
        parts = {"mesh": mesh, "n_modes": k, "kind": "laplace-beltrami"}
        cached_basis(lambda: basis, key_parts=parts, cache_dir=cache)
        start = time.perf_counter()
        loaded = cached_basis(lambda: basis, key_parts=parts, cache_dir=cache)
        load_s = time.perf_counter() - start
        assert loaded.params["cache"] == "hit"
    print(f"cache: warm load {load_s:.3f} s (includes hashing the mesh)")
    print(f"k={k} lapy_s={lapy_s:.2f} harmonix_lb_s={ours_s:.2f} speedup_vs_lapy={lapy_s / ours_s:.2f} "
          f"max_rel_eig_diff={rel:.1e} graph_basis_s={graph_s:.2f} cache_load_s={load_s:.3f}")


if __name__ == "__main__":
    main()
