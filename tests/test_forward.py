"""Forward model: sources -> leadfield -> mne Raw with montage, SNR and seeds."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from harmonix.errors import DataQualityError, ParameterError
from harmonix.harmonics.basis import HarmonicBasis
from harmonix.harmonics.connectome import Connectome
from harmonix.simulate.forward import (
    DEFAULT_SIGNAL_RMS,
    harmonic_gain,
    region_gain,
    sensor_signals,
    simulate_raw,
)

SFREQ = 200.0


@pytest.fixture(scope="module")
def small_basis(default_connectome):
    """Five orthonormal random 'harmonics' on the default mesh: cheap and exact for the linear algebra."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((default_connectome.n_vertices, 5)))
    return HarmonicBasis(np.arange(5) * 0.01, q, "graph-normalized")


@pytest.fixture(scope="module")
def coefficients():
    rng = np.random.default_rng(1)
    t = np.arange(int(20 * SFREQ)) / SFREQ
    return np.sin(2 * np.pi * rng.uniform(5, 20, (5, 1)) * t) + 0.1 * rng.standard_normal((5, t.size))


def test_harmonic_forward_equals_vertex_forward(default_connectome, small_basis, coefficients):
    """L (Psi a) computed without the vertex x time array equals the explicit product on a short stretch."""
    a = coefficients[:, :50]
    explicit = default_connectome.leadfield @ (small_basis.eigenvectors @ a)
    np.testing.assert_allclose(sensor_signals(a, default_connectome, basis=small_basis), explicit, rtol=1e-10,
                               atol=1e-10 * np.abs(explicit).max())
    assert harmonic_gain(default_connectome, small_basis, n_modes=3).shape == (default_connectome.n_sensors, 3)


def test_region_gain_sums_region_vertices(default_connectome):
    gain = region_gain(default_connectome, ["rV1", 0])
    members = default_connectome.region_map == default_connectome.region_labels.index("rV1")
    np.testing.assert_allclose(gain[:, 0], default_connectome.leadfield[:, members].sum(axis=1))
    np.testing.assert_allclose(gain[:, 1], default_connectome.leadfield[:, default_connectome.region_map == 0].sum(axis=1))
    assert region_gain(default_connectome).shape == (default_connectome.n_sensors, default_connectome.n_regions)


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0, 30.0])
def test_noise_at_requested_snr(default_connectome, small_basis, coefficients, snr_db):
    sim = simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, snr_db=snr_db, seed=4)
    data = sim.raw.get_data()
    noise = data - sim.clean
    measured = 10 * np.log10(np.mean(sim.clean**2) / np.mean(noise**2))
    assert abs(measured - snr_db) < 1.0
    assert abs(measured - snr_db) < 0.1  # white noise over 63 x 4000 samples
    assert np.isclose(np.sqrt(np.mean(sim.clean**2)), DEFAULT_SIGNAL_RMS)


def test_pink_noise_snr(default_connectome, small_basis, coefficients):
    sim = simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, snr_db=6.0, noise_exponent=1.0)
    noise = sim.raw.get_data() - sim.clean
    assert abs(10 * np.log10(np.mean(sim.clean**2) / np.mean(noise**2)) - 6.0) < 1.0


def test_raw_has_montage_and_leadfield_names(default_connectome, small_basis, coefficients):
    sim = simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis)
    raw = sim.raw
    assert isinstance(raw, mne.io.BaseRaw)
    assert tuple(raw.ch_names) == default_connectome.sensor_names
    assert raw.info["sfreq"] == SFREQ
    assert raw.get_montage() is not None
    positions = raw.get_montage().get_positions()["ch_pos"]
    located = [name for name in raw.ch_names if name not in sim.missing_positions]
    assert len(located) >= 60 and set(sim.missing_positions) <= {"CB1", "CB2"}
    assert all(np.isfinite(positions[name]).all() for name in located)
    assert set(raw.get_channel_types()) == {"eeg"}


def test_seeded_reproducibility(default_connectome, small_basis, coefficients):
    one = simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, seed=11).raw.get_data()
    two = simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, seed=11).raw.get_data()
    other = simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, seed=12).raw.get_data()
    np.testing.assert_array_equal(one, two)
    assert not np.allclose(one, other)


def test_region_space_and_units(default_connectome):
    t = np.arange(int(5 * SFREQ)) / SFREQ
    s = np.vstack([np.sin(2 * np.pi * 10 * t), np.cos(2 * np.pi * 6 * t)])
    sim = simulate_raw(s, SFREQ, default_connectome, regions=["rV1", "lA1"], snr_db=None, signal_rms=None,
                       remove_dc=False)
    np.testing.assert_allclose(sim.raw.get_data(), region_gain(default_connectome, ["rV1", "lA1"]) @ s)
    assert sim.scale == 1.0 and sim.noise_std == 0.0


def test_bad_inputs(default_connectome, small_basis, coefficients):
    with pytest.raises(ParameterError, match="basis"):
        sensor_signals(coefficients, default_connectome, space="harmonic")
    with pytest.raises(ParameterError, match="rows"):
        sensor_signals(np.zeros((7, 10)), default_connectome, basis=small_basis)
    with pytest.raises(ParameterError, match="regions were named"):
        sensor_signals(np.zeros((3, 10)), default_connectome, regions=["rV1"])
    with pytest.raises(ParameterError, match="unknown region"):
        region_gain(default_connectome, ["V1"])
    with pytest.raises(ParameterError, match="snr_db"):
        simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, snr_db=float("nan"))
    with pytest.raises(ParameterError, match="signal_rms"):
        simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, signal_rms=-1.0)
    with pytest.raises(ParameterError, match="sfreq"):
        simulate_raw(coefficients, 0.0, default_connectome, basis=small_basis)
    with pytest.raises(ParameterError, match="space"):
        sensor_signals(coefficients, default_connectome, basis=small_basis, space="vertex")
    with pytest.raises(DataQualityError, match="no signal"):
        simulate_raw(np.zeros((5, 100)), SFREQ, default_connectome, basis=small_basis)
    with pytest.raises(DataQualityError, match="NaN"):
        sensor_signals(np.full((5, 10), np.nan), default_connectome, basis=small_basis)
    bare = Connectome(default_connectome.mesh, default_connectome.region_map, default_connectome.weights,
                      default_connectome.tract_lengths, default_connectome.centres, default_connectome.region_labels)
    with pytest.raises(ParameterError, match="leadfield"):
        simulate_raw(coefficients, SFREQ, bare, basis=small_basis)


def test_simulated_raw_is_accepted_by_psd(default_connectome, small_basis, coefficients):
    from harmonix.spectral.psd import psd_from_inst

    sim = simulate_raw(coefficients, SFREQ, default_connectome, basis=small_basis, snr_db=20.0)
    spec = psd_from_inst(sim.raw, fmin=1.0, fmax=40.0)
    assert spec.psd.shape[0] == default_connectome.n_sensors
