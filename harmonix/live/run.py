"""``harmonix live``: an LSL EEG stream in, online estimates, stimulation out, the session on disk.

The loop, once per arrival of samples:

1. pull every chunk that arrived (:class:`~harmonix.live.lsl.EEGInlet`);
   a jump in the timestamps is a gap: sounds scheduled in it are cancelled,
   the gap is filled with zeros and annotated, the window starts afresh (no
   decision on stale data);
2. append the samples to the session (:class:`~harmonix.live.session.SessionWriter`)
   and to the ring buffer;
3. when a hop's worth of new samples is in and the window is full: the
   phase at the newest sample, the controller's decision (timed from the
   chunk's arrival: the latency the benchmark reports), then every other
   online estimate (:class:`~harmonix.live.online.OnlineEstimators`) and a
   row of ``state.tsv``;
4. advance the sound sink to the newest sample: sounds that started are
   annotated, logged and published on the marker stream.

Ctrl-C (or SIGTERM, or ``q`` on a terminal) ends the loop: the audio fades
out and the session folder is closed complete.
"""

from __future__ import annotations

import math
import platform
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from harmonix import __version__
from harmonix.errors import ChannelError, ParameterError
from harmonix.live.lsl import EEGInlet, MarkerOutlet, split_gap
from harmonix.live.online import OnlineEstimators, OnlineSettings, check_harmonic_channels, default_phase_channels
from harmonix.live.phase_lock import PhaseLockController, PhaseLockSettings
from harmonix.live.session import SessionWriter
from harmonix.live.sound import DeviceSink, EventSound, ExposureLimit, WavSink, check_device
from harmonix.live.view import LiveView, locking_summary
from harmonix.progress import stage_line
from harmonix.spectral.bands import Band

POLL_SECONDS = 0.001
STALE_SECONDS = 0.5
"""No sample for this long: the stream is reported stalled and the sounds scheduled after its last sample are
cancelled (a sound card would otherwise play them into what becomes a gap)."""
FADE_SECONDS = 0.5
"""A protocol's audio fades out over this at the end of a session (Ctrl-C, q, --duration)."""
RECONNECT_SECONDS = 0.5
"""While stalled, look for a new outlet of the stream this often."""
LOCK_CHECK_SECONDS = 1.5
"""A sound's true phase is measured once this much EEG has followed its onset."""


@dataclass(frozen=True)
class LiveConfig:
    """Everything ``harmonix live`` was asked to do (see the command's help for each)."""

    out: Path
    name: str | None = None
    stype: str | None = None
    source_id: str | None = None
    timeout: float = 5.0
    duration: float | None = None
    online: dict = field(default_factory=dict)
    phase_band: Band | None = None
    phase_channels: tuple[str, ...] = ()
    phase_lock: PhaseLockSettings | None = None
    sound: EventSound | None = None
    protocol: str | None = None
    dry_run: bool = False
    device: int | str | None = None
    audio_sfreq: float = 44100.0
    harmonics: bool = True
    markers: bool = True
    max_duty: float = 0.25
    override: bool = False
    overwrite: bool = False
    seed: int = 0
    annealing: object | None = None  # AnnealingSettings: the heat-hold-cool controller
    stimulus_rate: float = 10.0  # Hz, the rhythm of the stack the annealing controller drives with
    stimulus_level: float = -12.0  # dBFS


@dataclass
class LiveSummary:
    """What a session did: where it is, how long, how many sounds, gaps, and the decision latencies."""

    out: Path
    seconds: float
    sounds: int
    cancelled: int
    gaps: int
    latencies_ms: np.ndarray
    locking: str


def _check_config(config: LiveConfig) -> None:
    if config.duration is not None and not config.duration > 0:
        raise ParameterError(f"--duration must be positive, got {config.duration}")
    if config.phase_lock is not None and (config.phase_band is None or config.sound is None):
        raise ParameterError("phase-locked stimulation needs a band (--phase-band) and a sound (--event)")
    if not 0 < config.max_duty <= 1:
        raise ParameterError(f"--max-duty must be in (0, 1], got {config.max_duty}")
    controllers = [c for c in (config.protocol, config.phase_lock, config.annealing) if c is not None]
    if len(controllers) > 1:
        raise ParameterError("choose one of a protocol (--protocol), phase-locked sounds (--target-phase) and the "
                             "annealing controller")


