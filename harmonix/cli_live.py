"""The real-time and closed-loop commands: ``live``, ``stream``, ``simulate --closed-loop``, ``stimulate --design``."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from harmonix.cli_types import HERTZ, NON_NEGATIVE, SECONDS, SEED, parse_bands
from harmonix.errors import ParameterError

LIVE_EPILOG = """\
examples:
  harmonix stream &                                   # synthetic EEG with alpha as an LSL stream
  harmonix live --name harmonix-stream --dry-run --out session1 --duration 60 \\
      --phase-band alpha --target-phase 0 --event burst
  harmonix analyze session1/eeg_raw.fif --conditions burst=stim --tmin -0.5 --tmax 1.0
"""


def add_live_parsers(add_parser) -> None:
    """Add ``live`` and ``stream`` to the subcommand table."""
    live = add_parser("live", help="read EEG from Lab Streaming Layer, estimate online, stimulate phase-locked or "
                                   "play a protocol live, record the session", epilog=LIVE_EPILOG)
    which = live.add_argument_group("the stream (by name, type or source id; at least one is advised)")
    which.add_argument("--name", help="LSL stream name")
    which.add_argument("--type", dest="stype", help="LSL stream type (e.g. EEG)")
    which.add_argument("--source-id", help="LSL source id")
    which.add_argument("--timeout", type=SECONDS, default=5.0, help="seconds to look for the stream")
    live.add_argument("--out", required=True, metavar="DIR", help="session folder to write (must not exist)")
    live.add_argument("--overwrite", action="store_true", help="replace an existing session folder")
    live.add_argument("--duration", type=SECONDS, help="stop after this many seconds of EEG (default: Ctrl-C)")
    online = live.add_argument_group("online estimators")
    online.add_argument("--bands", metavar="SPEC", help="bands of the band power and CDNS (as for analyze)")
    online.add_argument("--hop", type=SECONDS, default=0.1, help="seconds between updates")
    online.add_argument("--window", type=SECONDS, default=4.0, help="analysis window in s")
    online.add_argument("--no-harmonics", action="store_true", help="no harmonic coefficients or energy parameter")
    online.add_argument("--no-cdns", action="store_true", help="no CDNS signature (saves a fit a second)")
    stim = live.add_argument_group("phase-locked stimulation")
    stim.add_argument("--phase-band", metavar="BAND", help="band whose phase is tracked: a name (alpha) or LO-HI Hz")
    stim.add_argument("--phase-channels", metavar="CH,CH", help="channels averaged for the phase "
                                                                "(default: the posterior ones present)")
    stim.add_argument("--target-phase", type=float, metavar="DEG",
                      help="play a sound at this phase of the band (0 = peak, 180 = trough)")
    stim.add_argument("--event", choices=("burst", "click", "pip"), default="burst",
                      help="sound: 50-ms pink-noise burst, 1-ms click or tone pip")
    stim.add_argument("--event-duration", type=SECONDS, default=0.05, metavar="S", help="sound duration in s")
    stim.add_argument("--event-level", type=float, default=-20.0, metavar="DBFS", help="sound peak level in dBFS")
    stim.add_argument("--refractory", type=NON_NEGATIVE, default=1.5, metavar="S", help="least time between sounds")
    stim.add_argument("--amplitude-quantile", type=NON_NEGATIVE, default=0.5, metavar="Q",
                      help="stimulate only when the band's amplitude is above this quantile of the last 2 min")
    stim.add_argument("--latency", type=NON_NEGATIVE, default=0.02, metavar="S",
                      help="output latency assumed by --dry-run (a device reports its own)")
    stim.add_argument("--max-duty", type=float, default=0.25, metavar="F",
                      help="refuse sounds beyond this share of sound-on time in any 60 s")
    live.add_argument("--protocol", metavar="FILE", help="play this stimulation protocol live instead "
                                                         "(space pauses, -/+ volume, q stops)")
    live.add_argument("--anneal", action="store_true",
                      help="the annealing controller: heat with a stack until the energy parameter reaches its "
                           "target, hold it, cool at --cool-tau (options below)")
    add_annealing_options(live)
    out = live.add_argument_group("audio output")
    out.add_argument("--dry-run", action="store_true",
                     help="write the audio to OUT/stimulus.wav, sample-aligned to the EEG, instead of playing it")
    out.add_argument("--device", help="sounddevice output device (name or index; default: the system's)")
    out.add_argument("--audio-sfreq", type=HERTZ, default=44100.0, help="audio sample rate in Hz")
    out.add_argument("--no-markers", action="store_true", help="do not publish the LSL marker stream")
    live.add_argument("--override", action="store_true", help="allow sound levels above the safety ceiling")
    live.add_argument("--seed", type=SEED, default=0, help="seed of the noise burst")
    live.set_defaults(func=cmd_live)

    stream = add_parser("stream", help="play a recording as an LSL stream in real time (mne-lsl's player)")
    stream.add_argument("recording", nargs="?", metavar="FILE",
                        help="any recording harmonix reads (default: synthetic 64-channel EEG with alpha)")
    stream.add_argument("--name", default="harmonix-stream", help="LSL stream name (also its source id)")
    stream.add_argument("--chunk-size", type=int, default=10, metavar="N", help="samples per pushed chunk")
    stream.add_argument("--once", action="store_true", help="play the recording once instead of looping")
    stream.add_argument("--seconds", type=SECONDS, help="stop after this many seconds")
    stream.set_defaults(func=cmd_stream)


def add_annealing_options(command: argparse.ArgumentParser) -> None:
    """The annealing controller's stages and its stimulus (``live --anneal``, ``simulate --closed-loop anneal``)."""
    group = command.add_argument_group("annealing controller (heat, hold, cool on the measured energy parameter)")
    group.add_argument("--baseline", type=SECONDS, default=20.0, metavar="S", help="baseline measurement, no drive")
    group.add_argument("--heat-factor", type=float, default=2.0, metavar="F", help="energy target: F x baseline")
    group.add_argument("--hold-band", type=float, default=0.15, metavar="B", help="hold band: target x (1 +- B)")
    group.add_argument("--heat-limit", type=SECONDS, default=120.0, metavar="S", help="longest heating")
    group.add_argument("--hold", type=SECONDS, default=120.0, metavar="S", help="hold duration")
    group.add_argument("--cool-tau", type=SECONDS, default=40.0, metavar="S", help="cooling time constant")
    group.add_argument("--max-session", type=SECONDS, default=3600.0, metavar="S", help="longest session")
    group.add_argument("--stimulus-rate", type=HERTZ, metavar="HZ",
                       help="rhythm of the stack (default: designed for --design-target on the wave model)")
    group.add_argument("--design-target", default="1-10", metavar="SPEC",
                       help="harmonics the stack's rhythm is designed for when --stimulus-rate is not given")


