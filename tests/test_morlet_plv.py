"""Morlet-mode PLV (harmonix.estimators.wavelet_locking) against mne-connectivity, analytic cases and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.locking import band_plv_over_time
from harmonix.estimators.wavelet_locking import (
    band_morlet_frequencies,
    band_morlet_plv_over_time,
    morlet_plv_epochs,
    morlet_plv_over_time,
)

mne_connectivity = pytest.importorskip("mne_connectivity")

TOL = 1e-6  # the agreement the Morlet mode promises with mne-connectivity (absolute PLV)


def mne_plv(epochs, sfreq, freqs, n_cycles, padding, **kwargs) -> np.ndarray:
    """mne-connectivity's cwt_morlet PLV as (n_freqs or n_bands, n_epochs, n, n), lower triangle mirrored."""
    con = mne_connectivity.spectral_connectivity_time(
        epochs, np.asarray(freqs, float), method="plv", sfreq=sfreq, mode="cwt_morlet", n_cycles=n_cycles,
        padding=padding, n_jobs=1, verbose=False, **kwargs,
    )
    dense = np.moveaxis(con.get_data(output="dense"), -1, 0)
    return dense + np.swapaxes(dense, -1, -2)


def off_diagonal(plv: np.ndarray) -> np.ndarray:
    il = np.tril_indices(plv.shape[-1], -1)
    return plv[..., il[0], il[1]]


def reflect_epochs(data, window, step, pad):
    """The epochs morlet_plv_over_time promises to be equivalent to."""
    ext = np.pad(data, ((0, 0), (pad, pad)), mode="reflect")
    starts = range(0, data.shape[1] - window + 1, step)
    return np.stack([ext[:, s : s + window + 2 * pad] for s in starts])


@pytest.fixture(scope="module")
def eeg_slice(shared_data):
    """20 s of 16 channels of a real resting EEG recording (V, 160 Hz)."""
    from harmonix.io import load_eeg

    raw = load_eeg(shared_data / "eegmmidb_S001R01.edf", verbose="error")
    return raw.get_data()[::4, 1600 : 1600 + 20 * 160], raw.info["sfreq"]


@pytest.fixture(scope="module")
def correlated_noise():
    """Six channels mixing three random-walk-plus-rhythm sources (arbitrary units), 200 Hz."""
    rng = np.random.default_rng(11)
    t = np.arange(3 * 800) / 200.0
    rhythm = np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (3, 1)))
    sources = rng.standard_normal((3, t.size)).cumsum(axis=-1) / 20 + rhythm
    data = rng.standard_normal((6, 3)) @ sources + 0.5 * rng.standard_normal((6, t.size))
    return data.reshape(6, 3, 800).transpose(1, 0, 2), 200.0


# ---------------------------------------------------------------------------
# equality with mne-connectivity
# ---------------------------------------------------------------------------


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("freqs", "n_cycles", "padding"),
    [
        ([4.0, 10.0, 22.0, 40.0], 7.0, 0.0),
        ([3.0, 6.5, 11.0, 17.0, 29.5, 55.0], [2.0, 3.0, 5.5, 7.0, 8.0, 12.0], 1.0),
        ([8.0, 12.5, 70.0], 4.0, 0.3),
    ],
)
def test_epochs_equal_mne_connectivity_on_real_eeg(eeg_slice, freqs, n_cycles, padding):
    data, sfreq = eeg_slice
    epochs = data.reshape(data.shape[0], 5, -1).transpose(1, 0, 2)  # 5 epochs of 4 s
    ours = morlet_plv_epochs(epochs, sfreq, freqs, n_cycles=n_cycles, padding=padding)
    ref = mne_plv(epochs, sfreq, freqs, n_cycles, padding)
    assert ours.shape == (len(freqs), 5, 16, 16)
    np.testing.assert_allclose(off_diagonal(ours), off_diagonal(ref), rtol=0, atol=TOL)
    np.testing.assert_array_equal(ours, np.swapaxes(ours, -1, -2))
    assert np.all(np.diagonal(ours, axis1=-2, axis2=-1) == 1.0)


