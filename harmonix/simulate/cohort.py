"""A simulated cohort: several subjects, a pre and a post session each, planted changes.

Every subject has fixed "anatomy and physiology" (drawn from the subject
seed): an alpha-range resonance frequency and a baseline gain for each of the
lowest connectome harmonics, a rhythm in each of two chosen regions, and a
1/f sensor background with its own exponent. Each session adds what varies
between visits: fresh noise, a session-wide gain jitter of background and
harmonics, and sensor noise. The post session can carry two planted changes,
of the kind the Neural Annealing account expects after an annealing cycle
(see ``../shared/DESIGN.md``):

* **more low-harmonic energy**: the amplitude of harmonics ``1..n_low`` is
  multiplied by ``low_harmonic_gain`` (the constant harmonic 0 is left
  alone);
* **stronger inter-regional locking**: the two regions' rhythms, independent
  before, share a common drive in the post session so that their phase
  locking rises, with their power unchanged (correlation ``coupling``). The
  drive reaches the second region ``delay`` seconds after the first, as
  coupling through axons does (interhemispheric transfer takes about
  10-20 ms, Saron & Davidson 1989); a zero-lag link would look exactly like
  the field spread that mixes neighbouring regions' estimates.

A session without a change (a pre session, or a test-retest control) has
the same distribution as any other such session of that subject, so a
comparison of two unchanged sessions is a null case: up to the
false-discovery rate, nothing should come out. Changes are planted directly in harmonic space; they are a
known answer for the analysis, not an emergent result of an annealing run.
"""

from __future__ import annotations

from dataclasses import dataclass

import mne
import numpy as np

from harmonix.errors import ParameterError
from harmonix.io.channels import standard_montage
from harmonix.simulate.forward import harmonic_gain, region_gain
from harmonix.simulate.synthetic import _resonance, powerlaw_noise

@dataclass(frozen=True)
class PlantedChange:
    """What changes from the pre to the post session.

    Attributes
    ----------
    low_harmonic_gain : float
        Amplitude factor on harmonics ``1..n_low`` in the post session (1 = none).
    n_low : int
        Number of non-constant low harmonics that change.
    coupling : float
        Correlation, in [0, 1), of the two regions' rhythms in the post session
        (pre: 0, independent).
    delay : float
        Conduction delay (s) of the common drive from the first region to the
        second, rounded to whole samples.
    regions : (str, str)
        The coupled regions (labels of the default connectome).
    """

    low_harmonic_gain: float = 1.6
    n_low: int = 4
    coupling: float = 0.9
    regions: tuple[str, str] = ("rPFCDL", "lPFCDL")
    delay: float = 0.015


