"""Harmonic decomposition: vertex projection, sensor inverse with GCV, band spectra."""

from __future__ import annotations

import numpy as np
import pytest

from harmonix.errors import ChannelError
from harmonix.harmonics.decompose import (
    average_reference,
    band_harmonic_spectra,
    gcv_curve,
    harmonic_spectrum,
    match_channels,
    sensor_decomposition,
    sensor_inverse,
)
from harmonix.spectral.bands import Band

N_PLANTED = 30


def _planted_activity(basis, rng, n_times=400):
    coefficients = rng.standard_normal((N_PLANTED, n_times))
    return coefficients, basis.eigenvectors[:, :N_PLANTED] @ coefficients


def test_default_basis_properties(default_harmonics, default_connectome):
    basis = default_harmonics
    assert basis.n_modes >= 200 and basis.kind == "graph-normalized"
    values = basis.eigenvalues
    assert values[0] == pytest.approx(0.0, abs=1e-12) and np.all(values >= -1e-12)
    assert np.all(np.diff(values) >= 0) and values[1] > 1e-6  # one component: a single zero eigenvalue
    gram = basis.eigenvectors.T @ basis.eigenvectors
    assert np.abs(gram - np.eye(basis.n_modes)).max() < 1e-8


def test_low_harmonics_are_smooth_and_high_ones_are_not(default_harmonics, default_connectome):
    from harmonix.harmonics.graph import connectome_graph
    from harmonix.harmonics.mesh import total_variation

    # Normalised-Laplacian eigenvectors are D^(1/2) f; the spatial pattern is f.
    degrees = np.asarray(connectome_graph(default_connectome).sum(axis=1)).ravel()
    patterns = default_harmonics.eigenvectors[:, :200] / np.sqrt(degrees)[:, np.newaxis]
    tv = total_variation(patterns, default_connectome.mesh)
    assert np.all(tv[1:6] < 0.25), tv[1:6]
    assert tv[199] > 0.75 and tv[199] > 4 * tv[1:6].mean()
    assert np.corrcoef(np.arange(1, 200), tv[1:200])[0, 1] > 0.9  # roughness grows with the harmonic index


def test_vertex_round_trip_is_exact(default_harmonics, rng):
    coefficients, activity = _planted_activity(default_harmonics, rng)
    recovered = default_harmonics.project(activity)
    assert np.abs(recovered[:N_PLANTED] - coefficients).max() < 1e-8
    assert np.abs(recovered[N_PLANTED:]).max() < 1e-8


def _sensor_estimate(basis, connectome, y):
    decomposition = sensor_decomposition(
        connectome.leadfield, connectome.sensor_names, basis.eigenvectors,
        basis.eigenvalues, connectome.sensor_names, y, n_modes=N_PLANTED,
    )
    return decomposition.inverse.apply(y), decomposition


def test_sensor_round_trip_without_noise(default_harmonics, default_connectome, rng):
    coefficients, activity = _planted_activity(default_harmonics, rng)
    estimate, decomposition = _sensor_estimate(default_harmonics, default_connectome, default_connectome.leadfield @ activity)
    error = np.linalg.norm(estimate - coefficients) / np.linalg.norm(coefficients)
    assert error < 0.10, f"relative error {error:.3f} at alpha/s_max^2={decomposition.inverse.alpha_relative:.2e}"
    assert decomposition.match.names == default_connectome.sensor_names


def test_sensor_round_trip_with_noise_on_visible_harmonics(default_harmonics, default_connectome, rng):
    coefficients, activity = _planted_activity(default_harmonics, rng)
    y = default_connectome.leadfield @ activity
    noise = rng.standard_normal(y.shape)
    y = y + noise * np.linalg.norm(y) / np.linalg.norm(noise) * 10 ** (-40 / 20)  # 40 dB SNR
    estimate, decomposition = _sensor_estimate(default_harmonics, default_connectome, y)
    assert not decomposition.inverse.params["alpha_at_grid_edge"]
    # Harmonics 0 and 1 are (nearly) uniform over each closed hemisphere: a closed
    # double layer is invisible from outside, so EEG cannot recover them.
    visible = slice(2, N_PLANTED)
    error = np.linalg.norm(estimate[visible] - coefficients[visible]) / np.linalg.norm(coefficients[visible])
    assert error < 0.10, f"relative error {error:.3f}"
    gains = np.linalg.norm(average_reference(default_connectome.leadfield @ default_harmonics.eigenvectors[:, :N_PLANTED]), axis=0)
    assert gains[:2].max() < 0.3 * np.median(gains)


