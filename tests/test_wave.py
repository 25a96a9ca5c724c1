"""Wave model in harmonic space: transfer function, exact time stepping, resonance, acceptance 4a-4c."""

from __future__ import annotations

import numpy as np
import pytest

from harmonix.errors import ParameterError
from harmonix.harmonics.basis import HarmonicBasis
from harmonix.harmonics.model import HarmonicModel
from harmonix.io.audio import Audio
from harmonix.simulate.wave import (
    AUDITORY_REGIONS,
    GAMMA_S,
    R_S,
    WaveModel,
    graph_length_scale,
    modal_noise,
    mode_eigenvalues,
    project_drive,
    region_drive,
    region_pattern,
    resonance_profile,
    stimulus_resonance,
)

# eigenvalues (mm^-2) spanning low-pass modes (r_s^2 lambda <= 1) and resonances from ~3 to ~90 Hz
EIGENVALUES = np.array([0.0, 5e-4, 1.0e-3, 1.2e-3, 1.55e-3, 2.5e-3, 5e-3, 1e-2, 3e-2])


@pytest.fixture(scope="module")
def lb_model(default_connectome):
    """Default connectome with its 60 lowest Laplace–Beltrami modes (disk-cached)."""
    from harmonix.harmonics.model import connectome_harmonics

    basis = connectome_harmonics(default_connectome, n_modes=60, kind="laplace-beltrami")
    return HarmonicModel(default_connectome, basis)


# --------------------------------------------------------------------------- transfer function (4a)


def test_transfer_function_closed_form_at_dc_and_formula():
    model = WaveModel(EIGENVALUES)
    a = 1 + R_S**2 * EIGENVALUES
    np.testing.assert_allclose(model.transfer_function([0.0])[:, 0], 1 / a)
    f = 23.0
    u = 2 * np.pi * f / GAMMA_S
    np.testing.assert_allclose(model.transfer_function([f])[:, 0], 1 / (a - u**2 + 2j * u))
    np.testing.assert_allclose(model.damping_ratios, 1 / np.sqrt(a))


def test_acceptance_4a_transfer_function_peaks_at_analytic_frequency():
    """|H_k(f)| located numerically on a 1 mHz grid peaks at gamma_s sqrt(r_s^2 lambda - 1) / 2 pi (within 1 %)."""
    model = WaveModel(EIGENVALUES)
    freqs = np.arange(0.0, 200.0, 0.001)
    gain = model.gain(freqs)
    numeric = freqs[np.argmax(gain, axis=1)]
    analytic = model.peak_frequencies
    resonant = R_S**2 * EIGENVALUES > 1
    assert resonant.sum() >= 5
    rel = np.abs(numeric[resonant] - analytic[resonant]) / analytic[resonant]
    print("peak frequencies (analytic, numeric, rel. error):",
          list(zip(np.round(analytic[resonant], 3), numeric[resonant], rel)))
    assert np.all(rel < 0.01)
    assert np.all(np.abs(numeric[resonant] - analytic[resonant]) <= 0.001)  # within one grid step
    np.testing.assert_allclose(gain.max(axis=1)[resonant], model.peak_gains[resonant], rtol=1e-8)
    # without a resonance the gain is largest at 0 Hz and falls monotonically
    assert np.all(np.isnan(analytic[~resonant]))
    assert np.all(numeric[~resonant] == 0.0)
    assert np.all(np.diff(gain[~resonant], axis=1) <= 1e-15)


def test_acceptance_4a_on_laplace_beltrami_modes(lb_model):
    model = WaveModel.from_basis(lb_model.basis)
    resonant = np.flatnonzero(np.isfinite(model.peak_frequencies))
    assert resonant.size >= 10
    freqs = np.arange(0.0, 80.0, 0.002)
    numeric = freqs[np.argmax(model.gain(freqs)[resonant], axis=1)]
    analytic = model.peak_frequencies[resonant]
    assert np.max(np.abs(numeric - analytic) / analytic) < 0.01