class _Ring:
    """The newest ``size`` samples of each EEG channel, and how many of them are fresh since the last gap."""

    def __init__(self, n_channels: int, size: int) -> None:
        self.data = np.zeros((n_channels, size))
        self.size, self.fresh = size, 0

    def push(self, block: np.ndarray) -> None:
        n = block.shape[1]
        if n >= self.size:
            self.data[:] = block[:, -self.size :]
        else:
            self.data[:, :-n] = self.data[:, n:]
            self.data[:, -n:] = block
        self.fresh += n

    def reset(self) -> None:
        self.fresh = 0

    @property
    def full(self) -> bool:
        return self.fresh >= self.size


def _open(config: LiveConfig):
    """Every check that can fail before a session folder exists: stream, channels, rate, device, protocol."""
    inlet = EEGInlet(name=config.name, stype=config.stype, source_id=config.source_id, timeout=config.timeout).open()
    try:
        ch_names = tuple(inlet.info["ch_names"][i] for i in inlet.eeg)
        phase_channels = config.phase_channels or default_phase_channels(ch_names)
        settings = OnlineSettings(sfreq=inlet.sfreq, ch_names=ch_names, phase_band=config.phase_band,
                                  phase_channels=phase_channels, **config.online)
        model, notes = None, []
        if config.harmonics:
            from harmonix.harmonics.model import default_harmonic_model

            model = default_harmonic_model()
            try:
                check_harmonic_channels(settings, model, source=f"stream {inlet.sinfo.name!r}")
            except ChannelError as err:
                if config.annealing is not None:
                    raise ChannelError(f"the annealing controller needs the energy parameter, which needs the "
                                       f"harmonic decomposition: {err}") from err
                notes.append(f"no harmonic estimates: {err}")
                model = None
        elif config.annealing is not None:
            raise ParameterError("the annealing controller needs the energy parameter: drop --no-harmonics")
        if not config.dry_run:
            check_device(config.device, config.audio_sfreq)
        protocol = None
        if config.protocol is not None:
            from harmonix.live.protocol_live import LiveProtocol

            protocol = LiveProtocol(config.protocol, sfreq=config.audio_sfreq, override=config.override)
    except BaseException:
        inlet.close()
        raise
    return inlet, settings, model, protocol, notes


def run_live(config: LiveConfig) -> LiveSummary:
    """Run one live session until ``duration`` s of EEG were received, Ctrl-C, or ``q``; return its summary.

    Raises
    ------
    HarmonixError
        One line, before any folder is created, for a stream that is not
        found, a stream without EEG channels, a rate too low for a band, a
        missing audio device, or a protocol outside the safety limits.
    """
    _check_config(config)
    inlet, settings, model, protocol, notes = _open(config)
    session = sink = markers = None
    try:
        session = SessionWriter(config.out, inlet.info, overwrite=config.overwrite)
        if config.dry_run:
            sink = WavSink(session.path("stimulus.wav"), config.audio_sfreq, override=config.override)
        else:
            sink = DeviceSink(config.device, config.audio_sfreq, override=config.override)
        if config.markers:
            markers = MarkerOutlet(f"{inlet.sinfo.name}-harmonix", f"harmonix-{inlet.sinfo.source_id or 'live'}")
        loop = _Loop(config, inlet, settings, model, protocol, session, sink, markers)
    except BaseException:
        inlet.close()
        if sink is not None:
            sink.close(0.0)
        if markers is not None:
            markers.close()
        if session is not None:
            session.discard()
        raise
    for note in notes:
        loop.log_state(0.0, "note", note)
    try:
        loop.run()
    finally:
        summary = loop.finish()
    return summary


