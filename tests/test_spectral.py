"""Known-answer tests for PSD, band power, peak frequency and the aperiodic fit."""

from __future__ import annotations

import mne
import numpy as np
import pytest
import scipy.signal

from harmonix.errors import ChannelError, DataQualityError, ParameterError
from harmonix.spectral import psd as psd_module
from harmonix.spectral.aperiodic import AperiodicFit, fit_aperiodic, peak_in_band
from harmonix.spectral.bandpower import band_power, peak_frequency
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.psd import Spectrum, compute_psd, psd_from_inst

SFREQ = 250.0

# One sinusoid well inside each default band: (frequency Hz, amplitude V).
TONES = {
    "delta": (2.5, 3.0e-6),
    "theta": (6.0, 2.0e-6),
    "alpha": (10.0, 5.0e-6),
    "beta": (20.0, 1.5e-6),
    "gamma": (38.0, 1.0e-6),
}


def _tones(rng: np.random.Generator, n_channels: int, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the TONES with random phases; channel c is scaled by (c + 1).

    Returns the data (n_channels, n_times) and the expected band powers
    (n_channels, n_bands) = (c + 1)**2 * A_i**2 / 2.
    """
    t = np.arange(int(duration * SFREQ)) / SFREQ
    data = np.zeros((n_channels, t.size))
    expected = np.zeros((n_channels, len(TONES)))
    for c in range(n_channels):
        for i, (freq, amp) in enumerate(TONES.values()):
            data[c] += (c + 1) * amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
            expected[c, i] = ((c + 1) * amp) ** 2 / 2
    return data, expected


def _coloured_noise(
    rng: np.random.Generator,
    n_channels: int,
    duration: float,
    *,
    chi: float,
    peak_hz: float,
    peak_log10: float,
    peak_sd: float,
) -> np.ndarray:
    """Gaussian noise with PSD ``2/fs * 1e-10 * f**-chi * 10**(peak_log10 * exp(-(f - peak_hz)**2 / (2 sd**2)))``.

    White noise is shaped in the frequency domain by the square root of the
    target spectrum, so the one-sided PSD is ``2/fs * scale**2 * shape**2``
    (unit-variance white noise has one-sided density 2/fs). The peak is a
    Gaussian in log10 power, the form specparam fits.
    """
    n_times = int(duration * SFREQ)
    f = np.fft.rfftfreq(n_times, 1 / SFREQ)[1:]
    shape = f**-chi * 10 ** (peak_log10 * np.exp(-0.5 * ((f - peak_hz) / peak_sd) ** 2))
    spec = np.fft.rfft(rng.standard_normal((n_channels, n_times)), axis=-1)
    spec[:, 0] = 0.0
    spec[:, 1:] *= np.sqrt(shape)
    return 1e-5 * np.fft.irfft(spec, n=n_times, axis=-1)


# --------------------------------------------------------------------------- PSD and band power


@pytest.mark.parametrize(
    ("method", "window_seconds"), [("welch", None), ("welch", 4.0), ("multitaper", None), ("multitaper", 4.0)]
)
def test_band_power_of_sinusoids_is_half_amplitude_squared(rng, method, window_seconds):
    data, expected = _tones(rng, n_channels=3, duration=30.0)
    spec = compute_psd(data, SFREQ, method=method, window_seconds=window_seconds, fmax=60.0, ch_names=["a", "b", "c"])
    bp = band_power(spec)

    assert bp.band_names == tuple(TONES)
    assert bp.ch_names == ("a", "b", "c")
    np.testing.assert_allclose(bp.absolute, expected, rtol=0.02)
    np.testing.assert_allclose(bp.relative.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(bp.relative, expected / expected.sum(axis=1, keepdims=True), rtol=0.02)


@pytest.mark.parametrize("method", ["welch", "multitaper"])
def test_psd_integral_equals_variance(rng, method):
    # Parseval on the full one-sided grid: sum(psd) * df = variance of the signal.
    x = rng.standard_normal((2, int(20 * SFREQ))) * 1e-5
    spec = compute_psd(x, SFREQ, method=method, window_seconds=2.0)
    np.testing.assert_allclose(spec.psd.sum(axis=1) * spec.resolution, x.var(axis=1), rtol=0.05)


def test_welch_matches_mne_psd_array_welch(rng):
    x = rng.standard_normal((3, 5000))
    spec = compute_psd(x, SFREQ, window_seconds=2.0)
    ref, freqs = mne.time_frequency.psd_array_welch(
        x, SFREQ, n_fft=500, n_per_seg=500, n_overlap=250, window="hann", verbose=False
    )
    np.testing.assert_allclose(spec.freqs, freqs)
    np.testing.assert_allclose(spec.psd, ref, rtol=1e-10)
    assert spec.params["resolution"] == 0.5 and spec.params["window"] == "hann"


@pytest.mark.parametrize(("window_seconds", "overlap"), [(2.0, 0.5), (1.0, 0.0), (0.998, 0.75)])
def test_welch_matches_scipy_signal_welch(rng, window_seconds, overlap):
    # 0.998 s = 249.5 -> 250 samples; 1.0 s at 251 Hz below gives an odd length (no Nyquist bin).
    for sfreq in (SFREQ, 251.0):
        x = rng.standard_normal((3, 3000)) + 5.0  # an offset that detrend='constant' must remove
        spec = compute_psd(x, sfreq, window_seconds=window_seconds, overlap=overlap)
        nperseg = int(round(window_seconds * sfreq))
        freqs, ref = scipy.signal.welch(
            x, sfreq, window="hann", nperseg=nperseg, noverlap=int(np.floor(nperseg * overlap)),
            detrend="constant", average="mean",
        )
        np.testing.assert_allclose(spec.freqs, freqs)
        np.testing.assert_allclose(spec.psd, ref, rtol=1e-9, atol=1e-12 * ref.max())


@pytest.mark.parametrize("method", ["welch", "multitaper"])
def test_memory_blocks_do_not_change_the_result(rng, monkeypatch, method):
    x = rng.standard_normal((7, 4000))
    whole = compute_psd(x, SFREQ, method=method, window_seconds=2.0)
    monkeypatch.setattr(psd_module, "_CHUNK_BYTES", 1)  # one channel and one segment per block
    np.testing.assert_allclose(compute_psd(x, SFREQ, method=method, window_seconds=2.0).psd, whole.psd, rtol=1e-12)


def test_epochs_average_the_per_epoch_psd(rng):
    epochs = rng.standard_normal((4, 2, 1000))
    avg = compute_psd(epochs, SFREQ, window_seconds=2.0)
    each = np.mean([compute_psd(e, SFREQ, window_seconds=2.0).psd for e in epochs], axis=0)
    np.testing.assert_allclose(avg.psd, each)
    assert avg.params["n_epochs"] == 4


def test_default_window_and_crop():
    x = np.zeros((1, int(60 * SFREQ)))
    x[0, ::7] = 1.0
    assert compute_psd(x, SFREQ).resolution == 0.5  # 2 s default
    spec = compute_psd(x, SFREQ, fmin=0.5, fmax=40.0)  # 2 / fmin = 4 s window
    assert spec.resolution == 0.25
    assert spec.freqs[0] == 0.5 and spec.freqs[-1] == 40.0


def test_spectrum_is_read_only(rng):
    spec = compute_psd(rng.standard_normal((1, 1000)), SFREQ)
    with pytest.raises(ValueError):
        spec.psd[0, 0] = 1.0
    with pytest.raises(AttributeError):
        spec.method = "other"  # type: ignore[misc]


def test_band_edges_partition_the_bins(rng):
    spec = compute_psd(rng.standard_normal((2, 5000)), SFREQ)
    split = band_power(spec, {"low": (8, 10), "high": (10, 13)})
    whole = band_power(spec, {"alpha": (8, 13)})
    np.testing.assert_allclose(split.absolute.sum(axis=1), whole.absolute[:, 0])
    # A bin exactly on an edge belongs to the upper band (data/bands.csv convention).
    manual = spec.psd[:, (spec.freqs >= 10) & (spec.freqs < 13)].sum(axis=1) * spec.resolution
    np.testing.assert_allclose(split.get("high"), manual)


def test_band_power_rejects_narrow_or_uncovered_bands(rng):
    spec = compute_psd(rng.standard_normal((1, 5000)), SFREQ, fmax=40.0)
    with pytest.raises(ParameterError, match="at least 2"):
        band_power(spec, {"narrow": (10.0, 10.4)})
    with pytest.raises(ParameterError, match="outside the spectrum"):
        band_power(spec, {"high": (35.0, 60.0)})


# --------------------------------------------------------------------------- peak frequency, aperiodic fit


def test_peak_frequency_max_interpolates_between_bins(rng):
    t = np.arange(int(20 * SFREQ)) / SFREQ
    x = np.sin(2 * np.pi * 10.3 * t)[None] + 1e-3 * rng.standard_normal((1, t.size))
    spec = compute_psd(x, SFREQ, window_seconds=4.0)  # 0.25 Hz bins: 10.3 Hz is between two
    assert abs(peak_frequency(spec, (8, 13))[0] - 10.3) < 0.02
    assert abs(peak_frequency(spec, (8, 13), method="centroid")[0] - 10.3) < 0.05


def test_peak_frequency_is_nan_without_a_peak(rng):
    x = _coloured_noise(rng, 2, 120.0, chi=2.0, peak_hz=10.0, peak_log10=0.0, peak_sd=1.0)
    spec = compute_psd(x, SFREQ, window_seconds=4.0)
    # Pure 1/f: the maximum sits on the lowest bin of the band.
    assert np.all(np.isnan(peak_frequency(spec, (8, 13))))


def test_alpha_frequency_and_exponent_of_synthetic_spectrum(rng):
    """1/f**1.5 + a 10x log-Gaussian alpha peak (sd 1 Hz) at 10.2 Hz, 8 channels x 180 s.

    Over 21 seeds (0-19 and the fixture's), Welch 4-s windows gave: specparam
    IAF median over channels within 0.04 Hz of 10.2 (single channels up to
    0.6 Hz off, in about 1 channel in 8); all exponents within 0.05 of 1.5;
    offsets within 0.05 of the true log10 density; 'max' median 0.02-0.18 Hz
    low (the 1/f slope pulls it down); 5 of 8 or more channels within 0.3 Hz.
    """
    chi, iaf = 1.5, 10.2
    x = _coloured_noise(rng, 8, 180.0, chi=chi, peak_hz=iaf, peak_log10=1.0, peak_sd=1.0)
    spec = compute_psd(x, SFREQ, window_seconds=4.0, fmax=60.0)
    fit = fit_aperiodic(spec)

    assert fit.knee is None and fit.freq_range == (1.0, 45.0)
    np.testing.assert_allclose(fit.exponent, chi, atol=0.1)
    true_offset = np.log10(2 / SFREQ * 1e-10)  # one-sided density of the shaped white noise at 1 Hz
    np.testing.assert_allclose(fit.offset, true_offset, atol=0.1)
    assert np.all(fit.r_squared > 0.95)

    sp_iaf = peak_in_band(fit, Band("alpha", 8, 13))
    assert abs(np.nanmedian(sp_iaf) - iaf) < 0.2
    assert np.sum(np.abs(sp_iaf - iaf) < 0.3) >= 5
    assert abs(np.median(peak_frequency(spec, (8, 13), method="specparam")) - iaf) < 0.2
    assert abs(np.nanmedian(peak_frequency(spec, (8, 13), method="max")) - iaf) < 0.3
    for pk in fit.peaks:
        assert pk.ndim == 2 and pk.shape[1] == 3


def test_fit_aperiodic_knee_mode_and_bad_channel():
    f = np.arange(0.0, 100.0, 0.25)
    with np.errstate(divide="ignore"):
        psd = 1e-10 / (25.0 + f**2.0)  # knee k=25 Hz**2, i.e. a bend at 5 Hz
    psd = np.vstack([psd, np.zeros_like(psd)])  # second channel flat: cannot be fitted
    spec = Spectrum(f, psd, ("a", "flat"), "welch", {})
    fit = fit_aperiodic(spec, freq_range=(1, 80), aperiodic_mode="knee")
    assert abs(fit.exponent[0] - 2.0) < 0.05
    assert abs(fit.knee[0] - 25.0) < 2.5
    assert np.isnan(fit.exponent[1]) and fit.peaks[1].shape == (0, 3)
    np.testing.assert_allclose(fit.aperiodic_psd(f[4:])[0], psd[0, 4:], rtol=0.05)


def test_peak_in_band_picks_the_strongest_peak():
    fit = AperiodicFit(
        ("a", "b"), (1.0, 45.0), np.zeros(2), np.ones(2), None, np.ones(2), np.zeros(2),
        (np.array([[9.0, 0.2, 2.0], [11.0, 0.5, 2.0], [20.0, 1.0, 3.0]]), np.empty((0, 3))),
    )
    out = peak_in_band(fit, (8, 13))
    assert out[0] == 11.0 and np.isnan(out[1])


# --------------------------------------------------------------------------- errors


def test_too_short_for_fmin():
    x = np.random.default_rng(0).standard_normal((2, int(2 * SFREQ)))
    with pytest.raises(ParameterError, match="too short") as err:
        compute_psd(x, SFREQ, fmin=1.0, source="rest.edf")
    assert "rest.edf" in str(err.value)
    with pytest.raises(ParameterError, match="too short"):
        compute_psd(x, SFREQ, window_seconds=4.0)
    with pytest.raises(ParameterError, match="too short"):
        compute_psd(np.ones((1, 1000)), SFREQ, fmin=1.0, window_seconds=1.0)


@pytest.mark.parametrize("method", ["welch", "multitaper"])
def test_rejects_bad_input(method):
    x = np.random.default_rng(1).standard_normal((2, 2000))
    with pytest.raises(ParameterError, match="Nyquist") as err:
        compute_psd(x, SFREQ, method=method, fmax=200.0, source="s01.fif")
    assert "s01.fif" in str(err.value)
    x_nan = x.copy()
    x_nan[1, 100] = np.nan
    with pytest.raises(DataQualityError, match="NaN or Inf values .first in channel '1'"):
        compute_psd(x_nan, SFREQ, method=method)
    with pytest.raises(DataQualityError, match="channel '1', epoch 2"):
        compute_psd(np.stack([x, x, x_nan]), SFREQ, method=method)
    with pytest.raises(ParameterError, match="dimension"):
        compute_psd(x[0], SFREQ, method=method)
    with pytest.raises(ParameterError, match="channel names"):
        compute_psd(x, SFREQ, method=method, ch_names=["only one"])


def test_rejects_unknown_methods(rng):
    x = rng.standard_normal((1, 2000))
    with pytest.raises(ParameterError, match="unknown PSD method 'fft'"):
        compute_psd(x, SFREQ, method="fft")
    spec = compute_psd(x, SFREQ)
    with pytest.raises(ParameterError, match="unknown peak method"):
        peak_frequency(spec, (8, 13), method="mode")
    with pytest.raises(ParameterError, match="aperiodic_mode"):
        fit_aperiodic(spec, aperiodic_mode="lorentz")
    with pytest.raises(ParameterError, match="outside the spectrum"):
        fit_aperiodic(compute_psd(x, SFREQ, fmax=30.0))


def test_psd_from_inst_excludes_bads(rng):
    info = mne.create_info(["Oz", "Pz", "Cz", "EOG"], SFREQ, ["eeg", "eeg", "eeg", "eog"])
    raw = mne.io.RawArray(rng.standard_normal((4, 2500)) * 1e-5, info, verbose=False)
    raw.info["bads"] = ["Pz"]
    spec = psd_from_inst(raw, fmax=40.0)
    assert spec.ch_names == ("Oz", "Cz")
    direct = compute_psd(raw.get_data(picks=["Oz", "Cz"]), SFREQ, fmax=40.0)
    np.testing.assert_allclose(spec.psd, direct.psd)

    epochs = mne.make_fixed_length_epochs(raw, duration=2.0, verbose=False)
    espec = psd_from_inst(epochs, picks=["Oz", "Cz"], method="multitaper")
    assert espec.ch_names == ("Oz", "Cz") and espec.params["n_epochs"] == 5
    with pytest.raises(ChannelError):
        psd_from_inst(raw, picks="meg")


# --------------------------------------------------------------------------- real recordings


def _ssvep_snr(spectrum: Spectrum, freq: float) -> np.ndarray:
    """Power SNR per channel: PSD at the bin nearest ``freq`` / mean PSD of 8 neighbour bins.

    The neighbours are bins k-5..k-2 and k+2..k+5; the adjacent bins k +- 1
    are skipped because the Hann main lobe spreads the response into them.
    """
    k = int(np.argmin(np.abs(spectrum.freqs - freq)))
    neighbours = np.r_[k - 5 : k - 1, k + 2 : k + 6]
    return spectrum.psd[:, k] / spectrum.psd[:, neighbours].mean(axis=1)


def test_ssvep_response_at_flicker_frequency(shared_data):
    raw = mne.io.read_raw_fif(shared_data / "ssvep_exo_s01_raw.fif", preload=True, verbose=False)
    events = mne.read_events(shared_data / "ssvep_exo_s01-eve.fif", verbose=False)
    sfreq = raw.info["sfreq"]
    n_trial = int(round(5.0 * sfreq))
    data = raw.get_data()

    def class_spectrum(code: int) -> Spectrum:
        starts = events[events[:, 2] == code, 0] - raw.first_samp
        trials = np.stack([data[:, s : s + n_trial] for s in starts])  # (8 trials, 8 ch, 5 s)
        # One 5-s Hann window per trial (0.2 Hz bins), PSD averaged over trials.
        return compute_psd(trials, sfreq, window_seconds=5.0, fmax=40.0, ch_names=raw.ch_names)

    rest = class_spectrum(1)
    for code, freq in ((2, 13.0), (4, 17.0), (3, 21.0)):
        spec = class_spectrum(code)
        assert spec.resolution == pytest.approx(0.2)
        snr = _ssvep_snr(spec, freq)
        best = int(np.argmax(snr))
        assert snr[best] > 2.0, (freq, dict(zip(raw.ch_names, np.round(snr, 2))))
        # Negative control: without flicker the same channel shows less at that frequency.
        assert _ssvep_snr(rest, freq)[best] < snr[best]


def test_resting_eeg_runs_through_the_pipeline(shared_data):
    raw = mne.io.read_raw_edf(shared_data / "eegmmidb_S001R01.edf", preload=True, verbose=False)
    spec = psd_from_inst(raw, fmax=60.0)
    assert spec.psd.shape == (64, 121) and spec.params["source"].endswith("S001R01.edf")
    assert np.all(spec.psd > 0)

    bp = band_power(spec, load_bands())
    assert np.all(bp.absolute > 0)
    np.testing.assert_allclose(bp.relative.sum(axis=1), 1.0)
    assert np.all(bp.relative[:, 0] > bp.relative[:, 4])  # delta above gamma at rest

    fit = fit_aperiodic(spec)
    plausible = np.isfinite(fit.exponent) & (fit.exponent > 0.5) & (fit.exponent < 3.0)
    assert plausible.mean() >= 0.9
    assert np.nanmedian(fit.r_squared) > 0.9
    # Offsets in log10(V^2/Hz): scalp EEG at 1 Hz is around 1e-10..1e-8 V^2/Hz.
    assert -12 < np.nanmedian(fit.offset) < -7