@pytest.mark.parametrize("freq", [4.0, 10.0, 25.0, 40.0])
def test_acceptance_4a_sinusoidal_steady_state_matches_transfer_function(freq):
    """Simulated response to sin(2 pi f t) has steady-state amplitude |H_k(f)| and phase arg H_k(f)."""
    model = WaveModel(EIGENVALUES)
    sfreq = 2000.0
    t = np.arange(int(1.5 * sfreq)) / sfreq
    phi = model.simulate(np.sin(2 * np.pi * freq * t), sfreq)
    tail = t >= 0.5  # transients decay as exp(-gamma_s t): e^-58 after 0.5 s
    n_cycles = int(freq * (t[tail][-1] - t[tail][0]))
    keep = tail & (t < t[tail][0] + n_cycles / freq)
    design = np.column_stack([np.sin(2 * np.pi * freq * t[keep]), np.cos(2 * np.pi * freq * t[keep])])
    coef, *_ = np.linalg.lstsq(design, phi[:, keep].T, rcond=None)
    phasor = coef[0] + 1j * coef[1]  # phi = Re(H e^{i w t}) for sin drive: H = (s + i c)
    expected = model.transfer_function([freq])[:, 0]
    np.testing.assert_allclose(np.abs(phasor), np.abs(expected), rtol=0.01)
    np.testing.assert_allclose(np.angle(phasor), np.angle(expected), atol=0.01)


def test_zoh_step_response_is_exact():
    """With a zero-order hold a sampled step is a true step: the closed-form solution to round-off."""
    model = WaveModel(EIGENVALUES[1:])
    sfreq = 1000.0
    t = np.arange(300) / sfreq
    phi = model.simulate(np.ones(t.size), sfreq, hold="zoh")
    a = model.stiffness[:, None]
    g = GAMMA_S
    wd = g * np.sqrt(a - 1)
    exact = (1 / a) * (1 - np.exp(-g * t) * (np.cos(wd * t) + g / wd * np.sin(wd * t)))
    # sample n is phi(n / sfreq): the step starts at t = 0 from rest
    np.testing.assert_allclose(phi, exact, atol=1e-12)


def test_chunked_equals_whole_and_generator():
    model = WaveModel(EIGENVALUES)
    drive = modal_noise(model.n_modes, 5000, seed=3)
    whole = model.simulate(drive, 500.0, chunk=10**6)
    chunked = model.simulate(drive, 500.0, chunk=333)
    np.testing.assert_allclose(chunked, whole, atol=1e-12)
    pieces = [drive[:, i : i + 1000] for i in range(0, 5000, 1000)]
    gen = np.concatenate(list(model.simulate_chunks(pieces, 500.0)), axis=1)
    np.testing.assert_allclose(gen, whole, atol=1e-12)


def test_discrete_filter_frequency_response_matches_continuous():
    import scipy.signal

    model = WaveModel(EIGENVALUES)
    sfreq = 1000.0
    b, a = model.discrete_filters(sfreq)
    f = np.array([1.0, 10.0, 40.0])
    continuous = model.transfer_function(f)
    for k in range(model.n_modes):
        _, h = scipy.signal.freqz(b[k], a[k], worN=f, fs=sfreq)
        # FOH sees the sampled sinusoid with amplitude sinc^2(f / fs): error (pi f / fs)^2 / 3
        np.testing.assert_allclose(np.abs(h), np.abs(continuous[k]) * np.sinc(f / sfreq) ** 2, rtol=1e-3)


def test_bad_parameters():
    with pytest.raises(ParameterError, match="non-negative"):
        WaveModel(np.array([-1.0]))
    with pytest.raises(ParameterError, match="gamma_s"):
        WaveModel(EIGENVALUES, gamma_s=0.0)
    with pytest.raises(ParameterError, match="r_s"):
        WaveModel(EIGENVALUES, r_s=float("nan"))
    model = WaveModel(EIGENVALUES)
    with pytest.raises(ParameterError, match="hold"):
        model.discrete_filters(100.0, hold="cubic")
    with pytest.raises(ParameterError, match="sfreq"):
        model.simulate(np.zeros(10), -5.0)
    with pytest.raises(ParameterError, match="n_modes"):
        model.simulate(np.zeros((3, 10)), 100.0)


def test_graph_eigenvalues_need_a_length_scale(default_connectome):
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((default_connectome.n_vertices, 4)))
    basis = HarmonicBasis(np.array([0.0, 0.01, 0.02, 0.03]), q, "graph-normalized")
    with pytest.raises(ParameterError, match="length_scale"):
        mode_eigenvalues(basis)
    np.testing.assert_allclose(mode_eigenvalues(basis, length_scale=2.0), basis.eigenvalues / 4)
    ell = graph_length_scale(default_connectome.mesh, "graph-normalized")
    assert 1.0 < ell < 4.0  # about h / 2 for a mean edge of ~4 mm
    np.testing.assert_allclose(mode_eigenvalues(basis, mesh=default_connectome.mesh), basis.eigenvalues / ell**2)


