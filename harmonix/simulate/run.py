"""One simulated recording end to end: model -> sources -> EEG sensors -> files.

:func:`simulate_recording` composes the simulation core for ``harmonix simulate``:

* ``'stuart-landau'`` / ``'kuramoto'``: the 76-region network of the default
  connectome (:func:`~harmonix.simulate.oscillators.default_network`), natural
  frequencies around ``freq`` Hz, conduction delays from tract lengths, noise
  temperature from a schedule (constant, or heat-hold-cool: the annealing
  cycle), Hebbian plasticity while hot; region activity ``Re z`` (or
  ``cos θ``) is spread over each region's vertices and projected to sensors;
* ``'wave'``: the neural-field wave model on the default mesh's
  Laplace-Beltrami harmonics, driven by spatiotemporally white input.

A stimulation protocol (file or preset) adds its amplitude envelope as drive
to the auditory regions (A1, A2 of both hemispheres). The output
``mne.io.Raw`` goes through ``harmonix analyze`` like a real recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mne
import numpy as np

from harmonix.errors import ParameterError
from harmonix.simulate.forward import harmonic_gain, region_gain, simulate_raw
from harmonix.simulate.oscillators import (
    Hebbian,
    OscillatorResult,
    default_network,
    simulate_kuramoto,
    simulate_stuart_landau,
)
from harmonix.simulate.schedules import Constant, HeatHoldCool

MODELS = ("stuart-landau", "kuramoto", "wave")
SCHEDULES = ("constant", "anneal")
AUDITORY = ("rA1", "rA2", "lA1", "lA2")


@dataclass(frozen=True)
class SimulatedRecording:
    """A simulated EEG recording with the traces that produced it."""

    raw: mne.io.BaseRaw
    traces: dict
    params: dict = field(default_factory=dict)


def _volts_per_unit(gain: np.ndarray) -> float:
    """Fixed scale from source units to volts: a unit source gives 10 µV RMS over sensors on average.

    A property of the model, not of the run, so that source amplitude (e.g.
    raised by the noise temperature) stays visible in the simulated EEG.
    """
    return 10e-6 / float(np.sqrt(np.mean(gain**2)))


def temperature_schedule(kind: str, seconds: float, temperature: float):
    """``'constant'`` at ``temperature``, or ``'anneal'``: heat over the first 20 %,
    hold at 4x for 30 %, cool exponentially back to ``temperature`` over the rest."""
    if kind == "constant":
        return Constant(temperature)
    if kind == "anneal":
        return HeatHoldCool(0.2 * seconds, 0.3 * seconds, 0.5 * seconds, temperature, 4 * temperature, temperature,
                            cooling="exponential")
    raise ParameterError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")


def protocol_envelope(protocol, seconds: float, sfreq: float) -> np.ndarray:
    """Amplitude envelope (mean 1) of a stimulation protocol at ``sfreq``, time-scaled to ``seconds``."""
    from harmonix.estimators.entrainment import stimulus_envelope
    from harmonix.stimulus import resolve_protocol, synthesize

    resolved = resolve_protocol(protocol, seconds=seconds)
    audio_rate = 8000.0
    audio = np.concatenate([block.mean(axis=0) for block in synthesize(resolved, sfreq=audio_rate)])
    envelope = stimulus_envelope(audio, audio_rate, sfreq, n_times=int(round(seconds * sfreq)))
    mean = envelope.mean()
    return envelope / mean if mean > 0 else envelope


def simulate_recording(
    model: str = "stuart-landau",
    *,
    seconds: float = 30.0,
    seed: int = 0,
    schedule: str = "constant",
    temperature: float = 0.05,
    coupling: float = 0.5,
    freq: float = 10.0,
    protocol=None,
    sfreq: float = 250.0,
    dt: float = 1e-3,
    snr_db: float = 20.0,
) -> SimulatedRecording:
    """Simulate sources with ``model`` and project them to the default EEG sensors.

    Parameters
    ----------
    model : {'stuart-landau', 'kuramoto', 'wave'}
    seconds : float
        Simulated duration (s).
    seed : int
        Seed of every random draw (frequencies, noise, sensor noise).
    schedule : {'constant', 'anneal'}
        Noise-temperature schedule (the energy parameter), see :func:`temperature_schedule`.
    temperature : float
        Baseline temperature (noise variance rate, 1/s).
    coupling : float
        Global coupling ``G`` (network models).
    freq : float
        Mean natural frequency in Hz (network models).
    protocol : Protocol | path | preset name | None
        Stimulation whose envelope drives the auditory regions.
    sfreq : float
        Sampling rate of the output recording (Hz); network states are recorded at it.
    dt : float
        Integration step (s) of the network models.
    snr_db : float
        Sensor noise.
    """
    from harmonix.harmonics.model import default_harmonic_model

    if model not in MODELS:
        raise ParameterError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if seconds <= 0 or sfreq <= 0:
        raise ParameterError(f"seconds and sfreq must be positive, got {seconds} s and {sfreq} Hz")
    n_times = int(round(seconds * sfreq))
    envelope = None if protocol is None else protocol_envelope(protocol, seconds, sfreq)
    params = {"model": model, "seconds": seconds, "seed": seed, "schedule": schedule, "temperature": temperature,
              "coupling": coupling, "freq": freq, "sfreq": sfreq, "dt": dt, "snr_db": snr_db,
              "protocol": None if protocol is None else str(getattr(protocol, "name", protocol))}
    if model == "wave":
        from harmonix.simulate.wave import WaveModel, modal_noise, region_drive

        harmonic_model = default_harmonic_model(kind="laplace-beltrami")
        wave = WaveModel.from_basis(harmonic_model.basis, n_modes=100)
        drive = modal_noise(wave.n_modes, n_times, seed=seed)
        if envelope is not None:
            signals = np.tile(envelope - 1.0, (len(AUDITORY), 1))  # the same envelope into each auditory region
            drive = drive + 3.0 * region_drive(harmonic_model.basis, harmonic_model.connectome, signals,
                                               list(AUDITORY), n_modes=wave.n_modes)
        field_ = wave.simulate(drive, sfreq)
        gain = harmonic_gain(harmonic_model.connectome, harmonic_model.basis)[:, : wave.n_modes]
        simulated = simulate_raw(field_ * _volts_per_unit(gain), sfreq, harmonic_model.connectome,
                                 basis=harmonic_model.basis, space="harmonic", snr_db=snr_db, signal_rms=None, seed=seed)
        traces = {"time": np.arange(n_times) / sfreq,
                  "energy": (wave.eigenvalues[:, np.newaxis] ** 2 * field_**2).sum(axis=0),
                  "mean_harmonic_power": np.mean(field_**2, axis=0)}
        return SimulatedRecording(simulated.raw, traces, params)

    weights, lengths, labels = default_network()
    rng = np.random.default_rng(seed)
    omega = 2 * np.pi * (freq + 0.5 * rng.standard_normal(len(labels)))
    drive = drive_gain = None
    steps = int(round(seconds / dt))
    record_every = max(1, int(round(1.0 / (sfreq * dt))))
    if envelope is not None:
        drive_time = np.interp(np.arange(steps) * dt, np.arange(n_times) / sfreq, envelope - 1.0)
        drive = drive_time
        drive_gain = np.array([1.0 if label in AUDITORY else 0.0 for label in labels])
    common = dict(duration=seconds, dt=dt, coupling=coupling, weights=weights, tract_lengths=lengths,
                  temperature=temperature_schedule(schedule, seconds, temperature), drive=drive,
                  drive_gain=drive_gain, plasticity=Hebbian(rate=0.5, w_max=1.0, T_threshold=2 * temperature),
                  record_every=record_every, seed=seed)
    result: OscillatorResult = (simulate_stuart_landau(omega, **common) if model == "stuart-landau"
                                else simulate_kuramoto(omega, **common))
    activity = result.states.real if np.iscomplexobj(result.states) else np.cos(result.states)
    activity = activity.T if activity.shape[0] == result.times.size else activity
    connectome = default_harmonic_model().connectome
    scale = _volts_per_unit(region_gain(connectome, list(labels)))
    simulated = simulate_raw(activity[:, :n_times] * scale, 1.0 / (dt * record_every), connectome,
                             space="region", regions=list(labels), snr_db=snr_db, signal_rms=None, seed=seed)
    traces = {"time": result.times, "order_parameter": result.order, "energy": result.energy,
              "temperature": result.temperature}
    params["coupling_change"] = result.coupling_change
    return SimulatedRecording(simulated.raw, traces, params)
