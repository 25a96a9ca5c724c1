"""One simulated recording end to end: model -> sources -> EEG sensors -> files.

:func:`simulate_recording` composes the simulation core for ``harmonix simulate``:

* ``'stuart-landau'`` / ``'kuramoto'``: the 76-region network of the default
  connectome (:func:`~harmonix.simulate.oscillators.default_network`), natural
  frequencies around ``freq`` Hz, conduction delays from tract lengths, noise
  temperature from a schedule (constant, or heat-hold-cool: the annealing
  cycle), Hebbian plasticity while hot; region activity ``Re z`` (or
  ``cos θ``) is spread over each region's vertices and projected to sensors;
  a bilateral rhythm generator (:data:`GENERATORS`, see below) and, on
  request, a planted link between two regions (``couple``);
* ``'wave'``: the neural-field wave model on the default mesh's
  Laplace-Beltrami harmonics, driven by spatiotemporally white input.

A stimulation protocol (file or preset) adds its amplitude envelope as drive
to the auditory regions (A1, A2 of both hemispheres). The output
``mne.io.Raw`` goes through ``harmonix analyze`` like a real recording.

Planted scenario of the network models (a known answer for ``harmonix analyze``)
---------------------------------------------------------------------------------

In the Stuart-Landau network the diffusive coupling
:math:`G\\sum_j C_{ij}(z_j(t-\\tau_{ij}) - z_i)` contains the self-term
:math:`-G\\sum_j C_{ij}\\,z_i`: with the default connectome (row sums of the
weights about 18, ``G = 0.5``) it damps every region at about 9/s, far more
than its own :math:`a = -0.5`/s, so the regions are noise-driven, broad-band
(spectral peaks about 3 Hz wide) and weak, and a link switched on between
two of them mostly adds damping: their locking hardly rises and their
amplitude falls.
So the simulated brain carries a **bilateral rhythm generator**, the same in
every run whether or not anything is coupled (an anatomical fact of the
simulated subject, like the two rhythm regions of
:mod:`harmonix.simulate.cohort`):

* the two regions of ``generators`` (default :data:`GENERATORS`, left and
  right dorsolateral prefrontal cortex, which the 30-harmonic sensor inverse
  of ``harmonix analyze`` resolves well) sit just above their Hopf
  bifurcation: :math:`a_i = a_{gen} + G\\sum_j C_{ij}` (:data:`GENERATOR_A`,
  net of the structural self-term), a weak limit cycle of amplitude
  :math:`\\approx\\sqrt{a_{gen}}`, about 4 times the other regions' RMS
  (heterogeneous bifurcation parameters, as fitted per region by
  Deco et al. 2017);
* as homologous areas they share one natural frequency (the mean of their
  two draws), so what separates them is their independent noise and network
  input: uncoupled, their phases drift apart (source PLV 0.1-0.2 over 30 s).

``couple`` then switches on a direct link between two regions: weight
``couple_weight`` (replacing their structural connection) **without
conduction delay**. The delay matters: at 10 Hz the pair's 79-mm tract
(16 ms at 5 m/s) turns the diffusive link into a net damping
:math:`G w (1 - \\cos\\omega\\tau)` of the pair's in-phase rhythm, larger
than :math:`a_{gen}`, which quenches the generator instead of locking it;
the instantaneous link is the idealised fast (zero-lag) interhemispheric
coupling that the planted scenario stands for. With the generator pair and
the default ``couple_weight = 4`` the pair's source PLV (alpha band) rises
from 0.1-0.2 to about 0.8 and the PLV ``harmonix analyze`` estimates from
the sensors (``region_plv_homotopic``, component ``PFCDL``) from 0.1-0.3
to 0.6-0.7 (30-s runs), while the median of the other regions' homotopic
PLVs moves by at most about 0.05 (those of regions the inverse resolves
poorly, whose estimates are mostly leakage from the strong generators, move
either way). Runs with and without ``couple`` share the seed, the
frequencies, the noise and the generators, so the link is the only
difference; the generators carry about a third of the sensor power in both.
A pair other than the generators can be coupled too; its locking rises at
the sources but, weak among 76 equal sources, it is hardly visible through
the sensor inverse.
The Kuramoto model has no amplitude: the generators only share their
frequency there, and the link (also without delay) competes with the much
stronger summed input of the network, so its locking rises less.

References
----------
Deco G., Kringelbach M. L., Jirsa V. K., Ritter P. (2017). The dynamics of
resting fluctuations in the brain: metastability and its dynamical cortical
core. Sci Rep 7:3095.
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
from harmonix.simulate.sinks import predictive_sink

MODELS = ("stuart-landau", "kuramoto", "wave")
SCHEDULES = ("constant", "anneal")
AUDITORY = ("rA1", "rA2", "lA1", "lA2")
GENERATORS = ("lPFCDL", "rPFCDL")
"""Default bilateral rhythm generator of the network models (see the module docstring)."""
GENERATOR_A = 0.25
"""Net bifurcation parameter (1/s) of the generator regions: above the structural self-term, a weak limit cycle."""
REGION_A = -0.5
"""Bifurcation parameter (1/s) of every other region of the Stuart-Landau network (damped)."""


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


def _pair_indices(labels, pair, name: str) -> list[int]:
    """Indices of two different region labels (``name`` says which argument, for the message)."""
    pair = tuple(pair)
    unknown = [p for p in pair if p not in labels]
    if len(pair) != 2 or unknown or pair[0] == pair[1]:
        raise ParameterError(f"{name}: give two different region labels of the connectome, got {pair}"
                             + (f" (unknown: {', '.join(unknown)}; e.g. {', '.join(labels[:4])}...)" if unknown else ""))
    return [labels.index(pair[0]), labels.index(pair[1])]


def coupled_weights(weights: np.ndarray, labels, pair, weight: float) -> np.ndarray:
    """A copy of ``weights`` with the connection between the two regions of ``pair`` set to ``weight``.

    Examples
    --------
    >>> coupled_weights(np.zeros((3, 3)), ["a", "b", "c"], ("a", "c"), 2.0)[[0, 2], [2, 0]].tolist()
    [2.0, 2.0]
    """
    i, j = _pair_indices(list(labels), pair, "couple")
    if not np.isfinite(weight) or weight < 0:
        raise ParameterError(f"couple weight must be a non-negative number, got {weight}")
    out = np.array(weights, dtype=float, copy=True)
    out[i, j] = out[j, i] = weight
    return out


def region_harmonic_power(
    activity: np.ndarray,
    harmonic_model,
    regions: list[str],
    sfreq: float,
    *,
    harmonics: tuple[int, ...] = (1, 2, 3, 4, 5),
    smoothing: float = 1.0,
) -> dict[str, np.ndarray]:
    """Power of chosen harmonics over time for region-level activity spread over each region's vertices.

    Vertex activity is the activity of the vertex's region,
    :math:`x_v(t) = s_{r(v)}(t)`, so the coefficients are
    :math:`a_k(t) = \\sum_r (\\sum_{v \\in r} \\psi_k(v))\\, s_r(t)` (Atasoy et
    al. 2016; orthonormal graph harmonics); their power :math:`a_k(t)^2` is
    smoothed by a moving average of ``smoothing`` seconds.

    Returns
    -------
    dict
        ``harmonic_power_h001``... -> array of shape (n_times,).
    """
    connectome, basis = harmonic_model.connectome, harmonic_model.basis
    index = [list(connectome.region_labels).index(r) for r in regions]
    region_sums = np.zeros((basis.n_modes, len(connectome.region_labels)))
    np.add.at(region_sums.T, connectome.region_map, basis.eigenvectors)
    coefficients = region_sums[np.asarray(harmonics)][:, index] @ activity
    width = max(1, int(round(smoothing * sfreq)))
    kernel = np.ones(width) / width
    return {f"harmonic_power_h{k:03d}": np.convolve(c**2, kernel, mode="same") for k, c in zip(harmonics, coefficients)}


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
    couple: tuple[str, str] | None = None,
    couple_weight: float = 4.0,
    generators: tuple[str, str] | None = GENERATORS,
    generator_a: float = GENERATOR_A,
    sink: float = 0.0,
    sink_tau: float = 5.0,
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
    couple : (str, str) | None
        Two regions (labels of the default connectome, e.g. ``('lPFCDL', 'rPFCDL')``)
        between which a direct link of weight ``couple_weight`` and no
        conduction delay is switched on (network models), replacing their
        structural connection: it raises their locking (see the module
        docstring). Everything else (seed, frequencies, noise, generators)
        is the same as without ``couple``.
    couple_weight : float
        Weight of that connection, in units of the strongest structural
        connection (the weights are scaled so that it is 1).
    generators : (str, str) | None
        The bilateral rhythm generator (network models; default
        :data:`GENERATORS`): two regions that share one natural frequency and,
        in the Stuart-Landau model, sit just above their Hopf bifurcation.
        ``None``: every region alike.
    generator_a : float
        Net bifurcation parameter of the generators (1/s, Stuart-Landau):
        :math:`a_i = a_{gen} + G\\sum_j C_{ij}` over the structural weights.
        The other regions have ``a = REGION_A``.
    sink : float
        Strength in [0, 1] of the energy sink that grows with predictable
        input (:func:`harmonix.simulate.sinks.predictive_sink`): feedback
        cancels up to this share of the protocol's drive once it has become
        predictable. 0 (default): no sink. Needs a ``protocol``.
    sink_tau : float
        Time constant (s) with which the sink learns the drive.
    """
    from harmonix.harmonics.model import default_harmonic_model

    if model not in MODELS:
        raise ParameterError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if seconds <= 0 or sfreq <= 0:
        raise ParameterError(f"seconds and sfreq must be positive, got {seconds} s and {sfreq} Hz")
    n_times = int(round(seconds * sfreq))
    envelope = None if protocol is None else protocol_envelope(protocol, seconds, sfreq)
    if sink and envelope is None:
        raise ParameterError("--sink needs a drive to predict: give --protocol or --preset")
    sink_gain = None
    params = {"model": model, "seconds": seconds, "seed": seed, "schedule": schedule, "temperature": temperature,
              "coupling": coupling, "freq": freq, "sfreq": sfreq, "dt": dt, "snr_db": snr_db,
              "protocol": None if protocol is None else str(getattr(protocol, "name", protocol)),
              "sink": {"strength": sink, "tau_s": sink_tau} if sink else None}
    if couple is not None:
        params.update(couple=list(couple), couple_weight=couple_weight, couple_delay=0.0)
        if model == "wave":
            raise ParameterError("--couple needs a network model (stuart-landau or kuramoto); "
                                 "the wave model has no region-to-region connections")
    if model != "wave" and generators is not None:
        params.update(generators=list(generators), generator_a=generator_a if model == "stuart-landau" else None)
    if model == "wave":
        from harmonix.simulate.wave import WaveModel, modal_noise, region_drive

        harmonic_model = default_harmonic_model(kind="laplace-beltrami")
        wave = WaveModel.from_basis(harmonic_model.basis, n_modes=100)
        drive = modal_noise(wave.n_modes, n_times, seed=seed)
        if envelope is not None:
            drive_signal = envelope - 1.0
            if sink:
                cancelled = predictive_sink(drive_signal, sfreq, strength=sink, tau=sink_tau)
                drive_signal, sink_gain = cancelled.drive, cancelled.gain
            signals = np.tile(drive_signal, (len(AUDITORY), 1))  # the same envelope into each auditory region
            drive = drive + 3.0 * region_drive(harmonic_model.basis, harmonic_model.connectome, signals,
                                               list(AUDITORY), n_modes=wave.n_modes)
        field_ = wave.simulate(drive, sfreq)
        gain = harmonic_gain(harmonic_model.connectome, harmonic_model.basis)[:, : wave.n_modes]
        simulated = simulate_raw(field_ * _volts_per_unit(gain), sfreq, harmonic_model.connectome,
                                 basis=harmonic_model.basis, space="harmonic", snr_db=snr_db, signal_rms=None, seed=seed)
        traces = {"time": np.arange(n_times) / sfreq,
                  "energy": (wave.eigenvalues[:, np.newaxis] ** 2 * field_**2).sum(axis=0),
                  "mean_harmonic_power": np.mean(field_**2, axis=0)}
        if sink_gain is not None:
            traces["sink_gain"] = sink_gain
        return SimulatedRecording(simulated.raw, traces, params)

    structural, lengths, labels = default_network()
    labels = list(labels)
    rng = np.random.default_rng(seed)
    omega = 2 * np.pi * (freq + 0.5 * rng.standard_normal(len(labels)))
    a = np.full(len(labels), REGION_A)
    if generators is not None:
        pair = _pair_indices(labels, generators, "generators")
        omega[pair] = omega[pair].mean()  # homologous generators: one natural frequency
        if not np.isfinite(generator_a):
            raise ParameterError(f"generator_a must be a finite number (1/s), got {generator_a}")
        a[pair] = generator_a + coupling * structural[pair].sum(axis=1)  # net of the diffusive self-term
    weights = structural
    if couple is not None:
        weights = coupled_weights(structural, labels, couple, couple_weight)
        link = _pair_indices(labels, couple, "couple")
        lengths = lengths.copy()
        lengths[link[0], link[1]] = lengths[link[1], link[0]] = 0.0  # the planted link has no conduction delay
    drive = drive_gain = None
    steps = int(round(seconds / dt))
    record_every = max(1, int(round(1.0 / (sfreq * dt))))
    if envelope is not None:
        drive_time = np.interp(np.arange(steps) * dt, np.arange(n_times) / sfreq, envelope - 1.0)
        if sink:
            # At the integration rate, so that a period of the drive is predicted to within one step.
            cancelled = predictive_sink(drive_time, 1.0 / dt, strength=sink, tau=sink_tau)
            drive_time, sink_gain = cancelled.drive, np.interp(np.arange(n_times) / sfreq,
                                                               np.arange(steps) * dt, cancelled.gain)
        drive = drive_time
        drive_gain = np.array([1.0 if label in AUDITORY else 0.0 for label in labels])
    common = dict(duration=seconds, dt=dt, coupling=coupling, weights=weights, tract_lengths=lengths,
                  temperature=temperature_schedule(schedule, seconds, temperature), drive=drive,
                  drive_gain=drive_gain, plasticity=Hebbian(rate=0.5, w_max=1.0, T_threshold=2 * temperature),
                  record_every=record_every, seed=seed)
    result: OscillatorResult = (simulate_stuart_landau(omega, a=a, **common) if model == "stuart-landau"
                                else simulate_kuramoto(omega, **common))
    activity = result.states.real if np.iscomplexobj(result.states) else np.cos(result.states)
    activity = activity.T if activity.shape[0] == result.times.size else activity
    harmonic_model = default_harmonic_model()
    connectome = harmonic_model.connectome
    scale = _volts_per_unit(region_gain(connectome, list(labels)))
    simulated = simulate_raw(activity[:, :n_times] * scale, 1.0 / (dt * record_every), connectome,
                             space="region", regions=list(labels), snr_db=snr_db, signal_rms=None, seed=seed)
    traces = {"time": result.times, "order_parameter": result.order, "energy": result.energy,
              "temperature": result.temperature,
              **({} if sink_gain is None else
                 {"sink_gain": np.interp(result.times, np.arange(n_times) / sfreq, sink_gain)}),
              **region_harmonic_power(activity, harmonic_model, list(labels), 1.0 / (dt * record_every))}
    params["coupling_change"] = result.coupling_change
    return SimulatedRecording(simulated.raw, traces, params)
