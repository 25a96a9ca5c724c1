"""Harmonic bases: Laplace–Beltrami sphere check, graph spectra, gauge, cache."""

from __future__ import annotations


import numpy as np
import pytest
import scipy.sparse
from threadpoolctl import threadpool_limits  # ARPACK's small BLAS calls gain nothing from threads

from harmonix.errors import HarmonixError, InputFileError, ParameterError
from harmonix.harmonics.basis import (
    HarmonicBasis,
    _finish,
    _shift_invert_eigsh,
    cache_key,
    cached_basis,
    graph_basis,
    laplace_beltrami_basis,
)
from harmonix.harmonics.laplace_beltrami import cotangent_laplacian, icosphere
from harmonix.harmonics.mesh import TriMesh


L_MAX = 6
N_LOW = (L_MAX + 1) ** 2  # modes with l <= 6: sum of 2l + 1 = 49
DEGREES = np.repeat(np.arange(L_MAX + 1), 2 * np.arange(L_MAX + 1) + 1)


@pytest.fixture(scope="module")
def sphere() -> TriMesh:
    return icosphere(5)


@pytest.fixture(scope="module")
def sphere_matrices(sphere):
    return cotangent_laplacian(sphere)


@pytest.fixture(scope="module")
def sphere_basis(sphere) -> HarmonicBasis:
    return laplace_beltrami_basis(sphere, N_LOW, margin=6)


def _cycle_normalized_laplacian(n: int) -> scipy.sparse.csr_matrix:
    ones = np.ones(n - 1)
    adjacency = scipy.sparse.diags([ones, ones, [1.0], [1.0]], [1, -1, n - 1, 1 - n])
    return (scipy.sparse.eye(n) - adjacency / 2.0).tocsr()  # every degree is 2


# --------------------------------------------------------------------------- matrices


def test_icosphere_size_and_radius():
    mesh = icosphere(5)
    assert mesh.n_vertices == 10_242 and len(mesh.triangles) == 20 * 4**5
    np.testing.assert_allclose(np.linalg.norm(mesh.vertices, axis=1), 1.0)


def test_cotangent_matrices_are_symmetric_with_zero_row_sums(sphere_matrices):
    stiffness, mass = sphere_matrices
    assert abs(stiffness - stiffness.T).max() < 1e-12
    assert np.abs(np.asarray(stiffness.sum(axis=1))).max() < 1e-10
    assert abs(mass - mass.T).max() == 0
    # The mass matrix integrates 1 to the area of the inscribed polyhedron, just under 4 pi.
    assert 4 * np.pi * 0.995 < mass.sum() < 4 * np.pi


def test_lumped_mass_is_diagonal_with_the_same_area():
    mesh = icosphere(2)
    _, consistent = cotangent_laplacian(mesh)
    _, lumped = cotangent_laplacian(mesh, lump=True)
    assert lumped.nnz == mesh.n_vertices
    assert lumped.sum() == pytest.approx(consistent.sum())


def test_zero_area_triangle_is_rejected():
    mesh = TriMesh(np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0]]), np.array([[0, 1, 2], [0, 1, 3]]))
    with pytest.raises(InputFileError, match="zero area"):
        cotangent_laplacian(mesh)


# --------------------------------------------------------------------------- sphere check


def test_sphere_eigenvalues_match_l_l_plus_1_with_multiplicity(sphere_basis):
    assert sphere_basis.n_modes == N_LOW  # the l = 7 cluster (56) is dropped whole
    values = sphere_basis.eigenvalues
    assert abs(values[0]) < 1e-10
    exact = DEGREES * (DEGREES + 1.0)
    relative = np.abs(values[1:] / exact[1:] - 1.0)
    assert relative.max() < 0.01, relative.max()


def test_no_low_sphere_mode_dropped_across_20_seeds(sphere_matrices):
    # Reuses A and B; only the Lanczos start vector changes.
    stiffness, mass = sphere_matrices
    limit = threadpool_limits(1)
    with limit:
        _check_20_seeds(stiffness, mass)


def _check_20_seeds(stiffness, mass):
    for seed in range(20):
        values, vectors = _shift_invert_eigsh(
            stiffness, mass, N_LOW + 3, sigma=-0.01, seed=seed, tol=0.0, n_modes=N_LOW
        )
        values, _, info = _finish(values, vectors, N_LOW, mass)
        assert info["n_kept"] == N_LOW, seed
        counts = np.bincount(np.rint(np.sqrt(values + 0.25) - 0.5).astype(int), minlength=L_MAX + 1)
        np.testing.assert_array_equal(counts, 2 * np.arange(L_MAX + 1) + 1, err_msg=f"seed {seed}")