class _Loop:
    """The session's state while it runs (see the module docstring for one turn)."""

    def __init__(self, config, inlet, settings, model, protocol, session, sink, markers) -> None:
        self.config, self.inlet, self.settings = config, inlet, settings
        self.session, self.sink, self.markers, self.protocol = session, sink, markers, protocol
        self.sfreq = settings.sfreq
        self.simulated = getattr(inlet, "simulated", False)
        self.online = OnlineEstimators(settings, model, source=f"stream {inlet.sinfo.name!r}", background=True)
        self.ring = _Ring(len(settings.ch_names), self.online.window_samples)
        self.hop_samples = max(1, settings.samples(settings.hop_seconds))
        self.controller = None
        if config.phase_lock is not None:
            lock = config.phase_lock
            if not config.dry_run:
                lock = PhaseLockSettings(**{**lock.__dict__, "output_latency": sink.latency})
            # amplitudes enter the history at the hop's pace, whatever the arrivals' pace
            self.controller = PhaseLockController(lock, settings.hop_seconds)
        self.chunk_sizes: deque = deque(maxlen=32)
        self.chunk_seconds = 0.0  # median time between arrivals
        if isinstance(sink, DeviceSink):
            sink.to_local = self.lsl_time
        self.annealing = self.stack = None
        if config.annealing is not None:
            from harmonix.live.annealing import AnnealingController
            from harmonix.live.closed_loop import StackDrive

            self.annealing = AnnealingController(config.annealing)
            self.stack = StackDrive(config.stimulus_rate, config.audio_sfreq, config.stimulus_level)
            sink.source = self.stack
        decision = ["phase", "amplitude", "frequency", "threshold"] if self.controller is not None else []
        decision += ["decision"] + ([] if self.simulated else ["latency_ms"])
        decision += ["sample_age_ms"] if self.controller is not None and not self.simulated else []
        decision += ["stage", "depth", "reference", "reason"] if self.annealing is not None else []
        self.columns = ["time", "sample", *decision, *self.online.value_names()]
        self.exposure = ExposureLimit(config.max_duty)
        self.sound = None if config.sound is None else config.sound.render(config.seed)
        if protocol is not None:
            sink.source = protocol
        self.view = LiveView(settings.bands)
        self.keyboard = None
        self.last_ts: float | None = None
        self.last_arrival = time.perf_counter()
        self.since_hop = 0
        self.stalled = False
        self.last_reconnect = -math.inf
        self.latencies: list[float] = []
        self.ages: list[float] = []  # LSL time of the decision minus the newest sample's timestamp
        self.sounds = self.cancelled = self.gaps = 0
        self.to_check: list[float] = []
        self.lock_errors: list[float] = []
        self.segment_open: tuple[float, str] | None = None
        self.state_name = "starting"
        self.started = datetime.now(timezone.utc)

    # ---- time
    def lsl_time(self, t: float) -> float:
        """LSL time of session time ``t``, anchored at the newest sample."""
        if self.last_ts is None:
            return math.nan
        return self.last_ts + (t - (self.session.n_times - 1) / self.sfreq)

    # ---- logging
    def log_state(self, t: float, kind: str, text: str, *, annotate_segment: bool = False) -> None:
        lsl = self.lsl_time(t)
        if annotate_segment:
            self._close_segment(t)
            self.segment_open = (t, text)
        self.session.event(t, 0.0, lsl, kind, text)
        if self.markers is not None and math.isfinite(lsl):
            self.markers.push(f"{kind}: {text}", lsl)

    def _close_segment(self, t: float) -> None:
        if self.segment_open is not None:
            start, label = self.segment_open
            self.session.annotations.append((start, t - start, f"segment/{label}"))
            self.segment_open = None

    # ---- the loop
    def run(self) -> None:
        from harmonix.live.protocol_live import Keyboard

        duration = self.config.duration
        what = (f"{len(self.settings.ch_names)} EEG channels at {self.sfreq:g} Hz from {self.inlet.sinfo.name!r}")
        stage_line(f"live: {what} -> {self.config.out}/" + (" (dry run: audio to stimulus.wav)"
                                                          if self.config.dry_run else ""))
        self.keyboard = Keyboard()
        try:
            while (duration is None or self.session.time < duration) and not self._annealed():
                for key in self.keyboard.pressed():
                    if key in "qQ":
                        return
                    if self.protocol is not None:
                        self.protocol.command(key)
                self._protocol_events()
                chunks = self.inlet.pull()
                if not chunks:
                    self._idle()
                    time.sleep(POLL_SECONDS)
                    continue
                self._receive(chunks, duration)
        except KeyboardInterrupt:
            return
        finally:
            self.keyboard.close()

    def _annealed(self) -> bool:
        return self.annealing is not None and self.annealing.finished and self.annealing.depth == 0

    def _idle(self) -> None:
        now = time.perf_counter()
        stale = max(STALE_SECONDS, 3 * self.chunk_seconds)
        if not self.stalled and self.last_ts is not None and now - self.last_arrival > stale:
            self.stalled = True
            self.log_state(self.session.time, "state", "stream stalled")
            self._cancel(self.session.time, "the stream stalled before it")
            self.view.update(self.session.time, {}, self.state_name, locking_summary(self.lock_errors), True)
        if self.stalled and now - self.last_reconnect > RECONNECT_SECONDS:
            self.last_reconnect = now
            if self.inlet.reconnect():
                self.log_state(self.session.time, "state", "reconnected to a new outlet of the stream")

    def _receive(self, chunks, duration) -> None:
        for chunk in chunks:
            data = chunk.data
            if duration is not None:
                room = int(round(duration * self.sfreq)) - self.session.n_times
                data = data[: max(0, room)]
                if data.shape[0] == 0:
                    break
            n_missing = split_gap(self.last_ts, chunk, self.sfreq)
            if n_missing:
                self._gap(n_missing, chunk)
            self.session.append(data)
            self.ring.push(data[:, self.inlet.eeg].T)
            self.since_hop += data.shape[0]
            self.chunk_sizes.append(data.shape[0])
            self.chunk_seconds = float(np.median(self.chunk_sizes)) / self.sfreq
            self.last_ts = float(chunk.timestamps[data.shape[0] - 1])
            self.last_arrival = chunk.arrived
        if self.stalled:
            self.stalled = False
            self.log_state(self.session.time, "state", "stream resumed")
        if self.ring.full:
            hop = self.since_hop >= self.hop_samples
            if hop:
                self.since_hop %= self.hop_samples  # keep the remainder: hops stay on the hop's grid
            self._decide_and_update(chunks[-1].arrived, hop)
        for p in self.sink.advance(self.session.time):
            self._started(p)
        self._protocol_events()

    def _protocol_events(self) -> None:
        if self.protocol is None:
            return
        for kind, text, at in self.protocol.drain():
            self.log_state(self.session.time if at is None else at, kind, text, annotate_segment=kind == "segment")

    def _cancel(self, time: float, why: str) -> None:
        """Drop the sounds not yet started whose onset is at or after ``time``; give back their exposure."""
        for p in self.sink.cancel_from(time):
            self.cancelled += 1
            self.exposure.refund(p.onset)
            self.session.event(p.onset, 0.0, self.lsl_time(p.onset), "cancelled", p.label, why)
        if self.controller is not None:
            self.controller.reset()

    def _gap(self, n_missing: int, chunk) -> None:
        start = self.session.time
        self._cancel(start, "the stream stopped first")
        unknown = n_missing < 0
        self.session.add_gap(max(n_missing, 0), self.lsl_time(start),
                             "the timestamps jumped (a sender on another clock?): length unknown" if unknown else None)
        # the gap's last (missing) sample, so that session and LSL times stay aligned through the gap
        self.last_ts = float(chunk.timestamps[0]) - 1.0 / self.sfreq
        self.gaps += 1
        self.ring.reset()
        self.since_hop = 0
        self.to_check.clear()  # what follows their onsets is the gap's zeros: their phase cannot be measured
        for p in self.sink.advance(self.session.time):
            self._started(p)
        if self.markers is not None:
            length = "unknown length" if unknown else f"{n_missing / self.sfreq:.3f} s"
            self.markers.push(f"gap: {length}", float(chunk.timestamps[0]))

    def _decide_and_update(self, arrived: float, hop: bool) -> None:
        """The controller's decision at every arrival; at a hop, every other estimate and a row of state.tsv."""
        from mne_lsl.lsl import local_clock

        window = self.ring.data
        newest = (self.session.n_times - 1) / self.sfreq
        row: dict = dict.fromkeys(self.columns)
        row.update(time=newest, sample=self.session.n_times - 1)
        if self.controller is not None:
            estimate = self.online.phase(window)
            delay = max(local_clock() - self.last_ts, time.perf_counter() - arrived)
            onset = self.controller.decide(newest, estimate, delay, self.chunk_seconds)
            decision = self.controller.last_reason if onset is None else self._schedule(onset)
            self.latencies.append(time.perf_counter() - arrived)
            self.ages.append(local_clock() - self.last_ts)
            if decision != "stimulate":
                self.state_name = decision
            if not hop and decision != "stimulate":
                return
            row.update(phase=float(estimate.phase[0]), amplitude=float(estimate.amplitude[0]),
                       frequency=float(estimate.frequency[0]), threshold=self.controller.threshold,
                       decision=decision, latency_ms=self.latencies[-1] * 1e3, sample_age_ms=self.ages[-1] * 1e3)
        elif not hop:
            return
        values = self.online.update(window, newest)
        if self.controller is None:
            self.latencies.append(time.perf_counter() - arrived)
            row.update(decision="none")
            if not self.simulated:
                row.update(latency_ms=self.latencies[-1] * 1e3)
        if self.annealing is not None and "energy" in values:
            self._anneal(newest, values["energy"], row)
        self._check_locking(window, newest)
        row.update(values)
        self.session.state(row)
        self.view.update(newest, values, self.state_name, locking_summary(self.lock_errors), self.stalled)

    def _anneal(self, newest: float, energy: float, row: dict) -> None:
        decision = self.annealing.decide(newest, energy)
        if decision.stage != self.state_name:
            self.state_name = decision.stage
            self.log_state(newest, "stage", decision.stage, annotate_segment=True)
            self.session.event(newest, 0.0, self.lsl_time(newest), "decision", decision.reason,
                               f"energy {energy!r}; depth {decision.depth!r}")
        self.stack.depth = decision.depth
        if self.simulated:
            self.inlet.command(decision.depth)
        row.update(decision="anneal", stage=decision.stage, depth=decision.depth, reference=decision.reference,
                   reason=decision.reason)

    def _schedule(self, onset: float) -> str:
        sound = self.config.sound
        if not self.exposure.allow(onset, sound.seconds):
            self.log_state(onset, "refused", f"stim/{sound.kind}: the exposure limit ({self.config.max_duty:.0%} "
                                             "of any 60 s) would be exceeded")
            return "exposure limit"
        self.sink.schedule(onset, self.sound, f"stim/{sound.kind}")
        return "stimulate"

    def _started(self, p) -> None:
        self.sounds += 1
        duration = p.samples.size / self.config.audio_sfreq
        lock = self.config.phase_lock
        detail = "" if lock is None else f"target phase {math.degrees(lock.target_phase):.0f} deg"
        self.session.event(p.onset, duration, self.lsl_time(p.onset), "stimulus", p.label, detail, annotate=True)
        if self.markers is not None:
            self.markers.push(p.label, self.lsl_time(p.onset))
        if self.controller is not None:
            self.to_check.append(p.onset)

    def _check_locking(self, window: np.ndarray, newest: float) -> None:
        """The true phase of sounds that have 1.5 s of EEG after them (zero-phase filter on the window)."""
        if not self.to_check:
            return
        from harmonix.spectral.filterbank import analytic_signal

        due = [t for t in self.to_check if newest - t >= LOCK_CHECK_SECONDS]
        if not due:
            return
        self.to_check = [t for t in self.to_check if t not in due]
        z = np.asarray(analytic_signal(self.online.phase_signal(window), self.sfreq,
                                       self.settings.phase_band)).reshape(-1)
        for t in due:
            index = z.size - 1 - int(round((newest - t) * self.sfreq))
            if index >= z.size // 4:
                self.lock_errors.append(float(np.angle(z[index])) - self.config.phase_lock.target_phase)

    def finish(self) -> LiveSummary:
        """Fade out, close the sink, the inlet and the marker stream, and close the session folder."""
        from harmonix.tables import uninterruptible

        try:
            self._close_segment(self.session.time)
            if isinstance(self.sink, WavSink):
                for p in self.sink.advance(self.session.time):
                    self._started(p)
                self.sink.close(FADE_SECONDS)
                self._protocol_events()
            else:
                self.sink.close(FADE_SECONDS)
        finally:
            self.online.close()
            self.inlet.close()
            if self.markers is not None:
                self.markers.close()
        latencies = np.asarray(self.latencies) * 1e3
        params = {
            "harmonix_version": __version__,
            "created": None if self.simulated else self.started.isoformat(timespec="seconds"),
            "command": _command(),
            "host": None if self.simulated else platform.node(),
            "stream": self.inlet.describe(),
            "online": self.settings.params(),
            "harmonics": None if self.online.decomposition is None else {
                **self.online.decomposition.params(), "regularised_on_window_ending_at": self.online.decomposition_time},
            "phase_lock": None if self.controller is None else self.controller.settings.__dict__,
            "sound": None if self.config.sound is None else self.config.sound.__dict__,
            "protocol": None if self.protocol is None else {"source": self.protocol.protocol.source,
                                                             "gain_db": self.protocol.gain_db},
            "output": "stimulus.wav (dry run)" if self.config.dry_run else f"audio device {self.config.device!r}",
            "max_duty": self.config.max_duty,
            "sounds": self.sounds, "cancelled": self.cancelled, "gaps": self.gaps,
            "clamped_samples": self.sink.clamped,
            "annealing": None if self.annealing is None else {
                **self.config.annealing.__dict__, "stimulus_rate_hz": self.config.stimulus_rate,
                "baseline_energy": self.annealing.baseline, "target_energy": self.annealing.target,
                "target_reached": not self.annealing.unreachable, "final_stage": self.annealing.stage},
            "phase_locking_online": locking_summary(self.lock_errors),
            "cdns_failures": self.online.cdns_errors,
            "versions": _versions(),
        }
        if not self.simulated:  # wall-clock figures: a simulated session is reproducible from its seed alone
            params["decision_latency_ms"] = {"p50": _pct(latencies, 50), "p99": _pct(latencies, 99),
                                             "n": int(latencies.size),
                                             "from": "the chunk's hand-over by the acquisition to the decision"}
            params["sample_age_at_decision_ms"] = {"p50": _pct(np.asarray(self.ages) * 1e3, 50),
                                                   "p99": _pct(np.asarray(self.ages) * 1e3, 99),
                                                   "from": "the newest sample's LSL timestamp to the decision"}
        with uninterruptible():  # a second Ctrl-C must not leave a half-written session folder
            out = self.session.close(params)
        stage_line(f"live: {self.session.time:.1f} s received, {self.sounds} sounds, {self.gaps} gaps -> {out}/")
        return LiveSummary(out, self.session.time, self.sounds, self.cancelled, self.gaps, latencies,
                           locking_summary(self.lock_errors))


def _pct(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def _command() -> str:
    from harmonix.study.provenance import command_line

    return command_line()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("mne", "mne-lsl", "numpy", "scipy", "sounddevice"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


__all__ = ["LiveConfig", "LiveSummary", "run_live"]