def cohort_session(
    model,
    *,
    subject: int,
    visit: int,
    change: PlantedChange | None = None,
    regions: tuple[str, str] = PlantedChange.regions,
    duration: float = 30.0,
    sfreq: float = 128.0,
    n_modes: int = 30,
    region_gain_factor: float = 4.0,
    session_jitter: float = 0.15,
    sensor_snr_db: float = 20.0,
    seed: int = 0,
) -> mne.io.RawArray:
    """One simulated session of one subject (EEG at the model's sensors, in V).

    Parameters
    ----------
    model : HarmonicModel
        Connectome with leadfield, and its harmonic basis.
    subject : int
        Subject number; fixes the subject's resonances, gains and background.
    visit : int
        Session number; seeds what varies between visits (noise, gain jitter).
    change : PlantedChange | None
        The planted change this session carries (``None``: a session like
        any baseline, e.g. the pre session or a test-retest control).
    regions : (str, str)
        The two regions with their own rhythm (coupled when ``change`` says
        so); must equal ``change.regions`` when a change is given.
    duration, sfreq : float
        Length (s) and sampling rate (Hz).
    n_modes : int
        Harmonics carrying alpha-range resonances.
    region_gain_factor : float
        Amplitude of each region's rhythm relative to one harmonic's.
    session_jitter : float
        Standard deviation of the log of the session-wide gains (visit-to-visit variability).
    sensor_snr_db : float
        Brain signal to white sensor noise, in dB.
    seed : int
        Seed of the cohort; subjects and sessions get independent streams from it.
    """
    if change is not None:
        if not 0 <= change.coupling < 1:
            raise ParameterError(f"coupling={change.coupling}: must be in [0, 1)")
        if not 0 <= change.delay < duration / 2:
            raise ParameterError(f"delay={change.delay}: must be between 0 and half the duration")
        if not 1 <= change.n_low < n_modes:
            raise ParameterError(f"n_low={change.n_low}: must be between 1 and n_modes - 1 = {n_modes - 1}")
        if tuple(change.regions) != tuple(regions):
            raise ParameterError(f"the change couples {change.regions} but the subject's rhythms are in {regions}")
    connectome, basis = model.connectome, model.basis
    missing = [r for r in regions if r not in list(connectome.region_labels)]
    if missing:
        raise ParameterError(f"unknown region(s) {', '.join(missing)}; the connectome has {', '.join(connectome.region_labels)}")

    subject_rng = np.random.default_rng([seed, subject])
    frequencies = subject_rng.uniform(8.0, 12.0, n_modes)
    mode_gains = np.exp(0.3 * subject_rng.standard_normal(n_modes))
    region_frequencies = 10.0 + 0.5 * subject_rng.standard_normal(2)
    exponent = 1.5 + 0.15 * subject_rng.standard_normal()

    rng = np.random.default_rng([seed, subject, visit + 1])
    n_times = int(round(duration * sfreq))
    if change is not None:
        mode_gains = mode_gains.copy()
        mode_gains[1 : change.n_low + 1] *= change.low_harmonic_gain
    session_gain = np.exp(session_jitter * rng.standard_normal(2))  # harmonics, background
    coefficients = np.stack([_resonance(n_times, sfreq, f, rng) for f in frequencies])
    coefficients *= (session_gain[0] * mode_gains)[:, np.newaxis]

    rhythms = np.stack([_resonance(n_times, sfreq, f, rng) for f in region_frequencies])
    if change is not None and change.coupling > 0:
        lag = int(round(change.delay * sfreq))
        common = _resonance(n_times + lag, sfreq, region_frequencies.mean(), rng)
        drive = np.stack([common[lag:], common[: n_times]])  # the second region receives it lag samples later
        rhythms = np.sqrt(1 - change.coupling**2) * rhythms + change.coupling * drive
    rhythms *= session_gain[0] * region_gain_factor

    modes = harmonic_gain(connectome, basis, n_modes=n_modes)
    # a region's rhythm spreads over its vertices with unit norm, like one harmonic
    patterns = region_gain(connectome, list(regions))
    sizes = np.array([np.sum(connectome.region_map == list(connectome.region_labels).index(r)) for r in regions])
    brain = modes @ coefficients + (patterns / np.sqrt(sizes)) @ rhythms
    volts = 10e-6 / float(np.sqrt(np.mean(modes**2)))  # a unit harmonic gives 10 µV RMS: fixed by the model
    brain *= volts
    level = 10e-6 * np.sqrt(n_modes)  # typical brain RMS with unit gains; sets background and sensor noise
    background = 0.5 * level * session_gain[1] * powerlaw_noise(len(connectome.sensor_names), n_times, sfreq,
                                                                exponent, rng)
    sensors = brain + background
    sensors += level * 10 ** (-sensor_snr_db / 20) * rng.standard_normal(sensors.shape)
    info = mne.create_info(list(connectome.sensor_names), sfreq, "eeg")
    raw = mne.io.RawArray(sensors, info, verbose=False)
    raw.set_montage(standard_montage(), on_missing="ignore", verbose=False)
    return raw