def test_laplace_beltrami_modes_are_b_orthonormal_and_round_trip(sphere_basis, rng):
    psi, mass = sphere_basis.eigenvectors, sphere_basis.mass
    gram = psi.T @ (mass @ psi)
    assert np.abs(gram - np.eye(sphere_basis.n_modes)).max() < 1e-10
    # Euclidean orthonormality does not hold: mixing inner products would be wrong.
    assert np.abs(psi.T @ psi - np.eye(sphere_basis.n_modes)).max() > 0.1
    coefficients = np.zeros((sphere_basis.n_modes, 5))
    coefficients[:30] = rng.standard_normal((30, 5))
    activity = sphere_basis.reconstruct(coefficients)
    assert np.abs(sphere_basis.project(activity) - coefficients).max() < 1e-8
    np.testing.assert_allclose(sphere_basis.reconstruct(sphere_basis.project(activity)), activity, atol=1e-8)


def test_laplace_beltrami_gauge_does_not_depend_on_seed(sphere_basis, sphere):
    other = laplace_beltrami_basis(sphere, N_LOW, margin=6, seed=7)
    # Holds inside the degenerate l-clusters too: the gauge depends only on the eigenspaces.
    assert np.abs(other.eigenvectors - sphere_basis.eigenvectors).max() < 1e-6


# --------------------------------------------------------------------------- graphs


