"""A live session whose brain is simulated: the annealing controller in closed loop, faster than real time.

:func:`run_closed_loop` runs exactly the loop ``harmonix live`` runs (the
same online estimators, controller, sink and session folder), with a
:class:`~harmonix.simulate.brain.SimulatedBrain` in place of the LSL stream:
each turn the brain advances by one hop with the depth the controller chose
at the previous one, so there is no waiting and a run takes as long as its
computing. Nothing depends on the wall clock (no latencies, no creation
time), so a run is reproducible from its seed: the tables, the audio, the
EEG and its annotations come out identical.

:func:`open_loop_schedule` gives the comparison the controller must win:
the same heat-hold-cool schedule of depths, fixed in advance from a
closed-loop run's timing (the depth ramps to the value it had when the hold
began, stays there for the hold, and cools so that the drive's energy decays
with the requested time constant), played without looking at the energy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harmonix.errors import ParameterError
from harmonix.live.lsl import Chunk
from harmonix.live.online import OnlineSettings
from harmonix.live.session import SessionWriter
from harmonix.live.sound import WavSink
from harmonix.stimulus import primitives as prim


class StackDrive:
    """The annealing stimulus: a harmonic stack (f0 110 Hz, 6 partials) amplitude-modulated at ``rate`` with
    the controller's current ``depth``, at ``level`` dBFS (peak of the unmodulated stack)."""

    def __init__(self, rate: float, sfreq: float, level: float = -12.0) -> None:
        self.voice = prim.Stack(sfreq, partials=6, n_rhythms=1)
        self.rate, self.sfreq, self.gain = float(rate), float(sfreq), 10 ** (level / 20)
        self.depth = 0.0
        self.n_done = 0

    def __call__(self, n: int, start_time: float | None = None) -> np.ndarray:
        t = (self.n_done + np.arange(n)) / self.sfreq
        self.n_done += n
        if self.depth <= 0:
            self.voice.generate(n, t, {"f0": 110.0, "rhythms": [self.rate], "depth": 0.0})  # keep the phases running
            return np.zeros(n)
        out = self.voice.generate(n, t, {"f0": 110.0, "rhythms": [self.rate], "depth": self.depth})[0]
        return out.astype(np.float64) * self.gain


class _Schedule:
    """Depths by time, for the open-loop comparison (see :func:`open_loop_schedule`)."""

    def __init__(self, times: np.ndarray, depths: np.ndarray) -> None:
        self.times, self.depths = np.asarray(times, float), np.asarray(depths, float)

    def __call__(self, t: float) -> float:
        return float(np.interp(t, self.times, self.depths, left=0.0, right=0.0))


@dataclass
class SimulatedStream:
    """What the live loop reads from: one hop of the simulated brain per pull, stamped on the session clock."""

    brain: object
    hop_samples: int
    schedule: object | None = None
    simulated: bool = True

    def __post_init__(self) -> None:
        from types import SimpleNamespace

        self.info = self.brain.info
        self.eeg = np.arange(len(self.info["ch_names"]))
        self.sinfo = SimpleNamespace(name="simulated-brain", stype="EEG", source_id="harmonix-simulation", uid="",
                                     sfreq=self.brain.settings.sfreq, n_channels=len(self.eeg), hostname="")

    @property
    def sfreq(self) -> float:
        return float(self.info["sfreq"])

    def command(self, depth: float) -> None:
        if self.schedule is None:
            self.brain.command(depth)

    def pull(self) -> list[Chunk]:
        if self.schedule is not None:
            self.brain.command(self.schedule(self.brain.time))
        start = self.brain.n_done
        data = self.brain.advance(self.hop_samples)
        stamps = (start + np.arange(self.hop_samples)) / self.sfreq
        return [Chunk(data, stamps, time.perf_counter())]

    def reconnect(self, timeout: float = 0.0) -> bool:
        return False

    def describe(self) -> dict:
        from dataclasses import asdict

        return {"name": "simulated-brain", "simulation": asdict(self.brain.settings),
                "channels": list(self.info["ch_names"])}

    def close(self) -> None:
        pass


def run_closed_loop(config, brain_settings, *, schedule=None):
    """Run the annealing controller (``config.annealing``) on a simulated brain; returns the session's summary.

    ``schedule``: play these depths open loop instead (the controller still
    measures and logs, but its commands are not applied).
    """
    from harmonix.harmonics.model import default_harmonic_model
    from harmonix.live.run import _Loop
    from harmonix.simulate.brain import SimulatedBrain

    if config.annealing is None:
        raise ParameterError("a closed-loop simulation needs the annealing controller's settings")
    from dataclasses import replace

    brain = SimulatedBrain(replace(brain_settings, rate=config.stimulus_rate))
    settings = OnlineSettings(sfreq=brain_settings.sfreq, ch_names=tuple(brain.info["ch_names"]),
                              **{"cdns_seconds": None, **config.online})
    stream = SimulatedStream(brain, max(1, settings.samples(settings.hop_seconds)), schedule)
    session = SessionWriter(config.out, brain.info, overwrite=config.overwrite)
    try:
        sink = WavSink(session.path("stimulus.wav"), config.audio_sfreq, override=config.override)
    except BaseException:
        session.discard()
        raise
    loop = _Loop(config, stream, settings, default_harmonic_model(), None, session, sink, None)
    loop.online.background = False  # CDNS, when asked for, in this process: the run must not depend on timing
    try:
        loop.run()
    finally:
        summary = loop.finish()
    return summary


def open_loop_schedule(state_rows: list[dict], cool_tau: float) -> _Schedule:
    """The closed loop's heat-hold-cool timing as a fixed depth schedule (module docstring)."""
    times = np.array([float(r["time"]) for r in state_rows])
    stages = [r["stage"] for r in state_rows]
    depths = np.array([float(r["depth"]) for r in state_rows])
    if "hold" not in stages or "cool" not in stages:
        raise ParameterError("the closed-loop run never held and cooled: there is no schedule to replay")
    heat = times[stages.index("heat")]
    hold = times[stages.index("hold")]
    cool = times[stages.index("cool")]
    level = depths[stages.index("hold")]
    index = (level / 2) / (1 - level / 2)
    grid = np.arange(heat, times[-1], 0.1)
    # the modulation index decays with 2 tau, so that the drive's energy (which goes with its square) decays with tau
    cooling = index * np.exp(-(grid - cool) / (2 * cool_tau))
    depth = np.where(grid < hold, level * (grid - heat) / max(hold - heat, 1e-9),
                     np.where(grid < cool, level, 2 * cooling / (1 + cooling)))
    return _Schedule(grid, depth)


def session_folder_contents(folder: str | Path) -> dict:
    """What two reproducible runs must share: every table byte for byte, the audio samples, the EEG and annotations.

    The files' own headers differ by design: a FIF file carries a unique id
    with its creation time, and libsndfile stamps a float WAV's PEAK chunk
    with the time of writing.
    """
    import mne
    import soundfile

    folder = Path(folder)
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", preload=True, verbose="error")
    out = {name: (folder / name).read_bytes() for name in ("events.tsv", "state.tsv", "params.json")}
    out["audio"] = soundfile.read(folder / "stimulus.wav", dtype="float32")[0].tobytes()
    out["eeg"] = raw.get_data().tobytes()
    out["annotations"] = (tuple(raw.annotations.onset), tuple(raw.annotations.duration),
                          tuple(raw.annotations.description))
    return out
