"""Known-answer tests for the chunked filter-bank analytic signal."""

from __future__ import annotations

import mne
import numpy as np
import pytest
import scipy.signal

from harmonix.errors import ParameterError
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.filterbank import analytic_signal, band_amplitude_stats, iter_analytic_blocks

SFREQ = 250.0
ALPHA = Band("alpha", 8.0, 13.0)


def _interior(n_times: int, seconds: float = 10.0) -> slice:
    margin = int(seconds * SFREQ)
    return slice(margin, n_times - margin)


def test_sinusoid_envelope_and_instantaneous_frequency():
    t = np.arange(int(60 * SFREQ)) / SFREQ
    amplitude = 3e-6
    x = amplitude * np.cos(2 * np.pi * 10.0 * t + 0.3)[np.newaxis]
    z = analytic_signal(x, SFREQ, ALPHA, chunk_seconds=7.0)
    inner = _interior(x.shape[1], 5.0)
    np.testing.assert_allclose(np.abs(z[0, inner]), amplitude, rtol=5e-3)
    inst_freq = np.diff(np.unwrap(np.angle(z[0, inner]))) * SFREQ / (2 * np.pi)
    np.testing.assert_allclose(inst_freq, 10.0, atol=0.02)
    # phase of cos(wt + 0.3) is wt + 0.3
    expected = np.exp(1j * (2 * np.pi * 10.0 * t[inner] + 0.3))
    assert np.abs(np.angle(z[0, inner] / np.abs(z[0, inner]) / expected)).max() < 0.01


def test_out_of_band_tone_is_rejected():
    t = np.arange(int(30 * SFREQ)) / SFREQ
    x = np.sin(2 * np.pi * 25.0 * t)[np.newaxis]
    z = analytic_signal(x, SFREQ, ALPHA)
    assert np.abs(z[0, _interior(x.shape[1], 5.0)]).max() < 1e-3


def test_real_part_equals_mne_filter_and_imag_is_its_hilbert(rng):
    x = rng.standard_normal((3, int(120 * SFREQ))) * 1e-5
    bands = load_bands()
    blocks = list(iter_analytic_blocks(x, SFREQ, bands, chunk_seconds=13.0, dtype=np.complex128))
    z = np.concatenate([b.values for b in blocks], axis=-1)
    assert z.shape == (len(bands), 3, x.shape[1])
    inner = _interior(x.shape[1])
    for b, band in enumerate(bands):
        raw = mne.io.RawArray(x.copy(), mne.create_info(3, SFREQ, "eeg"), verbose=False)
        reference = raw.filter(band.fmin, band.fmax, verbose=False).get_data()
        scale = np.abs(reference[:, inner]).mean()
        assert np.abs(z[b].real - reference)[:, inner].max() < 1e-9 * scale, band.name
        hilbert = scipy.signal.hilbert(z[b].real).imag
        assert np.abs(z[b].imag - hilbert)[:, inner].mean() < 5e-3 * scale, band.name


def test_result_does_not_depend_on_chunk_length(rng):
    x = rng.standard_normal((2, int(90 * SFREQ)))
    delta = Band("delta", 1.0, 4.0)
    short = analytic_signal(x, SFREQ, delta, chunk_seconds=4.0)
    long = analytic_signal(x, SFREQ, delta, chunk_seconds=200.0)
    assert np.abs(short - long).max() < 1e-3 * np.abs(long).mean()


def test_input_is_not_modified(rng):
    x = rng.standard_normal((2, 5000))
    before = x.copy()
    analytic_signal(x, SFREQ, ALPHA)
    np.testing.assert_array_equal(x, before)


def test_amplitude_stats_match_rayleigh_and_sinusoid(rng):
    noise = rng.standard_normal((4, int(600 * SFREQ)))
    stats = band_amplitude_stats(noise, SFREQ, [ALPHA])
    # band-passed Gaussian noise has a Rayleigh envelope: CV = sqrt(4/pi - 1)
    np.testing.assert_allclose(stats["amplitude_cv"][:, 0], np.sqrt(4 / np.pi - 1), rtol=0.05)
    t = np.arange(int(60 * SFREQ)) / SFREQ
    tone = 2.0 * np.sin(2 * np.pi * 10 * t)[np.newaxis]
    stats = band_amplitude_stats(tone, SFREQ, [ALPHA])
    np.testing.assert_allclose(stats["mean_amplitude"][0, 0], 2.0, rtol=0.01)
    assert stats["amplitude_cv"][0, 0] < 0.05


def test_band_at_nyquist_is_refused():
    x = np.zeros((1, 1000))
    with pytest.raises(ParameterError, match="Nyquist"):
        analytic_signal(x, 80.0, Band("gamma", 30.0, 45.0))


def test_wrong_shape_is_refused():
    with pytest.raises(ParameterError, match="2-D"):
        analytic_signal(np.zeros(100), SFREQ, ALPHA)
