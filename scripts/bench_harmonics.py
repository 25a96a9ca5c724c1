"""Benchmark harmonic bases on the default 16k cortical mesh (tvb-data ``cortex_16384``).

Times, in one run and on the same matrices:

* 200 Laplace–Beltrami eigenmodes with :func:`harmonix.harmonics.basis.laplace_beltrami_basis`
  and with LaPy (``lapy.Solver(mesh).eigs(k=200)``, consistent mass, the same
  cotangent FEM), eigenvalues compared from index 2 on as relative differences
  (indices 0 and 1 are the two hemispheres' zero eigenvalues, compared as
  absolute differences);
* 200 connectome harmonics of the default model (normalised Laplacian of the
  mesh graph plus the tvb-data connectome's long-range edges), cold, with the
  default solver (shift-invert when the LU fill is small) and, with
  ``--lanczos``, with the factorisation-free fallback too;
* a warm load of the cached connectome harmonics (what a second
  ``harmonix analyze`` pays).

Both Laplace–Beltrami solvers run under the same thread budget
(``--threads``, default 1: BLAS threads for both through threadpoolctl, and
harmonix's solver threads, ``workers``, set to the same number), alternately,
``--repeat`` times; the medians are reported, and the ratio of each LaPy run
to the harmonix run after it (the machine's load changes between runs, so
only runs taken side by side compare). The cortex has two hemispheres, which
harmonix solves as two independent eigenproblems (``split=True``, exact);
``--also-unsplit`` times the whole-mesh solve too, in the same loop.

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

from harmonix.harmonics.basis import graph_basis, laplace_beltrami_basis
from harmonix.harmonics.connectome import load_default_connectome
from harmonix.harmonics.graph import connectome_graph, graph_laplacian
from harmonix.harmonics.mesh import TriMesh
from harmonix.harmonics.model import connectome_harmonics


def load_cortex() -> TriMesh:
    import tvb_data

    path = os.path.join(os.path.dirname(tvb_data.__file__), "surfaceData", "cortex_16384.zip")
    with zipfile.ZipFile(path) as archive:
        vertices = np.loadtxt(archive.open("vertices.txt"))
        triangles = np.loadtxt(archive.open("triangles.txt"), dtype=np.int64)
    return TriMesh(vertices, triangles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="k=50 instead of 200")
    parser.add_argument("-k", type=int, default=None, help="number of modes")
    parser.add_argument("--lanczos", action="store_true", help="also time the factorisation-free graph solver")
    parser.add_argument("--threads", type=int, default=1, help="thread budget of both Laplace-Beltrami solvers")
    parser.add_argument("--repeat", type=int, default=5, help="alternate runs of each Laplace-Beltrami solver")
    parser.add_argument("--also-arpack", action="store_true", help="also time harmonix's ARPACK path in the same loop")
    parser.add_argument("--solver", default="block", choices=("block", "arpack"), help="harmonix Laplace-Beltrami solver")
    parser.add_argument("--also-unsplit", action="store_true", help="also time harmonix's whole-mesh solve (split=False)")
    args = parser.parse_args()
    k = args.k or (50 if args.quick else 200)
    import lapy

    mesh = load_cortex()
    print(f"mesh: {mesh.n_vertices} vertices, {len(mesh.triangles)} triangles; k={k}")

    from threadpoolctl import threadpool_limits

    lapy_times, ours_times, arpack_times, unsplit_times = [], [], [], []
    with threadpool_limits(args.threads):
        for _ in range(args.repeat):
            start = time.perf_counter()
            lapy_values, _ = lapy.Solver(lapy.TriaMesh(mesh.vertices, mesh.triangles)).eigs(k=k)
            lapy_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            basis = laplace_beltrami_basis(mesh, k, solver=args.solver, workers=args.threads)
            ours_times.append(time.perf_counter() - start)
            if args.also_arpack:
                start = time.perf_counter()
                laplace_beltrami_basis(mesh, k, solver="arpack", workers=args.threads)
                arpack_times.append(time.perf_counter() - start)
            if args.also_unsplit:
                start = time.perf_counter()
                whole = laplace_beltrami_basis(mesh, k, solver=args.solver, workers=args.threads, split=False)
                unsplit_times.append(time.perf_counter() - start)
    lapy_s, ours_s = float(np.median(lapy_times)), float(np.median(ours_times))
    pair_ratios = [a / b for a, b in zip(lapy_times, ours_times)]
    print(f"runs (s): lapy {[round(t, 2) for t in lapy_times]}, harmonix {[round(t, 2) for t in ours_times]}; "
          f"threads {args.threads}" + (f", harmonix arpack path {[round(t, 2) for t in arpack_times]}" if arpack_times else ""))
    print(f"side-by-side ratios lapy/harmonix: {[round(r, 2) for r in pair_ratios]} (median {np.median(pair_ratios):.2f})")
    if unsplit_times:
        unsplit_s = float(np.median(unsplit_times))
        agree = float(np.max(np.abs(whole.eigenvalues[2:k] - basis.eigenvalues[2:k]) / basis.eigenvalues[2:k]))
        print(f"harmonix whole mesh at once (split=False): runs {[round(t, 2) for t in unsplit_times]}, "
              f"median {unsplit_s:.2f} s, ratio vs lapy {lapy_s / unsplit_s:.2f}; "
              f"eigenvalues agree with the split solve to {agree:.1e}")
    ours = basis.eigenvalues[:k]
    zero_abs = float(np.max(np.abs(ours[:2] - lapy_values[:2])))
    rel = float(np.max(np.abs(ours[2:] - lapy_values[2:]) / lapy_values[2:]))
    print(f"laplace-beltrami ({basis.params['solver']}): median harmonix {ours_s:.2f} s ({basis.n_modes} kept of {k}+{basis.params['margin']}), "
          f"lapy {lapy_s:.2f} s, ratio {lapy_s / ours_s:.2f} (target 5)")
    psi = basis.eigenvectors
    b_ortho = float(np.max(np.abs(psi.T @ (basis.mass @ psi) - np.eye(basis.n_modes))))
    print(f"eigenvalues: max relative difference (index >= 2) {rel:.2e}, zero modes absolute {zero_abs:.1e}; "
          f"max|Psi^T B Psi - I| {b_ortho:.1e}")

    connectome = load_default_connectome()
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        graph = connectome_harmonics(connectome, n_modes=k, cache_dir=cache)
        graph_s = time.perf_counter() - start
        start = time.perf_counter()
        loaded = connectome_harmonics(connectome, n_modes=k, cache_dir=cache)
        load_s = time.perf_counter() - start
        assert loaded.params["cache"] == "hit"
    psi = graph.eigenvectors
    ortho = float(np.max(np.abs(psi.T @ psi - np.eye(graph.n_modes))))
    print(f"connectome graph basis: {graph_s:.2f} s for {graph.n_modes} modes ({graph.params['solver']}), "
          f"max|Psi^T Psi - I| {ortho:.1e}; warm cache load {load_s:.3f} s")
    lanczos_s = float("nan")
    if args.lanczos:
        laplacian = graph_laplacian(connectome_graph(connectome))
        start = time.perf_counter()
        fallback = graph_basis(laplacian, k, solver="lanczos")
        lanczos_s = time.perf_counter() - start
        diff = np.max(np.abs(fallback.eigenvalues[1:k] - graph.eigenvalues[1:k]) / graph.eigenvalues[1:k])
        print(f"lanczos fallback: {lanczos_s:.2f} s, eigenvalues agree to {diff:.1e} relative")
    print(f"k={k} lapy_s={lapy_s:.2f} harmonix_lb_s={ours_s:.2f} speedup_vs_lapy={lapy_s / ours_s:.2f} "
          f"speedup_side_by_side_median={np.median(pair_ratios):.2f} "
          f"max_rel_eig_diff={rel:.1e} graph_basis_s={graph_s:.2f} graph_lanczos_s={lanczos_s:.2f} "
          f"cache_load_s={load_s:.3f}")


if __name__ == "__main__":
    main()