def annealing_settings(args: argparse.Namespace):
    """The controller's settings and the stimulus rhythm (designed unless given)."""
    from harmonix.live.annealing import AnnealingSettings

    settings = AnnealingSettings(baseline_seconds=args.baseline, heat_factor=args.heat_factor, band=args.hold_band,
                                 heat_limit_seconds=args.heat_limit, hold_seconds=args.hold, cool_tau=args.cool_tau,
                                 max_session_seconds=args.max_session)
    rate = args.stimulus_rate
    if rate is None:
        from harmonix.simulate.design import design_rate, resonance_target

        rate = design_rate(resonance_target(args.design_target)).rates[0]
    return settings, float(rate)


def cmd_closed_loop(args: argparse.Namespace) -> int:
    """``harmonix simulate --closed-loop anneal``: the annealing controller on a simulated brain."""
    from harmonix.live.closed_loop import run_closed_loop
    from harmonix.live.run import LiveConfig
    from harmonix.simulate.brain import BrainSettings

    if args.closed_loop != "anneal":
        raise ParameterError(f"--closed-loop {args.closed_loop!r}: the only closed-loop controller is 'anneal'")
    annealing, rate = annealing_settings(args)
    bands, _ = parse_bands(None)
    config = LiveConfig(out=Path(args.out), annealing=annealing, stimulus_rate=rate, dry_run=True,
                        audio_sfreq=16000.0, markers=False, online={"bands": tuple(bands)}, seed=args.seed,
                        overwrite=getattr(args, "overwrite", False))
    summary = run_closed_loop(config, BrainSettings(seed=args.seed, rate=rate))
    import json

    params = json.loads((summary.out / "params.json").read_text())["annealing"]
    reached = "reached" if params["target_reached"] else "NOT reached (cooled from where it was)"
    print(f"{summary.out}: {summary.seconds:.1f} s simulated at {rate:.3g} Hz drive; energy target {reached}")
    if not params["target_reached"]:
        print(f"harmonix: warning: the energy target ({args.heat_factor:g} x baseline) was not reached within "
              f"{args.heat_limit:g} s at full depth; the controller cooled from there (see events.tsv)",
              file=sys.stderr)
    return 0


