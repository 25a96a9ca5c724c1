r"""A simulated brain to close the loop on: the wave model, driven block by block, seen through the leadfield.

:class:`SimulatedBrain` advances the neural-field wave model
(:class:`~harmonix.simulate.wave.WaveModel`, the default mesh's
Laplace-Beltrami harmonics) in blocks, in lockstep with a controller that
sets the stimulation's depth :math:`d` between blocks. Each mode is driven
by spatiotemporally white noise (the baseline activity) and by the
stimulus' envelope on the auditory cortex:

.. math::

    Q_k(t) = \sigma\,\xi_k(t) + g\,c_k\,m(t)\,(1 - h(t))\,\sin 2\pi r t,
    \qquad m = \frac{d/2}{1 - d/2},

with :math:`c_k` the auditory pattern's coefficient on mode :math:`k`,
:math:`r` the stimulus' rhythm, :math:`m` the modulation index of the
mean-normalised envelope of a stack amplitude-modulated with depth
:math:`d` (:func:`~harmonix.stimulus.primitives.harmonic_stack`), and
:math:`h` the gain of an energy sink that grows while the (perfectly
predictable) periodic drive lasts and relaxes when it stops,
:math:`\tau\,\dot h = s\,[d > 0] - h` (the predictive sink of
:mod:`harmonix.simulate.sinks` for a periodic drive, whose predictability
is 1): the brain habituates, so a fixed drive heats it less and less. The
drive gain :math:`g` is dimensionless (the noise has unit variance per
mode and sample); the default 30 lets full depth raise the measured energy
parameter about ninefold before habituation, threefold after it. The
field is projected to the default 63 EEG sensors through the leadfield,
scaled so that the baseline has a 10 µV RMS, with white sensor noise at
``snr_db``. Everything is drawn from one seeded generator, block by block,
so a run is reproducible from its seed whatever the controller does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mne
import numpy as np

from harmonix.errors import ParameterError

BASELINE_RMS_V = 10e-6


@dataclass(frozen=True)
class BrainSettings:
    """Parameters of the simulated brain (module docstring)."""

    sfreq: float = 250.0
    n_modes: int = 60
    rate: float = 10.0
    drive_gain: float = 30.0
    noise_std: float = 1.0
    sink_strength: float = 0.5
    sink_tau: float = 60.0
    snr_db: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.sfreq > 4 * self.rate:
            raise ParameterError(f"the simulation rate {self.sfreq:g} Hz is too low for a {self.rate:g} Hz rhythm")
        if not 0 <= self.sink_strength < 1:
            raise ParameterError(f"sink strength must be in [0, 1), got {self.sink_strength}")
        if not (self.sink_tau > 0 and self.drive_gain >= 0 and self.noise_std > 0):
            raise ParameterError("sink time constant and noise must be positive, the drive gain not negative")


class SimulatedBrain:
    """The wave model in blocks: :meth:`command` sets the depth, :meth:`advance` returns EEG (n_times, n_sensors)."""

    def __init__(self, settings: BrainSettings, harmonic_model=None) -> None:
        from harmonix.io.channels import set_standard_montage
        from harmonix.simulate.forward import harmonic_gain
        from harmonix.simulate.wave import AUDITORY_REGIONS, WaveModel, project_drive, region_pattern

        if harmonic_model is None:
            from harmonix.harmonics.model import default_harmonic_model

            harmonic_model = default_harmonic_model(kind="laplace-beltrami")
        basis, connectome = harmonic_model.basis, harmonic_model.connectome
        self.settings = settings
        self.model = WaveModel.from_basis(basis, mesh=connectome.mesh, n_modes=settings.n_modes)
        self.simulator = self.model.simulator(settings.sfreq)
        self.projection = project_drive(basis, region_pattern(connectome, list(AUDITORY_REGIONS)),
                                        n_modes=self.model.n_modes)
        self.gain = harmonic_gain(connectome, basis, n_modes=self.model.n_modes)
        self.rng = np.random.default_rng(settings.seed)
        self.depth, self.sink, self.n_done = 0.0, 0.0, 0
        info = mne.create_info(list(connectome.sensor_names), settings.sfreq, "eeg")
        holder = mne.io.RawArray(np.zeros((len(info["ch_names"]), 1)), info, verbose="error")
        set_standard_montage(holder)
        self.info = holder.info
        # The scale to volts from the stationary variance of the noise-driven field (no random draw).
        freqs = np.linspace(0.0, settings.sfreq / 2, 4097)
        power = np.trapezoid(self.model.gain(freqs) ** 2, freqs, axis=1) * 2 * settings.noise_std ** 2 / settings.sfreq
        rms = math.sqrt(float(np.mean((self.gain ** 2) @ power)))
        self.volts = BASELINE_RMS_V / rms
        self.sensor_noise = BASELINE_RMS_V * 10 ** (-settings.snr_db / 20)

    def command(self, depth: float) -> None:
        """The stimulation depth from the next block on, in [0, 1]."""
        if not 0.0 <= depth <= 1.0:
            raise ParameterError(f"depth must be in [0, 1], got {depth}")
        self.depth = float(depth)

    @property
    def time(self) -> float:
        return self.n_done / self.settings.sfreq

    def advance(self, n: int) -> np.ndarray:
        """The next ``n`` samples of EEG in V, shape (n, n_sensors)."""
        s = self.settings
        t = (self.n_done + np.arange(n)) / s.sfreq
        decay = np.exp(-np.arange(1, n + 1) / s.sfreq / s.sink_tau)
        goal = s.sink_strength if self.depth > 0 else 0.0
        sink = goal + (self.sink - goal) * decay
        self.sink = float(sink[-1])
        m = (self.depth / 2) / (1 - self.depth / 2)
        drive = s.noise_std * self.rng.standard_normal((self.model.n_modes, n))
        drive += (s.drive_gain * m * (1 - sink) * np.sin(2 * np.pi * s.rate * t))[None, :] * self.projection[:, None]
        field = self.simulator.step(drive)
        eeg = self.volts * (self.gain @ field) + self.sensor_noise * self.rng.standard_normal((self.gain.shape[0], n))
        self.n_done += n
        return eeg.T
