"""Synthetic EEG with planted, known spectral parameters.

A stand-in recording for the embedded demo and for known-answer tests: each
channel is aperiodic :math:`1/f^{\\chi}` noise plus an alpha oscillation whose
amplitude follows a posterior topography. The planted values (aperiodic
exponent, alpha peak frequency) are returned with the recording so that an
analysis can be checked against them. The connectome simulation core (neural
field and oscillator networks) builds on top of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import mne
import numpy as np

from harmonix.errors import ParameterError
from harmonix.io.channels import standard_montage

STANDARD_1020_64 = (
    "Fp1 Fpz Fp2 AF7 AF3 AFz AF4 AF8 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCz FC2 FC4 FC6 FT8 "
    "T7 C5 C3 C1 Cz C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPz CP2 CP4 CP6 TP8 P7 P5 P3 P1 Pz P2 P4 P6 P8 "
    "PO7 PO3 POz PO4 PO8 O1 Oz O2 Iz TP9 TP10"
).split()
"""64 electrode names of the 10-10 system (the eegmmidb / BioSemi-64 layout family)."""


@dataclass(frozen=True)
class SyntheticTruth:
    """Ground truth planted in a synthetic recording."""

    aperiodic_exponent: float
    alpha_frequency: float
    alpha_amplitude: float
    seed: int


def powerlaw_noise(n_channels: int, n_times: int, sfreq: float, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with power spectral density proportional to ``f**-exponent``.

    White noise is shaped in the frequency domain by ``f**(-exponent / 2)``
    (amplitude), with the DC bin set to zero; each channel has unit variance.
    """
    freqs = np.fft.rfftfreq(n_times, d=1.0 / sfreq)
    shape = np.zeros_like(freqs)
    shape[1:] = freqs[1:] ** (-exponent / 2.0)
    spectrum = np.fft.rfft(rng.standard_normal((n_channels, n_times)), axis=-1) * shape
    noise = np.fft.irfft(spectrum, n=n_times, axis=-1)
    return noise / noise.std(axis=-1, keepdims=True)


def synthetic_eeg(
    duration: float = 120.0,
    sfreq: float = 250.0,
    *,
    aperiodic_exponent: float = 1.5,
    alpha_frequency: float = 10.0,
    alpha_amplitude: float = 1.0,
    noise_scale: float = 10e-6,
    seed: int = 0,
) -> tuple[mne.io.RawArray, SyntheticTruth]:
    """Make a 64-channel 10-10 recording with known aperiodic and alpha parameters.

    Parameters
    ----------
    duration, sfreq : float
        Length in seconds and sampling rate in Hz.
    aperiodic_exponent : float
        :math:`\\chi` of the background PSD :math:`\\propto f^{-\\chi}`.
    alpha_frequency : float
        Frequency of the planted alpha oscillation in Hz.
    alpha_amplitude : float
        Peak alpha amplitude relative to the background standard deviation at
        the most posterior electrodes (it falls off towards frontal sites).
    noise_scale : float
        Standard deviation of the background in V.
    seed : int
        Seed of the random generator; equal seeds give identical recordings.

    Returns
    -------
    raw : mne.io.RawArray
        EEG in V with the standard 10-05 montage.
    truth : SyntheticTruth
        The planted parameters.

    Examples
    --------
    >>> raw, truth = synthetic_eeg(duration=10.0, seed=1)
    >>> raw.get_data().shape, truth.alpha_frequency
    ((64, 2500), 10.0)
    """
    if duration <= 0 or sfreq <= 0:
        raise ParameterError(f"duration and sfreq must be positive, got {duration} s and {sfreq} Hz")
    if not 0 < alpha_frequency < sfreq / 2:
        raise ParameterError(f"alpha_frequency {alpha_frequency} Hz must lie below Nyquist ({sfreq / 2} Hz)")
    rng = np.random.default_rng(seed)
    n_times = int(round(duration * sfreq))
    info = mne.create_info(list(STANDARD_1020_64), sfreq, "eeg")
    montage = standard_montage()
    positions = montage.get_positions()["ch_pos"]
    # posterior weighting: y (anterior axis) from about -0.11 m (Iz) to +0.09 m (Fpz)
    y = np.array([positions[name][1] for name in STANDARD_1020_64])
    topography = np.clip((0.06 - y) / 0.16, 0.05, 1.0)
    t = np.arange(n_times) / sfreq
    # slow amplitude waxing and waning makes the alpha realistic and bursty
    waxing = 1.0 + 0.5 * np.sin(2 * np.pi * 0.1 * t + rng.uniform(0, 2 * np.pi))
    alpha = waxing * np.sin(2 * np.pi * alpha_frequency * t + rng.uniform(0, 2 * np.pi))
    background = powerlaw_noise(len(STANDARD_1020_64), n_times, sfreq, aperiodic_exponent, rng)
    data = noise_scale * (background + alpha_amplitude * topography[:, np.newaxis] * alpha)
    raw = mne.io.RawArray(data, info, verbose=False)
    raw.set_montage(montage, verbose=False)
    truth = SyntheticTruth(aperiodic_exponent, alpha_frequency, alpha_amplitude, seed)
    return raw, truth