@pytest.mark.real_data
@pytest.mark.parametrize(("step", "padding"), [(None, 0.75), (0.5, 1.0)])
def test_over_time_equals_mne_connectivity_on_reflected_windows(eeg_slice, step, padding):
    data, sfreq = eeg_slice
    # at 4 Hz the 8-cycle wavelet's half-length (254 samples) exceeds the padding: its epochs see their edges
    freqs, n_cycles = [4.0, 5.0, 9.0, 21.0], [8.0, 3.0, 5.0, 7.0]
    times, ours = morlet_plv_over_time(
        data, sfreq, freqs, n_cycles=n_cycles, window_seconds=2.0, step_seconds=step, padding=padding
    )
    window, hop, pad = 320, int((step or 2.0) * sfreq), int(np.floor(padding * sfreq))
    epochs = reflect_epochs(data, window, hop, pad)
    ref = mne_plv(epochs, sfreq, freqs, n_cycles, padding)
    assert ours.shape == (4, len(epochs), 16, 16)
    np.testing.assert_allclose(times, (np.arange(len(epochs)) * hop + window / 2) / sfreq)
    np.testing.assert_allclose(off_diagonal(ours), off_diagonal(ref), rtol=0, atol=TOL)


@pytest.mark.parametrize(
    ("freqs", "n_cycles", "padding"),
    [
        ([4.0, 9.5, 17.0, 31.0], 7.0, 0.0),
        ([2.0, 6.0, 13.0], [2.0, 4.0, 6.5], 0.75),
        ([8.0, 40.0, 71.0, 99.0], 3.0, 1.5),
    ],
)
def test_epochs_equal_mne_connectivity_synthetic(correlated_noise, freqs, n_cycles, padding):
    epochs, sfreq = correlated_noise
    ours = morlet_plv_epochs(epochs, sfreq, freqs, n_cycles=n_cycles, padding=padding)
    ref = mne_plv(epochs, sfreq, freqs, n_cycles, padding)
    np.testing.assert_allclose(off_diagonal(ours), off_diagonal(ref), rtol=0, atol=TOL)
    # the data are locked at 10 Hz through shared sources: not a trivially constant answer
    assert off_diagonal(ours).std() > 0.05


def test_band_average_equals_mne_faverage(correlated_noise):
    epochs, sfreq = correlated_noise
    freqs = [4.0, 6.0, 8.0, 10.0, 12.0, 20.0]
    ours = morlet_plv_epochs(epochs, sfreq, freqs, n_cycles=5.0, padding=0.5, fbands=[(6.0, 12.0)])
    ref = mne_plv(epochs, sfreq, freqs, 5.0, 0.5, fmin=6.0, fmax=12.0, faverage=True)
    assert ours.shape == (1, 3, 6, 6)
    np.testing.assert_allclose(off_diagonal(ours), off_diagonal(ref), rtol=0, atol=TOL)
    per_freq = morlet_plv_epochs(epochs, sfreq, freqs, n_cycles=5.0, padding=0.5)
    np.testing.assert_allclose(ours[0], per_freq[1:5].mean(axis=0), rtol=0, atol=1e-12)


def test_band_mode_is_mean_of_mne_over_band_frequencies(correlated_noise):
    epochs, sfreq = correlated_noise
    data = np.concatenate(list(epochs), axis=-1)  # back to one 12-s recording
    bands = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0)}
    times, ours = band_plv_over_time(data, sfreq, bands, window_seconds=2.0, mode="morlet", padding=1.0)
    freqs, n_cycles, groups = band_morlet_frequencies(bands)
    ref = mne_plv(reflect_epochs(data, 400, 400, 200), sfreq, freqs, n_cycles, 1.0)
    ref_bands = np.stack([ref[g].mean(axis=0) for g in groups])
    assert ours.shape == (3, 6, 6, 6)
    np.testing.assert_allclose(off_diagonal(ours), off_diagonal(ref_bands), rtol=0, atol=TOL)
    _, direct = band_morlet_plv_over_time(data, sfreq, bands, window_seconds=2.0, padding=1.0)
    np.testing.assert_array_equal(ours, direct)


