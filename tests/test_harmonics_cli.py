"""Connectome harmonics end to end: the harmonics command, analyze with harmonics, user models."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harmonix.cli import main
from harmonix.errors import InputFileError
from harmonix.harmonics.connectome import load_connectome_folder
from harmonix.harmonics.mesh import TriMesh
from harmonix.harmonics.model import regional_harmonics, region_submesh
from harmonix.harmonics.basis import laplace_beltrami_basis


def test_harmonics_command_writes_figure_and_eigenvalues(tmp_path, capsys, default_harmonics):
    assert main(["-q", "harmonics", "--n", "200", "--out", str(tmp_path / "h")]) == 0
    out = capsys.readouterr().out
    assert "cache hit" in out  # the fixture computed the same basis first
    table = pd.read_csv(tmp_path / "h" / "eigenvalues.csv")
    np.testing.assert_allclose(table["eigenvalue"], default_harmonics.eigenvalues)
    assert (tmp_path / "h" / "harmonics.png").stat().st_size > 20_000
    params = json.loads((tmp_path / "h" / "params.json").read_text())
    assert params["model"]["kind"] == "graph-normalized" and params["n_vertices"] == 16384


@pytest.mark.real_data
def test_analyze_decomposes_physionet_recording_onto_harmonics(shared_data, tmp_path, capsys, default_harmonics):
    path = shared_data / "eegmmidb_S001R01.edf"
    assert main(["-q", "analyze", str(path), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "channels matched to leadfield sensors" in out
    folder = tmp_path / "eegmmidb_S001R01"
    table = pd.read_csv(folder / "metrics.csv")
    power = table[table.metric == "harmonic_power"]
    assert set(power.component) == {f"h{k:03d}" for k in range(30)}
    assert (power.value > 0).all()
    entropy = table[table.metric == "harmonic_entropy"]
    assert ((entropy.value > 0) & (entropy.value <= np.log2(30))).all()
    params = json.loads((folder / "params.json").read_text())
    harmonics = params["harmonics"]
    assert harmonics["computed"] and len(harmonics["decomposition"]["channels_matched"]) >= 50
    assert not harmonics["decomposition"]["alpha_at_grid_edge"]
    with np.load(folder / "arrays.npz") as arrays:
        assert arrays["harmonic_power"].shape == (5, 30)
        assert arrays["window_harmonic_power"].shape[1:] == (5, 30)  # per 4-s window, bounded for hours


@pytest.mark.real_data
def test_required_harmonics_with_too_few_channels_exits_2(shared_data, tmp_path, capsys):
    path = shared_data / "ssvep_exo_s01_raw.fif"
    assert main(["-q", "analyze", str(path), "--harmonics", "on", "--out", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    # the exo recording is stored about 1e6 x too large: an amplitude warning comes first, then the one-line error
    errors = [line for line in lines if not line.startswith("harmonix: warning:")]
    assert len(errors) == 1 and "only 6 of 8 channels match" in errors[0]


def _grid(n: int, width: float = 1.0, height: float = 1.0) -> TriMesh:
    x, y = np.meshgrid(np.linspace(0, width, n + 1), np.linspace(0, height, n + 1))
    vertices = np.column_stack([x.ravel(), y.ravel(), np.zeros(x.size)])
    idx = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    return TriMesh(vertices, np.concatenate([np.column_stack([a, b, d]), np.column_stack([a, d, c])]))


def test_patch_modes_match_neumann_rectangle():
    # Free (Neumann) membrane 1 x 0.5: eigenvalues pi^2 (m^2 + 4 n^2) -> 0, pi^2, 4pi^2 (twice), 5pi^2, ...
    basis = laplace_beltrami_basis(_grid(60, 1.0, 0.5), 5, margin=3)
    expected = np.pi**2 * np.array([0, 1, 4, 4, 5])
    np.testing.assert_allclose(basis.eigenvalues[1:5], expected[1:], rtol=0.01)
    assert abs(basis.eigenvalues[0]) < 1e-9


def test_regional_harmonics_of_default_model(default_connectome):
    regional = regional_harmonics(default_connectome, "rV1", n_modes=8)
    assert regional.label == "rV1" and np.all(default_connectome.region_map[regional.vertices] == regional.region)
    values = regional.basis.eigenvalues
    assert abs(values[0]) < 1e-9 and np.all(np.diff(values) >= 0)
    # a region-local pattern projects onto the region's modes; the rest of the cortex is ignored
    x = np.zeros(default_connectome.n_vertices)
    x[regional.vertices] = regional.basis.eigenvectors[:, 3]
    coefficients = regional.project(x)
    assert np.argmax(np.abs(coefficients)) == 3 and abs(coefficients[3] - 1) < 1e-8


def test_region_submesh_reindexes(default_connectome):
    mask = default_connectome.region_map == 0
    submesh, vertices = region_submesh(default_connectome.mesh, mask)
    np.testing.assert_allclose(submesh.vertices, default_connectome.mesh.vertices[vertices])
    assert submesh.triangles.max() == submesh.n_vertices - 1


def test_user_connectome_folder_round_trip(tmp_path, default_connectome):
    import nibabel

    c = default_connectome
    coords = nibabel.gifti.GiftiDataArray(c.mesh.vertices.astype(np.float32), intent="NIFTI_INTENT_POINTSET")
    faces = nibabel.gifti.GiftiDataArray(c.mesh.triangles.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE")
    nibabel.save(nibabel.gifti.GiftiImage(darrays=[coords, faces]), tmp_path / "surface.gii")
    np.savetxt(tmp_path / "region_map.txt", c.region_map, fmt="%d")
    np.save(tmp_path / "weights.npy", c.weights)
    np.save(tmp_path / "leadfield.npy", c.leadfield)
    (tmp_path / "sensors.txt").write_text("\n".join(c.sensor_names) + "\n")
    loaded = load_connectome_folder(tmp_path)
    assert loaded.n_vertices == c.n_vertices and loaded.n_regions == c.n_regions and loaded.n_sensors == c.n_sensors
    np.testing.assert_allclose(loaded.centres, c.centres, atol=1e-3)
    (tmp_path / "weights.npy").unlink()
    np.save(tmp_path / "weights.npy", c.weights[:-1, :-1])
    with pytest.raises(InputFileError):
        load_connectome_folder(tmp_path)


def test_connectome_folder_missing_files(tmp_path):
    with pytest.raises(InputFileError, match="surface"):
        load_connectome_folder(tmp_path)