@dataclass(frozen=True)
class HarmonicSourceTruth:
    """What was planted in :func:`harmonic_source_recording`."""

    mode_gains: np.ndarray
    coupled_regions: tuple[int, ...]
    burst: tuple[float, float] | None
    seed: int


def _resonance(n_times: int, sfreq: float, freq: float, rng: np.random.Generator, *, bandwidth: float = 2.0) -> np.ndarray:
    """Unit-variance noise driven through a resonance at ``freq`` (an AR(2) oscillator)."""
    radius = np.exp(-np.pi * bandwidth / sfreq)
    a1, a2 = 2 * radius * np.cos(2 * np.pi * freq / sfreq), -radius**2
    import scipy.signal

    x = scipy.signal.lfilter([1.0], [1.0, -a1, -a2], rng.standard_normal(n_times + 500))[500:]
    return x / x.std()


def harmonic_source_recording(
    model,
    *,
    duration: float = 60.0,
    sfreq: float = 128.0,
    n_modes: int = 30,
    mode_gains: np.ndarray | None = None,
    coupled_regions: tuple[int, int] | None = None,
    coupling_gain: float = 3.0,
    burst: tuple[float, float] | None = None,
    burst_gain: float = 4.0,
    sensor_snr_db: float = 20.0,
    seed: int = 0,
) -> tuple[mne.io.RawArray, HarmonicSourceTruth]:
    """EEG generated from activity in harmonic space, with optional planted changes.

    Each of the ``n_modes`` lowest harmonics carries an independent alpha-range
    resonance (7-13 Hz, random per harmonic) scaled by ``mode_gains``; the
    vertex activity ``Ψ a(t)`` (never formed: the leadfield is applied to
    ``Ψ`` directly) is projected to the model's sensors and white sensor
    noise is added at ``sensor_snr_db``. Planted changes:

    * ``mode_gains``: more or less power in chosen harmonics;
    * ``coupled_regions=(i, j)``: one shared 10 Hz resonance added, in phase,
      to every vertex of regions ``i`` and ``j`` (``coupling_gain`` times a
      harmonic's amplitude);
    * ``burst=(t0, t1)``: broadband white activity in harmonics 10 and up
      between ``t0`` and ``t1`` s (``burst_gain`` times their usual amplitude).

    Parameters
    ----------
    model : HarmonicModel
        Connectome (with leadfield) and basis.

    Returns
    -------
    raw : mne.io.RawArray
        Sensors named as in the leadfield, standard 10-05 montage, V-like units.
    truth : HarmonicSourceTruth
    """
    connectome, basis = model.connectome, model.basis
    if connectome.leadfield is None:
        raise ParameterError("the model has no leadfield to project sources to sensors")
    rng = np.random.default_rng(seed)
    n_times = int(round(duration * sfreq))
    gains = np.ones(n_modes) if mode_gains is None else np.asarray(mode_gains, dtype=float)
    if gains.shape != (n_modes,):
        raise ParameterError(f"mode_gains must have {n_modes} values, got shape {gains.shape}")
    coefficients = np.stack([_resonance(n_times, sfreq, rng.uniform(7, 13), rng) for _ in range(n_modes)])
    coefficients *= gains[:, np.newaxis]
    if burst is not None:
        t = np.arange(n_times) / sfreq
        inside = (t >= burst[0]) & (t < burst[1])
        coefficients[10:, inside] += burst_gain * rng.standard_normal((n_modes - 10, int(inside.sum())))
    gain = connectome.leadfield @ basis.eigenvectors[:, :n_modes]
    sensors = gain @ coefficients
    if coupled_regions is not None:
        shared = _resonance(n_times, sfreq, 10.0, rng)
        for region in coupled_regions:
            members = connectome.region_map == region
            # a unit harmonic spreads over all vertices with norm 1; match that per region
            pattern = members / np.sqrt(members.sum())
            sensors += coupling_gain * np.outer(connectome.leadfield @ pattern, shared)
    noise = rng.standard_normal(sensors.shape)
    sensors += noise * np.linalg.norm(sensors) / np.linalg.norm(noise) * 10 ** (-sensor_snr_db / 20)
    sensors *= 1e-6 / sensors.std()
    info = mne.create_info(list(connectome.sensor_names), sfreq, "eeg")
    raw = mne.io.RawArray(sensors, info, verbose=False)
    raw.set_montage(standard_montage(), on_missing="ignore", verbose=False)
    truth = HarmonicSourceTruth(gains, tuple(coupled_regions or ()), burst, seed)
    return raw, truth


def am_tone(duration: float, sfreq: float, *, carrier: float, rate: float, depth: float = 0.8) -> np.ndarray:
    """A sine carrier with sinusoidal amplitude modulation, peak 0.5 (-6 dBFS).

    ``x(t) = 0.5 * (1 + depth * sin(2 pi rate t)) / (1 + depth) * sin(2 pi carrier t)``
    """
    t = np.arange(int(round(duration * sfreq))) / sfreq
    envelope = (1.0 + depth * np.sin(2 * np.pi * rate * t)) / (1.0 + depth)
    return 0.5 * envelope * np.sin(2 * np.pi * carrier * t)