def test_zero_mean_wavelets_follow_mne_tfr(correlated_noise):
    """mne-connectivity has no zero_mean switch; check it against tfr_array_morlet and the PLV formula."""
    from mne.time_frequency import tfr_array_morlet

    epochs, sfreq = correlated_noise
    freqs, pad = np.array([3.0, 10.0]), 100
    coefs = tfr_array_morlet(epochs, sfreq, freqs, n_cycles=2.0, zero_mean=True, output="complex")
    u = coefs / np.abs(coefs)
    u = u[..., pad:-pad]  # (epochs, n, freqs, kept)
    ref = np.abs(np.einsum("eift,ejft->feij", u, u.conj())) / u.shape[-1]
    ours = morlet_plv_epochs(epochs, sfreq, freqs, n_cycles=2.0, padding=pad / sfreq, zero_mean=True)
    np.testing.assert_allclose(off_diagonal(ours), off_diagonal(ref), rtol=0, atol=TOL)
    plain = morlet_plv_epochs(epochs, sfreq, freqs, n_cycles=2.0, padding=pad / sfreq)
    assert np.abs(plain[0] - ours[0]).max() > 1e-3  # at 2 cycles the wavelet mean matters at 3 Hz


def test_default_padding_windows_equal_one_continuous_transform():
    """padding=None: each window equals the same samples of one transform of the whole (reflected) recording."""
    from mne.time_frequency import morlet, tfr_array_morlet

    rng = np.random.default_rng(5)
    sfreq, freqs, n_cycles = 100.0, np.array([4.0, 15.0]), 4.0
    data = rng.standard_normal((4, 1200)).cumsum(axis=-1)
    times, ours = morlet_plv_over_time(data, sfreq, freqs, n_cycles=n_cycles, window_seconds=1.5, step_seconds=1.0)
    pad = max((w.size - 1) // 2 for w in morlet(sfreq, freqs, n_cycles))
    ext = np.pad(data, ((0, 0), (pad, pad)), mode="reflect")
    coefs = tfr_array_morlet(ext[np.newaxis], sfreq, freqs, n_cycles=n_cycles, zero_mean=False, output="complex")[0]
    u = (coefs / np.abs(coefs))[..., pad:-pad]  # (n, freqs, times) of the recording proper
    for w, centre in enumerate(times):
        seg = u[..., int(round(centre * sfreq)) - 75 : int(round(centre * sfreq)) + 75]
        ref = np.abs(np.einsum("ift,jft->fij", seg, seg.conj())) / 150
        np.testing.assert_allclose(ours[:, w], ref, rtol=0, atol=TOL)


# ---------------------------------------------------------------------------
# analytic cases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lag", [0.3, np.pi / 2, 2.5])
def test_fixed_phase_lag_gives_plv_one(lag):
    from mne.time_frequency import morlet

    sfreq, f = 250.0, 11.0
    t = np.arange(2500) / sfreq
    data = np.stack([np.cos(2 * np.pi * f * t), 3.0 * np.cos(2 * np.pi * f * t + lag)])
    times, plv = morlet_plv_over_time(data, sfreq, [f], n_cycles=6.0, window_seconds=1.0)
    # padding=None: every kept sample's wavelet stays inside its epoch; windows whose context lies inside
    # the recording (not the reflected ends, where the mirrored lag has the opposite sign) see exactly the lag
    half = (morlet(sfreq, f, 6.0).size - 1) // 2 / sfreq
    inner = (times - 0.5 - half >= 0) & (times + 0.5 + half <= t[-1])
    assert inner.sum() >= 6
    np.testing.assert_allclose(plv[0, inner, 0, 1], 1.0, rtol=0, atol=1e-9)
    assert plv[0, 0, 0, 1] < 1 - 1e-4  # the reflected start does break the lag


def test_independent_noise_sits_at_the_bias_level():
    """E[PLV^2] = (1/T^2) sum_tau (T - |tau|) |G(tau)|^2, G the phasor autocorrelation of Morlet-filtered white noise.

    For a circular Gaussian process with correlation rho, the phasors correlate as
    G = (pi/4) rho 2F1(1/2, 1/2; 2; |rho|^2); the resultant is Rayleigh, so
    E[PLV] = sqrt(pi/4 * E[PLV^2]) = sqrt(pi / (4 N_eff)).
    """
    from mne.time_frequency import morlet

    rng = np.random.default_rng(3)
    sfreq, f, n_cycles, window = 250.0, 10.0, 5.0, 1000
    data = rng.standard_normal((24, 60 * 250))
    _, plv = morlet_plv_over_time(data, sfreq, [f], n_cycles=n_cycles, window_seconds=window / sfreq)
    w = morlet(sfreq, f, n_cycles)
    rho = np.abs(np.correlate(w, w, mode="full")) / np.sum(np.abs(w) ** 2)  # lags -(M-1)..M-1
    rho = np.minimum(rho, 1.0)  # rounding above 1 sends 2F1 to its singularity
    g = np.pi / 4 * rho * special.hyp2f1(0.5, 0.5, 2.0, rho**2)
    lags = np.abs(np.arange(rho.size) - (w.size - 1))
    n_eff = window**2 / np.sum((window - lags) * g**2)
    expected = np.sqrt(np.pi / (4 * n_eff))
    observed = off_diagonal(plv[0]).mean()
    assert 0.1 < expected < 0.3
    assert observed == pytest.approx(expected, rel=0.05)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def _one_line(excinfo):
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"freqs": [10.0, 50.0]}, ParameterError),  # at Nyquist
        ({"freqs": [60.0]}, ParameterError),  # above
        ({"freqs": [-3.0]}, ParameterError),
        ({"freqs": []}, ParameterError),
        ({"freqs": [[5.0, 6.0]]}, ParameterError),
        ({"n_cycles": [3.0, 4.0]}, ParameterError),  # two cycles for one frequency
        ({"n_cycles": 0.0}, ParameterError),
        ({"freqs": [1.0], "n_cycles": 10.0}, ParameterError),  # wavelet longer than the 2-s epoch
        ({"padding": -0.1}, ParameterError),
        ({"padding": 1.0}, ParameterError),  # half the epoch
        ({"padding": 0.001}, ParameterError),  # under one sample: mne would average nothing
        ({"fbands": [(20.0, 30.0)]}, ParameterError),  # no frequency inside
        ({"sfreq": 0.0}, ParameterError),
    ],
)
def test_epochs_bad_parameters(kwargs, error):
    epochs = np.random.default_rng(0).standard_normal((2, 3, 200))
    args = {"sfreq": 100.0, "freqs": [10.0], "n_cycles": 3.0} | kwargs
    with pytest.raises(error) as excinfo:
        morlet_plv_epochs(epochs, args.pop("sfreq"), args.pop("freqs"), **args)
    _one_line(excinfo)