def test_graph_length_scale_matches_laplace_beltrami(default_connectome, default_harmonics, lb_model):
    """The lattice scaling maps graph eigenvalues onto the LB spectrum within ~25 % (above the lowest modes)."""
    graph = mode_eigenvalues(default_harmonics, mesh=default_connectome.mesh)[20:60]
    lb = lb_model.basis.eigenvalues[20:60]
    ratio = np.median(graph / lb)
    assert 0.75 < ratio < 1.25


def test_project_drive_is_unit_norm_and_region_errors(lb_model):
    connectome, basis = lb_model.connectome, lb_model.basis
    c = project_drive(basis, region_pattern(connectome, list(AUDITORY_REGIONS)))
    assert 0.0 < np.sum(c**2) <= 1.0 + 1e-9
    with pytest.raises(ParameterError, match="unknown region"):
        region_pattern(connectome, "A1")
    with pytest.raises(ParameterError, match="one signal per group"):
        region_drive(basis, connectome, np.zeros((2, 10)), ["rA1"])


# --------------------------------------------------------------------------- resonance profile


def _am_tone(rate: float, seconds: float = 8.0, sfreq: float = 8000.0, depth: float = 0.8) -> Audio:
    t = np.arange(int(seconds * sfreq)) / sfreq
    return Audio((1 + depth * np.sin(2 * np.pi * rate * t)) * np.sin(2 * np.pi * 1000.0 * t) * 0.4, sfreq)


def test_resonance_profile_known_answer():
    """An AM tone puts c_k^2 |H_k(f_m)|^2 m^2 / 2 into mode k."""
    model = WaveModel(EIGENVALUES)
    c = np.linspace(1.0, 0.2, model.n_modes)
    for rate in (10.0, 40.0):
        profile = resonance_profile(_am_tone(rate), model, c)
        expected = c**2 * model.gain([rate])[:, 0] ** 2 * 0.8**2 / 2
        np.testing.assert_allclose(profile.energy, expected, rtol=0.03)
        np.testing.assert_allclose(profile.fraction.sum(), 1.0)
        assert profile.density.shape == (model.n_modes, profile.freqs.size)
    # relative to the mode resonating near 40 Hz, the 10 Hz-resonant mode gains more from a 10 Hz AM
    p10 = resonance_profile(_am_tone(10.0), model, np.ones(model.n_modes))
    p40 = resonance_profile(_am_tone(40.0), model, np.ones(model.n_modes))
    k40 = int(np.nanargmin(np.abs(model.peak_frequencies - 40.0)))
    k10 = int(np.nanargmin(np.abs(model.peak_frequencies - 10.0)))
    assert p10.energy[k10] / p10.energy[k40] > p40.energy[k10] / p40.energy[k40]


def test_stimulus_resonance_on_auditory_cortex(lb_model):
    profile = stimulus_resonance(_am_tone(40.0), lb_model)
    assert profile.energy.shape == (lb_model.basis.n_modes,)
    assert profile.params["regions"] == list(AUDITORY_REGIONS)
    top = profile.top(3)
    assert np.all(np.diff(profile.energy[top]) <= 0)


# --------------------------------------------------------------------------- acceptance 4b and 4c