def test_cycle_graph_spectrum_and_degenerate_pairs_kept_whole():
    n = 40
    laplacian = _cycle_normalized_laplacian(n)
    basis = graph_basis(laplacian, 4, margin=4)
    # 1 - cos(2 pi j / n): 0, then pairs j = 1, 2, ...; a cut at 4 would split the j = 2 pair.
    assert basis.n_modes % 2 == 1 and basis.n_modes >= 4
    j = np.concatenate([[0], np.repeat(np.arange(1, n // 2), 2)])[: basis.n_modes]
    np.testing.assert_allclose(basis.eigenvalues, 1 - np.cos(2 * np.pi * j / n), atol=1e-10)
    assert np.abs(basis.eigenvectors.T @ basis.eigenvectors - np.eye(basis.n_modes)).max() < 1e-8
    np.testing.assert_allclose(basis.eigenvectors[:, 0], 1 / np.sqrt(n))


def test_graph_sign_convention_is_deterministic_across_seeds():
    laplacian = _cycle_normalized_laplacian(60)
    reference = graph_basis(laplacian, 9, margin=2, seed=0)
    for seed in (1, 2, 3):
        other = graph_basis(laplacian, 9, margin=2, seed=seed)
        assert np.abs(other.eigenvectors - reference.eigenvectors).max() < 1e-6


def test_combinatorial_graph_basis_on_a_path():
    n = 30  # path graph: eigenvalues 2 - 2 cos(pi j / n), all simple
    ones = np.ones(n - 1)
    adjacency = scipy.sparse.diags([ones, ones], [1, -1])
    laplacian = scipy.sparse.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency
    basis = graph_basis(laplacian, 6, kind="graph-combinatorial", margin=0)
    np.testing.assert_allclose(basis.eigenvalues, 2 - 2 * np.cos(np.pi * np.arange(6) / n), atol=1e-10)
    np.testing.assert_allclose(basis.project(np.ones(n))[1:], 0, atol=1e-10)


def test_disconnected_graph_is_rejected():
    two_cycles = scipy.sparse.block_diag([_cycle_normalized_laplacian(10)] * 2).tocsr()
    with pytest.raises(ParameterError, match="2 connected components"):
        graph_basis(two_cycles, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_modes": 0}, "n_modes"), ({"n_modes": 3, "margin": -1}, "margin"), ({"n_modes": 3, "kind": "x"}, "kind")],
)
def test_bad_graph_basis_parameters(kwargs, match):
    with pytest.raises(HarmonixError, match=match):
        graph_basis(_cycle_normalized_laplacian(10), **kwargs)


def test_basis_rejects_mixing_inner_products():
    with pytest.raises(ParameterError, match="mass"):
        HarmonicBasis(np.zeros(2), np.eye(3)[:, :2], "laplace-beltrami")
    with pytest.raises(ParameterError, match="shape"):
        HarmonicBasis(np.zeros(2), np.eye(3)[:, :2], "graph-normalized").project(np.zeros(4))


# --------------------------------------------------------------------------- cache


def test_cache_second_call_loads_identical_basis(tmp_path, sphere_basis):
    calls = []

    def compute() -> HarmonicBasis:
        calls.append(1)
        return sphere_basis

    parts = {"mesh": icosphere(5), "n_modes": N_LOW, "kind": "laplace-beltrami"}
    first = cached_basis(compute, key_parts=parts, cache_dir=tmp_path)
    second = cached_basis(compute, key_parts=parts, cache_dir=tmp_path)
    assert len(calls) == 1 and first.params["cache"] == "miss" and second.params["cache"] == "hit"
    np.testing.assert_array_equal(second.eigenvalues, sphere_basis.eigenvalues)
    np.testing.assert_array_equal(second.eigenvectors, sphere_basis.eigenvectors)
    assert abs(second.mass - sphere_basis.mass).max() == 0
    assert second.kind == "laplace-beltrami" and second.params["n_kept"] == N_LOW
    assert [p.name for p in tmp_path.iterdir()] == [f"{cache_key(parts)}.npz"]  # no temporary left behind


def test_cache_key_changes_with_parameters_and_inputs():
    mesh = icosphere(1)
    base = cache_key({"mesh": mesh, "n_modes": 10})
    assert base == cache_key({"n_modes": 10, "mesh": icosphere(1)})
    assert base != cache_key({"mesh": mesh, "n_modes": 11})
    moved = TriMesh(mesh.vertices * 1.0001, mesh.triangles)
    assert base != cache_key({"mesh": moved, "n_modes": 10})
    assert cache_key({"n": 1}) != cache_key({"n": 1.0})
    with pytest.raises(ParameterError, match="cache key"):
        cache_key({"f": object()})


def test_corrupt_cache_file_is_recomputed(tmp_path):
    laplacian = _cycle_normalized_laplacian(12)
    parts = {"laplacian": laplacian, "n_modes": 3}
    (tmp_path / f"{cache_key(parts)}.npz").write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="unreadable"):
        basis = cached_basis(lambda: graph_basis(laplacian, 3), key_parts=parts, cache_dir=tmp_path)
    assert basis.params["cache"] == "miss"
    assert cached_basis(lambda: None, key_parts=parts, cache_dir=tmp_path).params["cache"] == "hit"


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HARMONIX_CACHE", str(tmp_path / "env-cache"))
    laplacian = _cycle_normalized_laplacian(12)
    basis = cached_basis(lambda: graph_basis(laplacian, 3), key_parts={"laplacian": laplacian})
    assert basis.params["cache_file"].startswith(str(tmp_path / "env-cache"))


# --------------------------------------------------------------------------- block solver


def test_block_solver_matches_arpack_single_run():
    # A sphere with its poles pulled apart: no exact symmetry, but near-degenerate clusters remain.
    base = icosphere(4)
    mesh = TriMesh(base.vertices * np.array([1.0, 1.0, 1.3]), base.triangles)
    limit = threadpool_limits(1)
    with limit:
        block = laplace_beltrami_basis(mesh, 60, margin=8, solver="block", block=8, workers=2)
        arpack = laplace_beltrami_basis(mesh, 60, margin=8, solver="arpack")
    assert "block" in block.params["solver"] and "arpack" in arpack.params["solver"]
    assert block.n_modes == arpack.n_modes
    np.testing.assert_allclose(block.eigenvalues[1:], arpack.eigenvalues[1:], rtol=1e-9)
    assert abs(block.eigenvalues[0]) < 1e-10
    # Equal eigenspaces: the B-orthogonal projectors agree (and with the gauge fixed, the vectors themselves).
    psi, phi, mass = block.eigenvectors, arpack.eigenvectors, block.mass
    overlap = psi.T @ (mass @ phi)
    assert np.abs(overlap @ overlap.T - np.eye(block.n_modes)).max() < 1e-8
    assert np.abs(psi - phi).max() < 1e-6


def test_bad_laplace_beltrami_solver_parameters():
    mesh = icosphere(1)
    with pytest.raises(ParameterError, match="solver"):
        laplace_beltrami_basis(mesh, 3, solver="lobpcg")
    with pytest.raises(ParameterError, match="block"):
        laplace_beltrami_basis(mesh, 3, block=0)
    with pytest.raises(ParameterError, match="workers"):
        laplace_beltrami_basis(icosphere(4), 3, workers=0)


# --------------------------------------------------------------------------- connected components


def _spheres(*radii: float, tetrahedron: bool = False) -> TriMesh:
    """Disjoint icospheres (2,562 vertices each) of the given radii, and optionally a small tetrahedron."""
    base = icosphere(4)
    vertices, triangles, offset = [], [], 0
    for i, radius in enumerate(radii):
        vertices.append(base.vertices * radius + [3.0 * i, 0.0, 0.0])
        triangles.append(base.triangles + offset)
        offset += base.n_vertices
    if tetrahedron:
        vertices.append(0.3 * np.array([[1.0, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) + [0.0, 5.0, 0.0])
        triangles.append(np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]]) + offset)
    return TriMesh(np.concatenate(vertices), np.concatenate(triangles))


@pytest.fixture(scope="module")
def two_spheres() -> TriMesh:
    return _spheres(1.0, 1.25)


@pytest.fixture(scope="module")
def two_spheres_whole(two_spheres) -> HarmonicBasis:
    with threadpool_limits(1):
        return laplace_beltrami_basis(two_spheres, 40, margin=6, split=False)


def _assert_same_basis(basis: HarmonicBasis, reference: HarmonicBasis, zeros: int = 2) -> None:
    assert basis.n_modes == reference.n_modes
    assert np.abs(basis.eigenvalues[:zeros]).max() < 1e-10
    np.testing.assert_allclose(basis.eigenvalues[zeros:], reference.eigenvalues[zeros:], rtol=1e-10)
    psi, phi, mass = basis.eigenvectors, reference.eigenvectors, basis.mass
    assert np.abs(psi.T @ (mass @ psi) - np.eye(basis.n_modes)).max() < 1e-10
    overlap = psi.T @ (mass @ phi)  # equal eigenspaces: the B-orthogonal projectors agree
    assert np.abs(overlap @ overlap.T - np.eye(basis.n_modes)).max() < 1e-8
    assert np.abs(psi - phi).max() < 1e-6  # and with the gauge fixed, the vectors themselves


def test_components_solved_separately_match_the_whole_mesh(two_spheres, two_spheres_whole):
    with threadpool_limits(1):
        split = laplace_beltrami_basis(two_spheres, 40, margin=6, workers=2)  # the spheres side by side
    assert split.params["parts"] == 2 and "2 connected parts" in split.params["solver"]
    assert two_spheres_whole.params["parts"] == 1
    _assert_same_basis(split, two_spheres_whole)
    # Radii 1 and 1.25: l (l + 1) and l (l + 1) / 1.5625, each with multiplicity 2l + 1 (1 % discretisation error).
    values = split.eigenvalues[2:]
    exact = np.sort(np.concatenate([DEGREES[1:] * (DEGREES[1:] + 1.0) / r**2 for r in (1.0, 1.25)]))[: len(values)]
    assert np.abs(values / exact - 1.0).max() < 0.01


def test_component_search_asks_more_of_a_short_component(two_spheres, two_spheres_whole, monkeypatch):
    # Asking each sphere for 40 % of its area share makes both come up short: the coverage step must fill in.
    import harmonix.harmonics.basis as basis_module

    counts = []
    lanczos = basis_module._block_lanczos

    def spy(solve, mass, count, found, *args, **kwargs):
        counts.append((count, found.shape[1]))
        return lanczos(solve, mass, count, found, *args, **kwargs)

    monkeypatch.setattr(basis_module, "LB_SPLIT_SAFETY", -0.6)
    monkeypatch.setattr(basis_module, "_block_lanczos", spy)
    with threadpool_limits(1):
        split = laplace_beltrami_basis(two_spheres, 40, margin=6, workers=1)
    assert split.params["parts"] == 2
    assert any(found > 0 for _, found in counts), counts  # searches in the complement of modes already found
    _assert_same_basis(split, two_spheres_whole)


def test_component_search_finds_degenerate_partners_a_small_block_misses(two_spheres, two_spheres_whole, monkeypatch):
    # A block of 3 cannot see all partners of the sphere's exactly degenerate eigenspaces
    # at once; Sylvester's count per component must bring in the rest.
    import harmonix.harmonics.basis as basis_module

    counts = []
    lanczos = basis_module._block_lanczos

    def spy(solve, mass, count, found, *args, **kwargs):
        counts.append((count, found.shape[1]))
        return lanczos(solve, mass, count, found, *args, **kwargs)

    monkeypatch.setattr(basis_module, "_block_lanczos", spy)
    with threadpool_limits(1):
        split = laplace_beltrami_basis(two_spheres, 40, margin=6, block=3, workers=1)
    assert any(found > 0 for _, found in counts), counts  # a partner was missing and sought
    assert split.n_modes == two_spheres_whole.n_modes
    np.testing.assert_allclose(split.eigenvalues[2:], two_spheres_whole.eigenvalues[2:], rtol=1e-7)


def test_small_components_join_the_largest(two_spheres):
    mesh = _spheres(1.0, 1.25, tetrahedron=True)
    with threadpool_limits(1):
        split = laplace_beltrami_basis(mesh, 40, margin=6)
        whole = laplace_beltrami_basis(mesh, 40, margin=6, split=False)
    assert split.params["parts"] == 2  # three components, the tetrahedron solved with a sphere
    _assert_same_basis(split, whole, zeros=3)


def test_component_groups_and_their_counts():
    from harmonix.harmonics.basis import LB_SPLIT_MIN_VERTICES, _component_groups

    big, small = LB_SPLIT_MIN_VERTICES, 10
    labels = np.concatenate([np.full(2 * big, 0), np.full(small, 1), np.full(big, 2)])
    mass = scipy.sparse.identity(len(labels), format="csr")  # vertex areas 1: shares by vertex count
    groups = _component_groups(labels, mass, 60)
    assert [len(members) for members, _ in groups] == [2 * big + small, big]
    assert np.array_equal(groups[0][0], np.flatnonzero(labels != 2))  # the small component joins the largest
    counts = [count for _, count in groups]
    assert sum(counts) >= 60 and counts[0] > counts[1]
    assert _component_groups(np.zeros(3 * big, dtype=int), scipy.sparse.identity(3 * big, format="csr"), 60) is None
    assert _component_groups(labels, mass, big) is None  # a component would need more than a quarter of its vertices


def test_default_shift_scales_with_the_spectrum():
    mesh = icosphere(3)
    with threadpool_limits(1):
        default = laplace_beltrami_basis(mesh, 16, margin=5)
        fixed = laplace_beltrami_basis(mesh, 16, margin=5, sigma=-0.01)
    # Weyl: lambda_k ~ 4 pi k / area, about 22 on the unit sphere for k = 22.
    assert -0.5 < default.params["sigma"] < -0.1 and fixed.params["sigma"] == -0.01
    np.testing.assert_allclose(default.eigenvalues[1:], fixed.eigenvalues[1:], rtol=1e-10)
    for sigma in (0.0, 0.5, float("nan"), float("-inf"), True, "low"):
        with pytest.raises(ParameterError, match="sigma"):
            laplace_beltrami_basis(mesh, 3, sigma=sigma)


def test_b_orthonormalize_repeats_cholesky_qr_for_an_ill_conditioned_block(rng):
    from harmonix.harmonics.basis import _b_orthonormalize

    _, mass = cotangent_laplacian(icosphere(3))
    well = rng.standard_normal((mass.shape[0], 6))
    ill = well @ np.diag(10.0 ** -np.arange(6))  # condition number ~1e5: one Cholesky QR pass is not enough
    for block in (well, ill):
        q, r, weighted = _b_orthonormalize(block.copy(), mass)
        assert np.abs(q.T @ (mass @ q) - np.eye(6)).max() < 1e-13
        np.testing.assert_allclose(q @ r, block, atol=1e-12 * np.abs(block).max())
        np.testing.assert_allclose(weighted, mass @ q, atol=1e-14)
        assert np.allclose(r, np.triu(r))


@pytest.mark.parametrize("workers", [1, 2])
def test_block_solves_in_chunks_match_single_solves(workers, rng):
    from harmonix.harmonics.basis import _parallel_solve, _symmetric_lu

    stiffness, mass = cotangent_laplacian(icosphere(3))
    lu = _symmetric_lu((stiffness + 0.1 * mass).tocsc())
    rhs = rng.standard_normal((mass.shape[0], 19))  # two full chunks of 8 and a partial one
    out = _parallel_solve(lu, workers)(rhs)
    expected = np.column_stack([lu.solve(column) for column in rhs.T])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