def test_bad_data():
    rng = np.random.default_rng(0)
    good = rng.standard_normal((2, 3, 200))
    for bad, error in [
        (good[0], ParameterError),  # 2-D epochs
        (good + 1j, ParameterError),
        (np.where(np.arange(200) == 50, np.nan, good), DataQualityError),
        (np.concatenate([good, np.zeros((2, 1, 200))], axis=1), DataQualityError),  # flat channel: no phase
    ]:
        with pytest.raises(error) as excinfo:
            morlet_plv_epochs(bad, 100.0, [10.0], n_cycles=3.0)
        _one_line(excinfo)


def test_over_time_bad_input():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 500))
    cases = [
        (lambda: morlet_plv_over_time(data[np.newaxis], 100.0, [10.0], window_seconds=1.0), ParameterError),
        (lambda: morlet_plv_over_time(data, 100.0, [10.0], window_seconds=6.0), ParameterError),
        (lambda: morlet_plv_over_time(data, 100.0, [2.0], n_cycles=7.0, window_seconds=1.0, padding=0.0),
         ParameterError),  # window shorter than the wavelet, no context
        (lambda: morlet_plv_over_time(data, 100.0, [10.0], window_seconds=1.0, step_seconds=0.0), ParameterError),
        (lambda: morlet_plv_over_time(data, 100.0, [10.0], window_seconds=1.0, padding=5.0), ParameterError),
        (lambda: morlet_plv_over_time(np.where(data > 2.5, np.inf, data), 100.0, [10.0], window_seconds=1.0),
         DataQualityError),
        (lambda: band_plv_over_time(data, 100.0, None, window_seconds=1.0, mode="wavelet"), ParameterError),
        (lambda: band_plv_over_time(data, 100.0, None, window_seconds=1.0, padding=0.5), ParameterError),
        (lambda: band_morlet_frequencies(None, freqs_per_band=0), ParameterError),
    ]
    for call, error in cases:
        with pytest.raises(error) as excinfo:
            call()
        _one_line(excinfo)
