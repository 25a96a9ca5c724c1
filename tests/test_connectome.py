"""Connectome models, user-data loaders, the connectome graph and its Laplacian."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from harmonix.errors import ChannelError, HarmonixError, InputFileError, ParameterError
from harmonix.harmonics.connectome import (
    Connectome,
    load_connectivity,
    load_default_connectome,
    load_leadfield,
    load_region_map,
    load_surface,
    region_centres,
)
from harmonix.harmonics.graph import connectome_graph, graph_laplacian, long_range_edges
from harmonix.harmonics.mesh import TriMesh, check_mesh, connected_components, mesh_edges

pytest.importorskip("tvb_data")


@pytest.fixture(scope="module")
def default():
    return load_default_connectome()


@pytest.fixture(scope="module")
def default_graph(default):
    return connectome_graph(default)


def _tetrahedron(offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]) + offset
    triangles = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    return vertices, triangles


def _two_tetrahedra(weight: float) -> Connectome:
    """Two closed tetrahedra (one region each) joined only through the connectome."""
    v1, t1 = _tetrahedron()
    v2, t2 = _tetrahedron(10.0)
    mesh = TriMesh(np.vstack([v1, v2]), np.vstack([t1, t2 + 4]))
    region_map = np.repeat([0, 1], 4)
    return Connectome(
        mesh=mesh,
        region_map=region_map,
        weights=np.array([[0.0, weight], [weight, 0.0]]),
        tract_lengths=None,
        centres=region_centres(mesh, region_map, 2),
        region_labels=("left", "right"),
        name="two-tetrahedra",
    )


# --------------------------------------------------------------------------- default model


def test_default_connectome_shapes(default):
    assert default.n_vertices == 16384
    assert default.mesh.triangles.shape == (32760, 3)
    assert default.n_regions == 76
    assert default.weights.shape == default.tract_lengths.shape == (76, 76)
    assert default.centres.shape == (76, 3)
    assert default.region_labels[0] == "rA1" and default.region_labels[-1] == "lCC"
    # 65 sensors in the file; IO1/IO2 have all-NaN leadfield rows and are dropped.
    assert default.leadfield.shape == (63, 16384)
    assert default.n_sensors == len(default.sensor_names) == 63
    assert default.sensor_positions.shape == (63, 3)
    assert np.isfinite(default.leadfield).all()
    assert "IO1" not in default.sensor_names and {"T8", "P7", "Cz", "Fpz"} <= set(default.sensor_names)


def test_default_connectome_contents(default):
    # every region has vertices, each hemisphere is one mesh component
    assert (np.bincount(default.region_map, minlength=76) > 0).all()
    assert np.bincount(check_mesh(default.mesh, allow_components=2)).tolist() == [8192, 8192]
    # centres are the means of their regions' vertices, in the surface frame
    np.testing.assert_allclose(region_centres(default.mesh, default.region_map, 76), default.centres, atol=1e-5)
    # weights are kept as shipped (asymmetric), tract lengths are symmetric mm
    assert not np.allclose(default.weights, default.weights.T)
    np.testing.assert_allclose(default.tract_lengths, default.tract_lengths.T)


def test_default_connectome_cached_and_read_only(default):
    assert load_default_connectome() is default
    with pytest.raises(ValueError):
        default.weights[0, 0] = 1.0
    with pytest.raises(ValueError):
        default.leadfield[0, 0] = 1.0


# --------------------------------------------------------------------------- graph


def test_default_graph_connected_symmetric_binary(default, default_graph):
    adjacency = default_graph
    assert adjacency.shape == (16384, 16384)
    assert abs(adjacency - adjacency.T).max() == 0
    assert np.all(adjacency.data == 1.0)
    assert adjacency.diagonal().max() == 0
    assert connected_components(adjacency).max() == 0
    n_mesh = len(mesh_edges(default.mesh.triangles)[0])
    far, _ = long_range_edges(default)
    assert adjacency.nnz // 2 == n_mesh + len(far)
    # 881 region pairs after symmetrising, 19 of them inter-hemispheric
    assert len(far) == 881
    hemisphere = default.region_map[far] >= 38
    assert (hemisphere[:, 0] != hemisphere[:, 1]).sum() == 19


@pytest.mark.parametrize("rule", ["centroid-nearest", "facing"])
def test_long_range_rules(default, rule):
    edges, weights = long_range_edges(default, rule=rule, n_endpoints=3)
    assert np.all(edges[:, 0] < edges[:, 1])
    assert len(np.unique(edges, axis=0)) == len(edges)
    assert 881 < len(edges) <= 3 * 881
    assert np.all(weights > 0)
    # every edge joins two different regions
    assert np.all(default.region_map[edges[:, 0]] != default.region_map[edges[:, 1]])
    assert connected_components(connectome_graph(default, long_range=rule, n_endpoints=3)).max() == 0


def test_facing_rule_spreads_endpoints(default):
    hubs, _ = long_range_edges(default, rule="centroid-nearest")
    facing, _ = long_range_edges(default, rule="facing")
    # rCC and lCC (the corpus-callosum patches of the medial wall) have no connections
    assert len(np.unique(hubs)) == 74
    assert len(np.unique(facing)) > 300


def test_weighted_graph_and_threshold(default):
    adjacency = connectome_graph(default, weighted=True)
    assert adjacency.data.max() == 1.0 and adjacency.data.min() > 0
    assert abs(adjacency - adjacency.T).max() == 0
    strong, _ = long_range_edges(default, weight_threshold=1.0)
    assert 0 < len(strong) < 881


def test_graph_parameters_rejected(default):
    with pytest.raises(ParameterError, match="long-range rule"):
        connectome_graph(default, long_range="nearest")
    with pytest.raises(ParameterError, match="n_endpoints"):
        connectome_graph(default, n_endpoints=0)
    with pytest.raises(ParameterError, match="weight_threshold"):
        connectome_graph(default, weight_threshold=-1)


def test_disconnected_graph_is_an_error():
    joined = connectome_graph(_two_tetrahedra(1.0))
    assert joined.nnz // 2 == 12 + 1
    with pytest.raises(ParameterError, match=r"2 disconnected parts.*weight_threshold"):
        connectome_graph(_two_tetrahedra(0.0))
    with pytest.raises(ParameterError, match="disconnected"):
        connectome_graph(_two_tetrahedra(0.5), weight_threshold=0.5)


# --------------------------------------------------------------------------- Laplacian


def test_laplacians_of_default_graph(default_graph):
    combinatorial = graph_laplacian(default_graph, normalized=False)
    np.testing.assert_allclose(np.asarray(combinatorial.sum(axis=1)).ravel(), 0, atol=1e-12)
    normalised = graph_laplacian(default_graph)
    np.testing.assert_allclose(normalised.diagonal(), 1.0)
    assert abs(normalised - normalised.T).max() < 1e-15
    # sqrt(degree) spans the null space of the normalised Laplacian
    root_degree = np.sqrt(np.asarray(default_graph.sum(axis=1)).ravel())
    assert np.abs(normalised @ root_degree).max() < 1e-12


def test_normalised_laplacian_spectrum_in_0_2(rng):
    weights = rng.random((40, 40)) * (rng.random((40, 40)) < 0.2)
    adjacency = np.triu(weights, 1) + np.triu(weights, 1).T
    adjacency[np.arange(39), np.arange(1, 40)] = adjacency[np.arange(1, 40), np.arange(39)] = 1.0  # connected
    eigenvalues = np.linalg.eigvalsh(graph_laplacian(scipy.sparse.csr_matrix(adjacency)).toarray())
    assert eigenvalues.min() > -1e-12 and eigenvalues.max() <= 2 + 1e-12
    assert abs(eigenvalues[0]) < 1e-12 and eigenvalues[1] > 1e-6
    # a bipartite graph (even cycle) reaches the upper bound 2
    cycle = scipy.sparse.csr_matrix(np.roll(np.eye(6), 1, axis=1) + np.roll(np.eye(6), -1, axis=1))
    assert np.linalg.eigvalsh(graph_laplacian(cycle).toarray()).max() == pytest.approx(2.0)


def test_laplacian_bad_adjacency():
    with pytest.raises(ParameterError, match="not symmetric"):
        graph_laplacian(scipy.sparse.csr_matrix(np.array([[0.0, 1], [0, 0]])))
    with pytest.raises(ParameterError, match="no edges"):
        graph_laplacian(scipy.sparse.csr_matrix(np.array([[0.0, 1, 0], [1, 0, 0], [0, 0, 0]])))
    with pytest.raises(ParameterError, match="square"):
        graph_laplacian(scipy.sparse.csr_matrix(np.ones((2, 3))))


# --------------------------------------------------------------------------- bad meshes


def test_non_manifold_mesh_rejected(tmp_path):
    mne = pytest.importorskip("mne")
    # three triangles share the edge 0-1
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]])
    triangles = np.array([[0, 1, 2], [0, 1, 3], [0, 1, 4]])
    with pytest.raises(InputFileError, match="not manifold"):
        check_mesh(TriMesh(vertices, triangles))
    path = tmp_path / "lh.nonmanifold"
    mne.write_surface(str(path), vertices, triangles, overwrite=True)
    with pytest.raises(InputFileError, match=r"lh\.nonmanifold.*not manifold"):
        load_surface(path)


def test_disconnected_mesh_rejected_where_not_allowed():
    v1, t1 = _tetrahedron()
    v2, t2 = _tetrahedron(5.0)
    mesh = TriMesh(np.vstack([v1, v2]), np.vstack([t1, t2 + 4]))
    assert np.bincount(check_mesh(mesh)).tolist() == [4, 4]
    with pytest.raises(InputFileError, match="2 disconnected parts"):
        check_mesh(mesh, allow_components=1)


# --------------------------------------------------------------------------- loaders


def test_surface_round_trips(tmp_path):
    mne = pytest.importorskip("mne")
    vertices, triangles = _tetrahedron()
    freesurfer = tmp_path / "lh.pial"
    mne.write_surface(str(freesurfer), vertices, triangles, overwrite=True)
    mesh = load_surface(freesurfer)
    np.testing.assert_allclose(mesh.vertices, vertices, atol=1e-6)
    np.testing.assert_array_equal(mesh.triangles, triangles)

    nibabel = pytest.importorskip("nibabel")
    gifti = tmp_path / "lh.pial.surf.gii"
    image = nibabel.gifti.GiftiImage(
        darrays=[
            nibabel.gifti.GiftiDataArray(vertices.astype(np.float32), intent="NIFTI_INTENT_POINTSET"),
            nibabel.gifti.GiftiDataArray(triangles.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE"),
        ]
    )
    nibabel.save(image, gifti)
    mesh = load_surface(gifti)
    np.testing.assert_allclose(mesh.vertices, vertices, atol=1e-6)
    np.testing.assert_array_equal(mesh.triangles, triangles)


@pytest.mark.parametrize(
    "name, content",
    [
        ("garbage.surf.gii", b"\x00\x13not xml at all\xff" * 20),
        ("lh.pial", b"\x00\x13garbage bytes\xff" * 20),
        ("rh.white", b"\xff\xff\xfe" + b"created by nobody\n\n" + b"\x00\x01"),  # magic, then truncated
        ("empty.gii", b""),
    ],
)
def test_surface_loader_garbage(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=name.replace(".", r"\.")):
        load_surface(path)


def test_surface_loader_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        load_surface(tmp_path / "lh.missing")


def test_load_connectivity(tmp_path):
    matrix = np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]])
    region_map = np.array([0, 1, 2, 2])
    np.savetxt(tmp_path / "w.csv", matrix, delimiter=",")
    np.save(tmp_path / "w.npy", matrix)
    np.testing.assert_array_equal(load_connectivity(tmp_path / "w.csv", region_map), matrix)
    np.testing.assert_array_equal(load_connectivity(tmp_path / "w.npy", region_map), matrix)

    np.savetxt(tmp_path / "rect.csv", np.ones((3, 4)), delimiter=",")
    with pytest.raises(InputFileError, match=r"rect\.csv.*square"):
        load_connectivity(tmp_path / "rect.csv", region_map)
    with pytest.raises(InputFileError, match=r"w\.csv.*3 regions.*up to 5"):
        load_connectivity(tmp_path / "w.csv", np.array([0, 1, 5]))
    (tmp_path / "text.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match=r"text\.csv.*numeric"):
        load_connectivity(tmp_path / "text.csv", region_map)
    np.save(tmp_path / "nan.npy", np.where(np.eye(3) > 0, np.nan, 1.0))
    with pytest.raises(InputFileError, match="NaN"):
        load_connectivity(tmp_path / "nan.npy", region_map)


def test_load_region_map(tmp_path):
    (tmp_path / "map.txt").write_text("0\n1\n1\n2\n")
    assert load_region_map(tmp_path / "map.txt", n_vertices=4).tolist() == [0, 1, 1, 2]
    with pytest.raises(InputFileError, match=r"map\.txt.*one entry per vertex \(5\)"):
        load_region_map(tmp_path / "map.txt", n_vertices=5)
    (tmp_path / "bad.txt").write_text("0\n1.5\n")
    with pytest.raises(InputFileError, match="integer"):
        load_region_map(tmp_path / "bad.txt")


def test_load_leadfield(tmp_path):
    gain = np.arange(12.0).reshape(3, 4)
    np.save(tmp_path / "g.npy", gain)
    np.testing.assert_array_equal(load_leadfield(tmp_path / "g.npy", ["a", "b", "c"], n_vertices=4), gain)
    with pytest.raises(InputFileError, match=r"g\.npy.*4 columns.*5 vertices"):
        load_leadfield(tmp_path / "g.npy", n_vertices=5)
    with pytest.raises(InputFileError, match="transposed"):
        load_leadfield(tmp_path / "g.npy", n_vertices=3)
    with pytest.raises(ChannelError, match=r"g\.npy.*3 rows.*2 sensor names"):
        load_leadfield(tmp_path / "g.npy", ["a", "b"])
    (tmp_path / "g.csv").write_text("1,2\n")
    with pytest.raises(InputFileError, match=r"\.npy"):
        load_leadfield(tmp_path / "g.csv")


# --------------------------------------------------------------------------- Connectome validation


def _parts():
    vertices, triangles = _tetrahedron()
    mesh = TriMesh(vertices, triangles)
    region_map = np.array([0, 0, 1, 1])
    return dict(
        mesh=mesh,
        region_map=region_map,
        weights=np.array([[0.0, 1], [1, 0]]),
        tract_lengths=None,
        centres=region_centres(mesh, region_map, 2),
        region_labels=("a", "b"),
        leadfield=np.ones((2, 4)),
        sensor_names=("Cz", "Pz"),
    )


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(weights=np.ones((2, 3))), InputFileError, "square"),
        (dict(weights=np.zeros((3, 3))), InputFileError, "centres must have shape"),
        (dict(region_map=np.array([0, 0, 1, 2])), InputFileError, "2 regions"),
        (dict(region_map=np.array([0, 1, 1])), InputFileError, "one entry per vertex"),
        (dict(tract_lengths=np.ones((3, 3))), InputFileError, "tract lengths"),
        (dict(region_labels=("a",)), InputFileError, "1 region labels"),
        (dict(leadfield=np.ones((2, 5))), InputFileError, "one column per vertex"),
        (dict(leadfield=np.full((2, 4), np.nan)), InputFileError, "NaN"),
        (dict(sensor_names=("Cz",)), ChannelError, "1 sensor names"),
        (dict(sensor_names=("Cz", "Cz")), ChannelError, "duplicate"),
        (dict(sensor_names=None), ChannelError, "needs sensor names"),
        (dict(leadfield=None), ChannelError, "without a leadfield"),
    ],
)
def test_connectome_validation(change, error, message):
    parts = _parts()
    parts.update(change)
    with pytest.raises(error, match=message) as caught:
        Connectome(**parts, name="tiny")
    assert isinstance(caught.value, HarmonixError)
    assert "tiny" in str(caught.value)


def test_connectome_valid_tiny():
    model = Connectome(**_parts(), name="tiny")
    assert (model.n_vertices, model.n_regions, model.n_sensors) == (4, 2, 2)
    assert "tiny" in repr(model)