def test_acceptance_4b_10hz_region_drive_found_in_eeg(lb_model):
    """A 10 Hz drive of rV1 through the wave model and leadfield peaks at 10 Hz in the sensor PSD."""
    from harmonix.simulate.forward import harmonic_gain, simulate_raw
    from harmonix.spectral.psd import compute_psd

    connectome, basis = lb_model.connectome, lb_model.basis
    model = WaveModel.from_basis(basis)
    sfreq, seconds = 250.0, 30.0
    t = np.arange(int(seconds * sfreq)) / sfreq
    drive = region_drive(basis, connectome, np.sin(2 * np.pi * 10.0 * t), ["rV1"])
    drive += modal_noise(model.n_modes, t.size, std=1.0, seed=1)  # ongoing background activity
    phi = model.simulate(drive, sfreq)
    sim = simulate_raw(phi, sfreq, connectome, basis=basis, snr_db=10.0, seed=0)
    spec = compute_psd(sim.raw.get_data(), sfreq, fmin=2.0, fmax=40.0, ch_names=sim.raw.ch_names)
    # best channel: where the forward model puts the driven 10 Hz response
    c = project_drive(basis, region_pattern(connectome, "rV1"))
    best = int(np.argmax(np.abs(harmonic_gain(connectome, basis) @ (model.transfer_function([10.0])[:, 0] * c))))
    peak = spec.freqs[np.argmax(spec.psd[best])]
    print(f"best channel {spec.ch_names[best]}: PSD peak at {peak} Hz (resolution {spec.resolution} Hz)")
    assert abs(peak - 10.0) <= spec.resolution


def _stimulus_envelope_drive(waveform, audio_sfreq, sfreq, n_times):
    from harmonix.estimators.entrainment import stimulus_envelope

    return stimulus_envelope(waveform, audio_sfreq, sfreq, n_times=n_times)


def test_acceptance_4c_40hz_clicks_entrain_tone_does_not(lb_model):
    """40 Hz click train -> auditory regions -> EEG: SSR SNR >> 1 and ITC significant; equal-RMS tone: neither."""
    from harmonix.estimators.entrainment import inter_trial_coherence, steady_state_snr
    from harmonix.simulate.forward import harmonic_gain, simulate_raw
    from harmonix.spectral.psd import compute_psd
    from harmonix.stimulus.primitives import click_train, tone

    connectome, basis = lb_model.connectome, lb_model.basis
    model = WaveModel.from_basis(basis)
    sfreq, seconds, audio_sfreq = 500.0, 30.0, 44100.0
    n = int(seconds * sfreq)
    clicks = np.concatenate(list(click_train(40.0, seconds, sfreq=audio_sfreq)), axis=1)[0].astype(float)
    rms = np.sqrt(np.mean(clicks**2))
    steady = np.concatenate(list(tone(1000.0, seconds, sfreq=audio_sfreq)), axis=1)[0].astype(float)
    steady *= rms / np.sqrt(np.mean(steady**2))  # same loudness (RMS)
    c = project_drive(basis, region_pattern(connectome, list(AUDITORY_REGIONS)))
    # a priori auditory sensor: largest forward-model response to a 40 Hz auditory drive
    channel = int(np.argmax(np.abs(harmonic_gain(connectome, basis) @ (model.transfer_function([40.0])[:, 0] * c))))
    results = {}
    for name, waveform in (("clicks", clicks), ("tone", steady)):
        envelope = _stimulus_envelope_drive(waveform, audio_sfreq, sfreq, n)
        drive = np.outer(c, 3.0 * envelope / rms)  # stimulus gain: 3 per unit RMS
        drive += modal_noise(model.n_modes, n, std=1.0, seed=2)
        phi = model.simulate(drive, sfreq)
        sim = simulate_raw(phi, sfreq, connectome, basis=basis, snr_db=10.0, seed=3)
        data = sim.raw.get_data()
        snr = steady_state_snr(compute_psd(data, sfreq, fmin=30.0, fmax=50.0), 40.0)
        source = c @ phi  # field averaged over the auditory regions (unit-norm pattern)
        source_snr = steady_state_snr(compute_psd(source[None], sfreq, fmin=30.0, fmax=50.0), 40.0)[0]
        epochs = data.reshape(data.shape[0], -1, int(sfreq)).transpose(1, 0, 2)  # 1 s trials locked to the stimulus
        itc = inter_trial_coherence(epochs, sfreq, 40.0)
        results[name] = (snr[channel], source_snr, itc.itc[channel], itc.p_value[channel], itc.chance)
        print(name, connectome.sensor_names[channel], "SNR %.2f source SNR %.2f ITC %.3f p %.2g chance %.3f"
              % results[name])
    snr_c, src_c, itc_c, p_c, chance = results["clicks"]
    snr_t, src_t, itc_t, p_t, _ = results["tone"]
    assert snr_c > 3.0 and src_c > 3.0
    assert itc_c > 3 * chance and p_c < 1e-6
    assert 0.5 < snr_t < 2.0 and src_t < 2.0
    assert p_t > 0.01