def cmd_design(args: argparse.Namespace) -> int:
    """``harmonix stimulate --design``: a protocol for chosen harmonics (wave model)."""
    from harmonix.simulate.design import write_design

    if args.target is None or args.out is None:
        raise ParameterError("--design needs --target (e.g. 1-10) and -o OUT.toml")
    sidecar = write_design(args.target, args.out, budget=args.design_budget, seed=args.seed)
    shares = sidecar["comparison_rendered_share"]
    best_preset = max((v, k) for k, v in shares.items() if k.startswith("preset"))
    print(f"{args.out}: rhythm {', '.join(f'{r:.3g}' for r in sidecar['rates_hz'])} Hz; targets' share of the wave "
          f"model's energy {shares['designed']:.4f} (random search {shares['random_search']:.4f}, best preset "
          f"{best_preset[1].removeprefix('preset ')} {best_preset[0]:.4f})")
    return 0


def _phase_band(spec: str | None):
    if spec is None:
        return None
    from harmonix.spectral.bands import Band

    low, sep, high = spec.partition("-")
    if sep:
        try:
            return Band("phase", float(low), float(high))
        except ValueError:
            raise ParameterError(f"--phase-band {spec!r}: give a band name (alpha) or LO-HI in Hz (8-13)") from None
    bands, _ = parse_bands(spec)
    if len(bands) != 1:
        raise ParameterError(f"--phase-band {spec!r}: give one band")
    return bands[0]


def live_config(args: argparse.Namespace):
    """The :class:`~harmonix.live.run.LiveConfig` the flags ask for (usage errors raised here)."""
    from harmonix.live.phase_lock import PhaseLockSettings
    from harmonix.live.run import LiveConfig
    from harmonix.live.sound import EventSound

    bands, _ = parse_bands(args.bands)
    band = _phase_band(args.phase_band)
    lock = sound = None
    if args.target_phase is not None:
        if band is None:
            raise ParameterError("--target-phase needs --phase-band (e.g. --phase-band alpha)")
        if not math.isfinite(args.target_phase):
            raise ParameterError("--target-phase must be a finite angle in degrees")
        lock = PhaseLockSettings(target_phase=math.radians(args.target_phase), refractory_seconds=args.refractory,
                                 amplitude_quantile=args.amplitude_quantile, output_latency=args.latency)
        sound = EventSound(args.event, args.event_duration, args.event_level, args.audio_sfreq, args.override)
    channels = tuple(c.strip() for c in args.phase_channels.split(",") if c.strip()) if args.phase_channels else ()
    online = {"bands": tuple(bands), "hop_seconds": args.hop, "window_seconds": args.window,
              "cdns_seconds": None if args.no_cdns else 1.0}
    annealing, rate = annealing_settings(args) if args.anneal else (None, 10.0)
    return LiveConfig(out=Path(args.out), name=args.name, stype=args.stype, source_id=args.source_id,
                      timeout=args.timeout, duration=args.duration, online=online, phase_band=band,
                      phase_channels=channels, phase_lock=lock, sound=sound, protocol=args.protocol,
                      dry_run=args.dry_run, device=_device(args.device), audio_sfreq=args.audio_sfreq,
                      harmonics=not args.no_harmonics, markers=not args.no_markers, max_duty=args.max_duty,
                      override=args.override, overwrite=args.overwrite, seed=args.seed, annealing=annealing,
                      stimulus_rate=rate)


def _device(spec: str | None):
    """sounddevice takes an index as an int and matches a string against device names."""
    return int(spec) if spec is not None and spec.strip().isdigit() else spec


def cmd_live(args: argparse.Namespace) -> int:
    import numpy as np

    from harmonix.live.run import run_live

    summary = run_live(live_config(args))
    latencies = summary.latencies_ms
    figures = f", decision latency p50 {float(np.median(latencies)):.1f} ms" if latencies.size else ""
    print(f"{summary.out}: {summary.seconds:.1f} s of EEG, {summary.sounds} sounds, {summary.gaps} gaps{figures}")
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    from harmonix.live.player import stream_file

    stream_file(args.recording, name=args.name, chunk_size=args.chunk_size, loop=not args.once, seconds=args.seconds)
    return 0