def test_gcv_matches_brute_force(rng):
    model = rng.standard_normal((20, 8))
    data = model @ rng.standard_normal((8, 50)) + 0.3 * rng.standard_normal((20, 50))
    u, s, vt = np.linalg.svd(model, full_matrices=False)
    projected = np.square(u.T @ data).sum(axis=1)
    outside = np.square(data).sum() - projected.sum()
    alphas = np.array([1e-3, 1e-1, 1.0, 10.0])
    scores = gcv_curve(s, projected, outside, 20, alphas)
    for alpha, score in zip(alphas, scores):
        hat = model @ np.linalg.solve(model.T @ model + alpha * np.eye(8), model.T)
        residual = np.square((np.eye(20) - hat) @ data).sum()
        assert score == pytest.approx(residual / np.trace(np.eye(20) - hat) ** 2, rel=1e-10)


def test_gcv_picks_more_regularisation_for_noisier_data(rng):
    model = rng.standard_normal((40, 30)) @ np.diag(np.logspace(0, -3, 30))
    truth = rng.standard_normal((30, 200))
    clean = model @ truth
    alphas = []
    for noise in (1e-4, 1e-1):
        data = clean + noise * np.linalg.norm(clean) / np.sqrt(clean.size) * rng.standard_normal(clean.shape)
        alphas.append(sensor_inverse(model, data).alpha_relative)
    assert alphas[1] > 10 * alphas[0]


def test_too_few_matching_channels_is_a_clear_error(default_connectome):
    with pytest.raises(ChannelError, match="only 3 of 4 channels match"):
        match_channels(["Cz", "Pz", "Oz", "EOG"], default_connectome.sensor_names, source="rec.edf")


def test_harmonic_spectrum_definitions():
    eigenvalues = np.array([0.0, 0.5, 1.0, 2.0])
    amplitude_sum = np.array([4.0, 4.0, 4.0, 4.0])
    squared_sum = np.array([16.0, 16.0, 16.0, 16.0])
    spectrum = harmonic_spectrum(amplitude_sum, squared_sum, 4, eigenvalues, band="alpha", n_low=2)
    np.testing.assert_allclose(spectrum.mean_power, 1.0)
    np.testing.assert_allclose(spectrum.mean_energy, eigenvalues**2 * 4.0)
    assert spectrum.entropy == pytest.approx(2.0)  # uniform over 4 harmonics: log2(4) bits
    assert spectrum.low_power_fraction == pytest.approx(0.5)
    assert spectrum.low_energy_fraction == pytest.approx(0.25 / 5.25)


def test_band_spectra_find_the_planted_harmonic_and_band(default_harmonics, rng):
    sfreq, n_times = 200.0, 4000
    t = np.arange(n_times) / sfreq
    basis = default_harmonics.eigenvectors[:, :20]
    activity = np.outer(basis[:, 3], 2.0 * np.sin(2 * np.pi * 10 * t)) + np.outer(basis[:, 12], np.sin(2 * np.pi * 20 * t))
    bands = [Band("alpha", 8, 13), Band("beta", 13, 30)]
    spectra, coefficients = band_harmonic_spectra(
        activity, sfreq, bands, basis.T, default_harmonics.eigenvalues[:20], keep_coefficients=True
    )
    alpha, beta = spectra
    assert int(np.argmax(alpha.mean_power)) == 3 and int(np.argmax(beta.mean_power)) == 12
    inner = slice(500, -500)
    np.testing.assert_allclose(np.abs(coefficients[0, 3, inner]), 2.0, rtol=0.02)
    assert alpha.entropy < 0.5  # one harmonic dominates
