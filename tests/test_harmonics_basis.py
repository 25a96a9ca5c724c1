"""Harmonic bases: Laplace–Beltrami sphere check, graph spectra, gauge, cache."""

from __future__ import annotations

import io
import os
import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse
from threadpoolctl import threadpool_limits  # ARPACK's small BLAS calls gain nothing from threads

from harmonix.errors import HarmonixError, InputFileError, ParameterError
from harmonix.harmonics.basis import HarmonicBasis, _finish, graph_basis, laplace_beltrami_basis
from harmonix.harmonics.eigensolve import shift_invert_eigsh
from harmonix.harmonics.cache import HarmonicCacheWarning, basis_validator, cache_key, cached_basis
from harmonix.harmonics.connectome import Connectome, region_centres
from harmonix.harmonics.graph import graph_laplacian
from harmonix.harmonics.laplace_beltrami import cotangent_laplacian, icosphere
from harmonix.harmonics.mesh import TriMesh
from harmonix.harmonics.model import connectome_harmonics


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
        values, vectors = shift_invert_eigsh(
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


# A poisoned or damaged entry: the key inside the file is right, the contents are not.


def _grid_laplacian(rows: int, cols: int) -> scipy.sparse.csr_matrix:
    """Normalised Laplacian of a rows x cols grid graph (simple eigenvalues for rows != cols)."""
    path = lambda m: scipy.sparse.diags([np.ones(m - 1), np.ones(m - 1)], [1, -1])  # noqa: E731
    adjacency = scipy.sparse.kron(path(rows), scipy.sparse.eye(cols)) + scipy.sparse.kron(scipy.sparse.eye(rows), path(cols))
    return graph_laplacian(adjacency, normalized=True)


class _Case:
    """A small basis to cache: its compute (counted), cache key and entry check."""

    def __init__(self, kind: str):
        self.kind, self.calls, self.checks = kind, 0, 0
        if kind == "laplace-beltrami":
            self.mesh = icosphere(3)
            stiffness, mass = cotangent_laplacian(self.mesh)
            self.parts = {"mesh": self.mesh, "kind": kind, "n_modes": 16}
            self.solve = lambda: laplace_beltrami_basis(self.mesh, 16, margin=5)
            self.check = basis_validator(stiffness, mass, kind=kind, n_modes=16, margin=5)
        else:
            self.laplacian = _grid_laplacian(14, 11)
            self.parts = {"laplacian": self.laplacian, "kind": kind, "n_modes": 12}
            self.solve = lambda: graph_basis(self.laplacian, 12, margin=4)
            self.check = basis_validator(self.laplacian, kind=kind, n_modes=12, margin=4)

    def compute(self) -> HarmonicBasis:
        self.calls += 1
        return self.solve()

    def validate(self, basis: HarmonicBasis, rng: np.random.Generator) -> str | None:
        self.checks += 1
        return self.check(basis, rng)

    def load(self, folder) -> HarmonicBasis:
        return cached_basis(self.compute, key_parts=self.parts, cache_dir=folder, validate=self.validate)

    def path(self, folder):
        return folder / f"{cache_key(self.parts)}.npz"


KINDS = ["laplace-beltrami", "graph-normalized"]


def _arrays(path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _rewrite(path, **changes) -> None:
    """Replace arrays of a cache entry, keeping its key (a poisoned entry is a well-formed file)."""
    arrays = {**_arrays(path), **changes}
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _assert_same(basis: HarmonicBasis, fresh: HarmonicBasis) -> None:
    np.testing.assert_array_equal(basis.eigenvalues, fresh.eigenvalues)
    np.testing.assert_array_equal(basis.eigenvectors, fresh.eigenvectors)


@pytest.mark.parametrize("kind", KINDS)
def test_valid_cache_entry_is_loaded_after_its_check(tmp_path, kind):
    case = _Case(kind)
    fresh = case.load(tmp_path)
    assert fresh.params["cache"] == "miss" and case.calls == 1 and case.checks == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", HarmonicCacheWarning)
        loaded = case.load(tmp_path)
    assert loaded.params["cache"] == "hit" and case.calls == 1  # no recomputation
    assert case.checks == 1  # but the entry was checked against its operator
    _assert_same(loaded, fresh)


def _rotate(vectors: np.ndarray, i: int, j: int, angle: float = 0.3) -> np.ndarray:
    """Mix two modes of different eigenvalues: still orthonormal, no longer eigenvectors."""
    out = vectors.copy()
    c, s = np.cos(angle), np.sin(angle)
    out[:, i], out[:, j] = c * vectors[:, i] + s * vectors[:, j], -s * vectors[:, i] + c * vectors[:, j]
    return out


def _noisy(vectors: np.ndarray, j: int, size: float = 1e-4) -> np.ndarray:
    out = vectors.copy()
    out[:, j] += size * np.random.default_rng(3).standard_normal(len(out)) * np.abs(out[:, j]).max()
    return out


POISONS = {
    # mode 0 is always checked; the l = 2 / second cluster has a different eigenvalue
    "rotated modes": (
        lambda a: {"eigenvectors": _rotate(a["eigenvectors"], 0, 5)}, r"eigen-equation check \(residual \S+ on mode (0|5)\)"
    ),
    "noisy mode": (lambda a: {"eigenvectors": _noisy(a["eigenvectors"], 7)}, r"(orthonormality|eigen-equation) check"),
    "scaled eigenvalues": (lambda a: {"eigenvalues": a["eigenvalues"] * 1.01}, r"eigen-equation check"),
    "unsorted eigenvalues": (lambda a: {"eigenvalues": a["eigenvalues"][::-1].copy()}, r"eigenvalue check \(not sorted"),
    "nan": (lambda a: {"eigenvectors": np.where(np.arange(a["eigenvectors"].shape[1]) == 3, np.nan, a["eigenvectors"])},
            r"eigenvector check \(non-finite values in mode 3\)"),
    "another mesh": (lambda a: _drop_last_vertex(a), r"shape check \(\d+ vertices, the operator has \d+\)"),
}


def _drop_last_vertex(arrays: dict) -> dict:
    """The entry of a mesh with one vertex fewer (mass matrix included, so that the file is consistent)."""
    changes = {"eigenvectors": arrays["eigenvectors"][:-1]}
    if "mass_data" in arrays:
        n = len(arrays["eigenvectors"])
        mass = scipy.sparse.csr_matrix((arrays["mass_data"], arrays["mass_indices"], arrays["mass_indptr"]), shape=(n, n))
        mass = mass[:-1, :-1].tocsr()
        changes.update(mass_data=mass.data, mass_indices=mass.indices, mass_indptr=mass.indptr)
    return changes


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("poison", list(POISONS))
def test_poisoned_cache_entry_is_recomputed(tmp_path, kind, poison):
    case = _Case(kind)
    fresh = case.load(tmp_path)
    path = case.path(tmp_path)
    change, reason = POISONS[poison]
    _rewrite(path, **change(_arrays(path)))
    assert str(_arrays(path)["key"]) == cache_key(case.parts)  # the key alone would let it through

    with pytest.warns(HarmonicCacheWarning) as caught:
        basis = case.load(tmp_path)
    (warning,) = caught
    message = str(warning.message)
    assert message.startswith(f"harmonic basis cache entry {path} ") and message.endswith("; recomputed")
    assert "\n" not in message
    assert re.search(reason, message), message
    assert case.calls == 2
    assert basis.params["cache"].startswith("recomputed: failed its ")
    reason_given = message.removeprefix(f"harmonic basis cache entry {path} ").removesuffix("; recomputed")
    assert basis.params["cache"] == f"recomputed: {reason_given}"  # shown by `harmonix harmonics` and in params
    _assert_same(basis, fresh)
    # The entry was replaced (atomically: no temporary left): the next load is a plain hit.
    again = case.load(tmp_path)
    assert again.params["cache"] == "hit" and case.calls == 2
    _assert_same(again, fresh)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


class _Unpickled:
    """Unpickling this creates a folder: proof that a cache file was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _garbage(name: str, good: bytes, arrays: dict, marker) -> bytes:
    middle = len(good) // 2
    if name == "empty":
        return b""
    if name == "text":
        return b"truncated"
    if name == "truncated":
        return good[:middle]
    if name == "flipped byte":  # inside the eigenvectors: the zip CRC no longer matches
        return good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1 :]
    if name == "pickle":
        return pickle.dumps(_Unpickled(marker))
    if name == "object array":
        return _npz(**{**arrays, "eigenvalues": np.array([_Unpickled(marker)], dtype=object)})
    if name == "missing array":
        return _npz(**{k: v for k, v in arrays.items() if k != "eigenvectors"})
    if name == "another key":
        return _npz(**{**arrays, "key": np.array("0" * 64)})
    if name == "single npy":
        buffer = io.BytesIO()
        np.save(buffer, arrays["eigenvectors"])
        return buffer.getvalue()
    if name == "float32":
        return _npz(**{**arrays, "eigenvectors": arrays["eigenvectors"].astype(np.float32)})
    if name == "bad params":
        return _npz(**{**arrays, "params": np.array("[1, 2")})
    raise AssertionError(name)


GARBAGE = ["empty", "text", "truncated", "flipped byte", "pickle", "object array", "missing array", "another key",
           "single npy", "float32", "bad params"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("garbage", GARBAGE)
def test_unreadable_cache_file_is_recomputed(tmp_path, kind, garbage):
    case = _Case(kind)
    cache = tmp_path / "cache"
    fresh = case.load(cache)
    path = case.path(cache)
    marker = tmp_path / "unpickled"
    path.write_bytes(_garbage(garbage, path.read_bytes(), _arrays(path), marker))

    with pytest.warns(HarmonicCacheWarning, match=r"(is unreadable|failed its key check) \(.*\); recomputed$"):
        basis = case.load(cache)
    assert not marker.exists()  # nothing was unpickled
    assert case.calls == 2 and case.checks == 0  # never got as far as the eigen-equation
    assert basis.params["cache"].startswith("recomputed: ")
    _assert_same(basis, fresh)
    assert case.load(cache).params["cache"] == "hit" and case.calls == 2


def test_mass_with_stray_indices_is_unreadable(tmp_path):
    case = _Case("laplace-beltrami")
    case.load(tmp_path)
    path = case.path(tmp_path)
    indices = _arrays(path)["mass_indices"].copy()
    indices[len(indices) // 2] = 10**6  # would read outside the vectors in a product
    _rewrite(path, mass_indices=indices)
    with pytest.warns(HarmonicCacheWarning, match="unreadable"):
        assert case.load(tmp_path).params["cache"].startswith("recomputed: is unreadable (ValueError")
    assert case.calls == 2


def test_cache_without_a_validator_still_checks_what_needs_no_operator(tmp_path):
    laplacian = _grid_laplacian(14, 11)
    parts = {"laplacian": laplacian, "n_modes": 12}
    cached_basis(lambda: graph_basis(laplacian, 12), key_parts=parts, cache_dir=tmp_path)
    path = tmp_path / f"{cache_key(parts)}.npz"
    vectors = _arrays(path)["eigenvectors"]
    _rewrite(path, eigenvectors=vectors * np.r_[np.ones(vectors.shape[1] - 1), 1.001])  # one mode not unit-norm
    with pytest.warns(HarmonicCacheWarning, match="orthonormality"):
        basis = cached_basis(lambda: graph_basis(laplacian, 12), key_parts=parts, cache_dir=tmp_path)
    assert basis.params["cache"].startswith("recomputed: failed its orthonormality check")


def test_basis_validator_accepts_fresh_bases(sphere_basis, sphere_matrices):
    stiffness, mass = sphere_matrices
    check = basis_validator(stiffness, mass, kind="laplace-beltrami", n_modes=N_LOW, margin=6)
    for seed in range(10):  # different modes and combinations checked
        assert check(sphere_basis, np.random.default_rng(seed)) is None
    laplacian = _cycle_normalized_laplacian(60)  # degenerate pairs
    cycle = graph_basis(laplacian, 9, margin=2)
    graph_check = basis_validator(laplacian, kind="graph-normalized", n_modes=9, margin=2, solver_tol=1e-10)
    for seed in range(10):
        assert graph_check(cycle, np.random.default_rng(seed)) is None


def test_basis_validator_rejects_a_basis_of_another_problem(sphere_basis, sphere_matrices):
    stiffness, mass = sphere_matrices
    rng = np.random.default_rng(0)
    check = basis_validator(stiffness, mass, kind="laplace-beltrami", n_modes=N_LOW, margin=6)
    assert "kind check" in basis_validator(stiffness, kind="graph-normalized")(sphere_basis, rng)
    assert "modes" in basis_validator(stiffness, mass, kind="laplace-beltrami", n_modes=10, margin=6)(sphere_basis, rng)
    other_stiffness, other_mass = cotangent_laplacian(icosphere(4))
    assert "vertices" in basis_validator(other_stiffness, other_mass, kind="laplace-beltrami")(sphere_basis, rng)
    lumped = cotangent_laplacian(icosphere(5), lump=True)[1]
    assert "mass matrix check" in basis_validator(stiffness, lumped, kind="laplace-beltrami")(sphere_basis, rng)
    # The same sphere scaled by 2: eigenvectors of the same shape, eigenvalues four times smaller.
    big = TriMesh(icosphere(5).vertices * 2.0, icosphere(5).triangles)
    big_stiffness, _ = cotangent_laplacian(big)
    scaled = HarmonicBasis(sphere_basis.eigenvalues / 4.0, sphere_basis.eigenvectors, "laplace-beltrami", mass=mass)
    assert "eigen-equation check" in check(scaled, rng)
    assert check(sphere_basis, rng) is None
    with pytest.raises(ParameterError, match="mass"):
        basis_validator(stiffness, kind="laplace-beltrami")


def test_modes_not_checked_one_by_one_are_checked_in_a_random_combination(monkeypatch):
    import harmonix.harmonics.cache as cache_module

    monkeypatch.setattr(cache_module, "CACHE_RANDOM_MODES", 0)  # only the first, middle and last one by one
    for kind in KINDS:
        case = _Case(kind)
        basis = case.solve()
        k = basis.n_modes
        assert 2 not in {0, k // 2, k - 1}

        def poisoned(vectors=None, values=None) -> HarmonicBasis:
            return HarmonicBasis(basis.eigenvalues if values is None else values,
                                 basis.eigenvectors if vectors is None else vectors, kind, mass=basis.mass)

        rng = lambda: np.random.default_rng(0)  # noqa: E731
        assert case.check(basis, rng()) is None
        rotated = case.check(poisoned(_rotate(basis.eigenvectors, 2, k - 2)), rng())
        assert rotated.startswith("failed its eigen-equation check") and "random combination of all modes" in rotated
        scaled = case.check(poisoned(basis.eigenvectors * np.where(np.arange(k) == 2, 1.001, 1.0)), rng())
        assert scaled.startswith("failed its orthonormality check") and "random combination" in scaled


def _two_sphere_connectome() -> Connectome:
    base = icosphere(2)
    mesh = TriMesh(np.vstack([base.vertices, base.vertices + [3.0, 0, 0]]),
                   np.vstack([base.triangles, base.triangles + base.n_vertices]))
    region_map = np.repeat([0, 1], base.n_vertices)
    return Connectome(mesh=mesh, region_map=region_map, weights=np.array([[0.0, 1.0], [1.0, 0.0]]),
                      tract_lengths=None, centres=region_centres(mesh, region_map, 2), region_labels=("l", "r"),
                      name="two-spheres")


@pytest.mark.parametrize("kind", ["graph-normalized", "laplace-beltrami"])
def test_connectome_harmonics_recomputes_a_poisoned_entry(tmp_path, kind):
    model = _two_sphere_connectome()
    fresh = connectome_harmonics(model, n_modes=8, kind=kind, cache_dir=tmp_path)
    assert fresh.params["cache"] == "miss"
    assert connectome_harmonics(model, n_modes=8, kind=kind, cache_dir=tmp_path).params["cache"] == "hit"
    (path,) = tmp_path.iterdir()
    _rewrite(path, eigenvectors=_rotate(_arrays(path)["eigenvectors"], 0, fresh.n_modes - 1))
    with pytest.warns(HarmonicCacheWarning, match=r"failed its eigen-equation check .* on mode 0\); recomputed"):
        basis = connectome_harmonics(model, n_modes=8, kind=kind, cache_dir=tmp_path)
    assert basis.params["cache"].startswith("recomputed: failed its eigen-equation check")
    assert basis.params["connectome"] == "two-spheres"
    _assert_same(basis, fresh)
    assert connectome_harmonics(model, n_modes=8, kind=kind, cache_dir=tmp_path).params["cache"] == "hit"


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
    import harmonix.harmonics.eigensolve as eigensolve_module

    counts = []
    lanczos = eigensolve_module.block_lanczos

    def spy(solve, mass, count, found, *args, **kwargs):
        counts.append((count, found.shape[1]))
        return lanczos(solve, mass, count, found, *args, **kwargs)

    monkeypatch.setattr(eigensolve_module, "LB_SPLIT_SAFETY", -0.6)
    monkeypatch.setattr(eigensolve_module, "block_lanczos", spy)
    with threadpool_limits(1):
        split = laplace_beltrami_basis(two_spheres, 40, margin=6, workers=1)
    assert split.params["parts"] == 2
    assert any(found > 0 for _, found in counts), counts  # searches in the complement of modes already found
    _assert_same_basis(split, two_spheres_whole)


def test_component_search_finds_degenerate_partners_a_small_block_misses(two_spheres, two_spheres_whole, monkeypatch):
    # A block of 3 cannot see all partners of the sphere's exactly degenerate eigenspaces
    # at once; Sylvester's count per component must bring in the rest.
    import harmonix.harmonics.eigensolve as eigensolve_module

    counts = []
    lanczos = eigensolve_module.block_lanczos

    def spy(solve, mass, count, found, *args, **kwargs):
        counts.append((count, found.shape[1]))
        return lanczos(solve, mass, count, found, *args, **kwargs)

    monkeypatch.setattr(eigensolve_module, "block_lanczos", spy)
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
    from harmonix.harmonics.eigensolve import LB_SPLIT_MIN_VERTICES, component_groups

    big, small = LB_SPLIT_MIN_VERTICES, 10
    labels = np.concatenate([np.full(2 * big, 0), np.full(small, 1), np.full(big, 2)])
    mass = scipy.sparse.identity(len(labels), format="csr")  # vertex areas 1: shares by vertex count
    groups = component_groups(labels, mass, 60)
    assert [len(members) for members, _ in groups] == [2 * big + small, big]
    assert np.array_equal(groups[0][0], np.flatnonzero(labels != 2))  # the small component joins the largest
    counts = [count for _, count in groups]
    assert sum(counts) >= 60 and counts[0] > counts[1]
    assert component_groups(np.zeros(3 * big, dtype=int), scipy.sparse.identity(3 * big, format="csr"), 60) is None
    assert component_groups(labels, mass, big) is None  # a component would need more than a quarter of its vertices


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
    from harmonix.harmonics.eigensolve import b_orthonormalize

    _, mass = cotangent_laplacian(icosphere(3))
    well = rng.standard_normal((mass.shape[0], 6))
    ill = well @ np.diag(10.0 ** -np.arange(6))  # condition number ~1e5: one Cholesky QR pass is not enough
    for block in (well, ill):
        q, r, weighted = b_orthonormalize(block.copy(), mass)
        assert np.abs(q.T @ (mass @ q) - np.eye(6)).max() < 1e-13
        np.testing.assert_allclose(q @ r, block, atol=1e-12 * np.abs(block).max())
        np.testing.assert_allclose(weighted, mass @ q, atol=1e-14)
        assert np.allclose(r, np.triu(r))


@pytest.mark.parametrize("workers", [1, 2])
def test_block_solves_in_chunks_match_single_solves(workers, rng):
    from harmonix.harmonics.eigensolve import parallel_solve, symmetric_lu

    stiffness, mass = cotangent_laplacian(icosphere(3))
    lu = symmetric_lu((stiffness + 0.1 * mass).tocsc())
    rhs = rng.standard_normal((mass.shape[0], 19))  # two full chunks of 8 and a partial one
    out = parallel_solve(lu, workers)(rhs)
    expected = np.column_stack([lu.solve(column) for column in rhs.T])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
