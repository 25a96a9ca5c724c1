"""The ``harmonix`` command. Subcommands only compose library calls.

Every user error (a :class:`~harmonix.errors.HarmonixError`) becomes one line
on stderr and exit status 2; results are written atomically, so a failed run
leaves no partial output.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from harmonix import __version__
from harmonix.errors import HarmonixError, ParameterError
from harmonix.harmonics.basis import BASIS_KINDS
from harmonix.progress import progress, set_quiet
from harmonix.spectral.bands import Band, load_bands

EXIT_USER_ERROR = 2


def _parse_bands(spec: str | None) -> tuple[tuple[Band, ...], bool]:
    """Bands from ``--bands``: a CSV path, or ``name[,name]`` / ``name=lo-hi`` items.

    Returns the bands and whether the user chose them (then every band must be
    measurable in each recording, otherwise it is an error).
    """
    if spec is None:
        return load_bands(), False
    if Path(spec).is_file():
        return load_bands(spec), True
    defaults = {b.name: b for b in load_bands()}
    chosen = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, limits = item.partition("=")
        if limits:
            try:
                low, high = (float(v) for v in limits.split("-"))
            except ValueError:
                raise ParameterError(f"--bands item {item!r}: write a custom band as name=fmin-fmax, e.g. sigma=12-15") from None
            chosen.append(Band(name, low, high))
        elif name in defaults:
            chosen.append(defaults[name])
        else:
            raise ParameterError(
                f"--bands: unknown band {name!r}; choose from {', '.join(defaults)}, write name=fmin-fmax, or give a CSV file"
            )
    return load_bands(chosen), True


def _cmd_analyze(args: argparse.Namespace) -> int:
    from harmonix.tables import unique_session_names
    from harmonix.workflows import run_eeg_file

    bands, strict = _parse_bands(args.bands)
    model = None
    if args.harmonics != "off":
        from harmonix.harmonics.model import default_harmonic_model

        model = default_harmonic_model(kind=args.basis)
    jobs = list(zip(args.files, unique_session_names(args.files)))
    for path, session in progress(jobs, desc="analyze"):
        folder, analysis = run_eeg_file(
            path, args.out, session=session, bands=bands, strict_bands=strict,
            psd_method=args.psd, sfreq=args.sfreq, mark_flat=args.mark_flat,
            harmonic_model=model, harmonics_required=args.harmonics == "on", n_harmonics=args.n_harmonics,
            report=args.report,
        )
        notes = []
        skipped = analysis.params["skipped_bands"]
        if skipped:
            notes.append(f"skipped bands the recording cannot resolve: {', '.join(skipped)}")
        harmonics = analysis.params["harmonics"]
        if harmonics["computed"]:
            notes.append(f"harmonics: {harmonics['channel_matching']}")
        elif model is not None:
            notes.append(f"harmonics skipped: {harmonics['reason']}")
        if args.report:
            notes.append(f"report {folder / 'report.html'}")
        print(f"{path} -> {folder / 'metrics.csv'} ({len(analysis.metrics)} rows{''.join('; ' + n for n in notes)})")
    return 0


def _cmd_harmonics(args: argparse.Namespace) -> int:
    from harmonix.workflows import run_harmonics

    connectome = None if args.connectome == "default" else args.connectome
    folder, model = run_harmonics(args.out, connectome=connectome, n_modes=args.n, kind=args.basis)
    basis = model.basis
    print(f"{basis.n_modes} {basis.kind} harmonics of {model.connectome.name} ({basis.n_vertices} vertices; "
          f"cache {basis.params.get('cache')}) -> {folder}/harmonics.png, eigenvalues.csv")
    return 0


def _cmd_music(args: argparse.Namespace) -> int:
    from harmonix.tables import unique_session_names
    from harmonix.workflows import run_music_file

    bands, _ = _parse_bands(args.bands)
    model = None
    if not args.no_resonance:
        from harmonix.harmonics.model import default_harmonic_model

        model = default_harmonic_model(kind="laplace-beltrami")
    jobs = list(zip(args.files, unique_session_names(args.files)))
    for path, session in progress(jobs, desc="music"):
        folder, analysis = run_music_file(path, args.out, session=session, bands=bands, seconds=args.seconds,
                                          resonance_model=model)
        tempo = analysis.metrics.query("metric == 'tempo'")["value"].iloc[0]
        note = ""
        if model is not None:
            peak = analysis.metrics.query("metric == 'resonance_drive_frequency'").iloc[0]
            note = f"; most energised harmonic {peak['component']}, driven mostly at {peak['value']:.1f} Hz"
        print(f"{path} -> {folder / 'metrics.csv'} (tempo {tempo:.1f} bpm{note})")
    return 0


def _cmd_stimulate(args: argparse.Namespace) -> int:
    from harmonix import stimulus

    if args.list_presets:
        print(stimulus.format_presets())
        return 0
    if args.check:
        result = stimulus.check_rendered(args.check)
        print(result.report())
        return 0 if result.ok else 1
    if (args.protocol is None) == (args.preset is None):
        raise ParameterError("give exactly one of PROTOCOL.toml or --preset NAME (see --list-presets)")
    protocol = args.protocol if args.protocol is not None else args.preset
    options = {"seconds": args.seconds, "music": args.music, "sfreq": args.sfreq, "override": args.override}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", stimulus.StimulusWarning)
        if args.play:
            stimulus.play_protocol(protocol, **options)
            result = None
        else:
            if args.out is None:
                raise ParameterError("give the output file with -o OUT.wav|OUT.flac, or --play")
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            result = stimulus.render_protocol(protocol, args.out, progress=not args.quiet, **options)
    for warning in caught:
        if issubclass(warning.category, stimulus.StimulusWarning):
            print(f"harmonix: warning: {_one_line(warning.message)}", file=sys.stderr)
    if result is not None:
        print(result.summary())
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from harmonix.workflows import run_simulation

    if args.protocol and args.preset:
        raise ParameterError("give at most one of --protocol FILE and --preset NAME")
    couple = None
    if args.couple:
        couple = tuple(part.strip() for part in args.couple.split(","))
    folder, simulated = run_simulation(
        args.out, model=args.model, seconds=args.seconds, seed=args.seed, schedule=args.schedule,
        temperature=args.temperature, coupling=args.coupling, protocol=args.protocol or args.preset,
        couple=couple, couple_weight=args.couple_weight, sink=args.sink,
    )
    raw = simulated.raw
    print(f"{args.model}: {raw.times[-1]:.1f} s, {len(raw.ch_names)} EEG channels at {raw.info['sfreq']:g} Hz -> "
          f"{folder / 'raw.fif'} (analyse it with: harmonix analyze {folder / 'raw.fif'} --out DIR)")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from harmonix.compare.sessions import read_session_csv, sessions_from_files
    from harmonix.workflows import run_comparison

    notes = []
    if args.post:
        sessions, notes = sessions_from_files(args.inputs, args.post, pattern=args.pattern)
    elif len(args.inputs) == 1 and args.inputs[0].lower().endswith(".csv"):
        sessions = read_session_csv(args.inputs[0])
    else:
        raise ParameterError("give PRE... --post POST..., or one SESSIONS.csv (columns path, subject, session[, condition])")
    labels = None
    if args.labels:
        labels = tuple(part.strip() for part in args.labels.split(","))
        if len(labels) != 2 or not all(labels):
            raise ParameterError(f"--labels {args.labels!r}: give two session labels, e.g. pre,post")
    model = None
    if args.harmonics != "off":
        from harmonix.harmonics.model import default_harmonic_model

        model = default_harmonic_model()
    folder, comparison = run_comparison(
        sessions, args.out, labels=labels, design=args.design, level=args.level, harmonic_model=model,
        n_permutations=args.permutations, seed=args.seed, report=not args.no_report, notes=notes,
    )
    significant = int((comparison["q"] < 0.05).sum())
    within = bool(len(comparison)) and (comparison["design"] == "windows").all()
    kind = "over windows within subject" if within else f"{args.design}, across subjects"
    print(f"{len(comparison)} comparisons ({kind}); {significant} with q < 0.05 -> {folder / 'comparison.csv'}")
    for line in comparison.attrs.get("issues", []):
        print(f"  note: {line}")
    if not args.no_report:
        print(f"  report: {folder / 'report.html'}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from harmonix.demo import run_demo

    run_demo(Path(args.out), seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="harmonix",
        description="EEG and music analysis for the Neural Annealing framework (research proxies, not diagnoses).",
    )
    parser.add_argument("--version", action="version", version=f"harmonix {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="show library warnings and MNE messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bands_help = "bands: a CSV file (name,fmin,fmax), or names/custom items, e.g. 'alpha,beta' or 'sigma=12-15'"
    analyze = sub.add_parser("analyze", help="analyse EEG recordings (any MNE format, headset CSV, BIDS)")
    analyze.add_argument("files", nargs="+", metavar="FILE", help="recordings to analyse")
    analyze.add_argument("--out", required=True, metavar="DIR", help="output folder (one subfolder per recording)")
    analyze.add_argument("--bands", metavar="SPEC", help=bands_help)
    analyze.add_argument("--psd", choices=("welch", "multitaper"), default="welch", help="PSD estimator")
    analyze.add_argument("--sfreq", type=float, help="sampling rate in Hz for CSV files without usable timestamps")
    analyze.add_argument("--mark-flat", action="store_true", help="mark flat channels bad and go on instead of stopping")
    analyze.add_argument(
        "--harmonics", choices=("auto", "on", "off"), default="auto",
        help="decompose onto the default connectome's harmonics: auto (when >= 8 channels match its leadfield), "
        "on (required), off",
    )
    analyze.add_argument("--n-harmonics", type=int, default=30, metavar="N", help="harmonics estimated from sensors")
    analyze.add_argument("--basis", choices=BASIS_KINDS, default="graph-normalized", help="harmonic basis")
    analyze.add_argument("--report", action="store_true",
                         help="also write report.html (figures embedded, opens offline) beside the tables")
    analyze.set_defaults(func=_cmd_analyze)

    harmonics = sub.add_parser("harmonics", help="compute (or load from cache) connectome harmonics and plot them")
    harmonics.add_argument("--n", type=int, default=200, help="number of harmonics (default 200)")
    harmonics.add_argument("--connectome", default="default", metavar="default|DIR",
                           help="'default' (tvb-data model) or a folder with surface.*, region_map.*, weights.*")
    harmonics.add_argument("--basis", choices=BASIS_KINDS, default="graph-normalized", help="harmonic basis")
    harmonics.add_argument("--out", required=True, metavar="DIR", help="output folder")
    harmonics.set_defaults(func=_cmd_harmonics)

    music = sub.add_parser("music", help="analyse music: tempo, partials, envelope modulation spectrum")
    music.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, OGG, MP3)")
    music.add_argument("--out", required=True, metavar="DIR", help="output folder (one subfolder per file)")
    music.add_argument("--bands", metavar="SPEC", help=bands_help)
    music.add_argument("--seconds", type=float, help="analyse only the first N seconds")
    music.add_argument("--no-resonance", action="store_true",
                       help="skip the connectome resonance profile (wave model driven through the auditory cortex)")
    music.set_defaults(func=_cmd_music)

    stimulate = sub.add_parser("stimulate", help="render, play or check rhythmic stimulation audio (safety limits built in)")
    stimulate.add_argument("protocol", nargs="?", metavar="PROTOCOL.toml", help="protocol file")
    stimulate.add_argument("-o", "--out", metavar="OUT", help="output audio file (.wav or .flac); a .json sidecar is written beside it")
    stimulate.add_argument("--preset", metavar="NAME", help="a built-in protocol instead of a file (see --list-presets)")
    stimulate.add_argument("--list-presets", action="store_true", help="list built-in protocols and exit")
    stimulate.add_argument("--music", metavar="FILE", help="music file for protocols that modulate music")
    stimulate.add_argument("--seconds", type=float, help="compress the whole schedule into N seconds (a preview)")
    stimulate.add_argument("--sfreq", type=float, default=44100.0, help="sample rate in Hz (default 44100)")
    stimulate.add_argument("--override", action="store_true", help="allow settings outside the safety limits")
    stimulate.add_argument("--play", action="store_true", help="play through the sound card instead of writing a file")
    stimulate.add_argument("--check", metavar="FILE", help="measure a rendered file against its protocol and exit")
    stimulate.set_defaults(func=_cmd_stimulate)

    simulate = sub.add_parser("simulate", help="simulate EEG from the connectome (oscillator networks or the wave model)")
    simulate.add_argument("--model", choices=("stuart-landau", "kuramoto", "wave"), default="stuart-landau")
    simulate.add_argument("--seconds", type=float, default=30.0, help="simulated duration (default 30 s)")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--schedule", choices=("constant", "anneal"), default="constant",
                          help="noise temperature: constant, or heat-hold-cool (an annealing cycle)")
    simulate.add_argument("--temperature", type=float, default=0.05, help="baseline noise temperature")
    simulate.add_argument("--coupling", type=float, default=0.5, help="global coupling of the network models")
    simulate.add_argument("--protocol", metavar="FILE", help="stimulation protocol whose envelope drives the auditory regions")
    simulate.add_argument("--preset", metavar="NAME", help="built-in stimulation protocol as drive")
    simulate.add_argument("--couple", metavar="REGION,REGION",
                          help="switch on a direct connection between two regions, e.g. lPFCDL,rPFCDL (network models)")
    simulate.add_argument("--couple-weight", type=float, default=4.0, metavar="W",
                          help="weight of that connection, in units of the strongest structural connection (default 4)")
    simulate.add_argument("--sink", type=float, default=0.0, metavar="S",
                          help="energy sink growing with predictable input: feedback cancels up to this share "
                               "(0-1) of the protocol's drive once it is predictable (default 0: off)")
    simulate.add_argument("--out", required=True, metavar="DIR", help="output folder")
    simulate.set_defaults(func=_cmd_simulate)

    compare = sub.add_parser("compare", help="compare pre/post sessions: paired or group statistics, FDR, report")
    compare.add_argument("inputs", nargs="+", metavar="PRE",
                         help="pre recordings or analyze output folders (with --post), or one SESSIONS.csv")
    compare.add_argument("--post", nargs="+", metavar="POST", help="post recordings or analyze output folders")
    compare.add_argument("--out", required=True, metavar="DIR", help="output folder")
    compare.add_argument("--pattern", metavar="REGEX",
                         help="regular expression with named groups subject/session/condition matched in file names "
                              "(default: BIDS sub-/ses-/task- entities, else pair the i-th pre with the i-th post)")
    compare.add_argument("--labels", metavar="PRE,POST", help="the two session labels to compare (default pre,post)")
    compare.add_argument("--design", choices=("paired", "unpaired"), default="paired",
                         help="paired by subject, or two independent groups")
    compare.add_argument("--level", choices=("summary", "channel"), default="summary",
                         help="channel metrics averaged over channels (default), or one test per channel")
    compare.add_argument("--harmonics", choices=("auto", "off"), default="auto",
                         help="decompose recordings onto the default connectome's harmonics when analysing them")
    compare.add_argument("--permutations", type=int, default=10000, help="permutations per test (default 10000)")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--no-report", action="store_true", help="skip the HTML report")
    compare.set_defaults(func=_cmd_compare)

    demo = sub.add_parser("demo", help="run the embedded example end to end (no user data needed)")
    demo.add_argument("--out", default="harmonix-demo", metavar="DIR", help="output folder (default: ./harmonix-demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic recordings")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harmonix`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    set_quiet(args.quiet)
    if not args.verbose:
        import mne

        mne.set_log_level("ERROR")
        logging.getLogger("specparam").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")
    try:
        return args.func(args)
    except HarmonixError as error:
        print(f"harmonix: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:
        # File-system failures the library did not anticipate still deserve one line, not a traceback.
        print(f"harmonix: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("harmonix: interrupted; no partial output was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
