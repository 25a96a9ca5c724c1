"""The ``harmonix`` command. Subcommands only compose library calls.

Every user error (a :class:`~harmonix.errors.HarmonixError`) becomes one line
on stderr; results are written atomically, so a failed or interrupted run
leaves no partial output. Exit statuses: 0 all done; 1 some recordings failed
(the others were written, failures listed in ``failures.tsv``); 2 a usage
error, or every recording failed (nothing written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import signal
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harmonix import __version__
from harmonix.cli_types import (
    COUNT,
    HERTZ,
    NON_NEGATIVE,
    SECONDS,
    SEED,
    HelpFormatter,
    Parser,
    parse_bands,
    parse_channel_types,
)
from harmonix.cli_live import add_annealing_options, add_live_parsers
from harmonix.errors import HarmonixError, ParameterError
from harmonix.harmonics.basis import BASIS_KINDS
from harmonix.progress import progress, set_quiet, set_verbose, write_line

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

EXIT_STATUS_HELP = """exit status:
  0    every recording analysed (or already up to date)
  1    some recordings failed: the others were written; failures.tsv lists path, error kind, message
  2    usage error, or every recording failed: nothing was written
  130  interrupted (Ctrl-C, kill): finished outputs are kept, nothing partial; run the same command to go on
"""


def _entity_filters(args: argparse.Namespace) -> dict[str, list[str]]:
    """``--subject 01,02 --run 1`` -> ``{'subject': ['01', '02'], 'run': ['1']}`` (repeatable, comma lists)."""
    from harmonix.study.inputs import ENTITIES

    filters = {}
    for entity in ENTITIES:
        values = [v.strip() for item in (getattr(args, entity, None) or []) for v in item.split(",") if v.strip()]
        if values:
            filters[entity] = values
    return filters


def _analysis_parameters(args: argparse.Namespace) -> dict:
    """Everything the user chose that changes an analysis (its provenance ``parameters``)."""
    from harmonix.tables import file_sha256

    bands = args.bands
    if bands is not None and Path(bands).is_file():
        bands = {"file": Path(bands).name, "sha256": file_sha256(bands)}
    harmonics = args.harmonics != "off"
    parameters = {"bands": bands, "psd": args.psd, "sfreq": args.sfreq, "mark_flat": args.mark_flat,
                  **({"repair_csv": True} if args.repair_csv else {}),  # absent when off: earlier outputs still match
                  "harmonics": args.harmonics, "n_harmonics": args.n_harmonics if harmonics else None,
                  "basis": args.basis if harmonics else None, "report": args.report, "notch": args.notch,
                  **({"channel_types": parse_channel_types(args.channel_types)} if args.channel_types else {}),
                  **({"force_proxies": True} if args.force_proxies else {}),
                  **({"seed": args.seed} if args.seed else {})}
    spec = _condition_spec(args)
    if spec is not None:
        described = spec.describe()
        for key in ("events_file", "protocol"):  # files: what matters is their content
            if key in described:
                described[key] = {"file": Path(described[key]).name, "sha256": file_sha256(described[key])}
        parameters["conditions"] = described
        parameters["steady_state"] = args.steady_state
    return parameters


def _condition_spec(args: argparse.Namespace):
    """The conditions the flags ask for (``None`` without --conditions/--protocol); usage errors found here."""
    from harmonix.io.condition_builder import ConditionSpec
    from harmonix.io.condition_specs import parse_frequencies

    if args.conditions is None and args.protocol is None:
        for flag in ("tmin", "tmax", "block_end", "events", "protocol_onset", "steady_state"):
            if getattr(args, flag) is not None:
                raise ParameterError(f"--{flag.replace('_', '-')} needs --conditions (or --protocol)")
        return None
    for flag in ("events", "protocol"):
        value = getattr(args, flag)
        if value is not None and not Path(value).is_file():
            raise ParameterError(f"--{flag} {value}: no such file")
    if args.steady_state not in (None, "protocol"):
        parse_frequencies(args.steady_state)
    elif args.steady_state == "protocol" and args.protocol is None:
        raise ParameterError("--steady-state protocol needs --protocol SIDECAR.json")
    return ConditionSpec(args.conditions, tmin=args.tmin, tmax=args.tmax, block_end=args.block_end,
                         events_file=args.events, protocol=args.protocol, onset_marker=args.protocol_onset)


def _steady_state(args: argparse.Namespace):
    from harmonix.io.condition_specs import parse_frequencies

    if args.steady_state in (None, "protocol"):
        return args.steady_state
    return parse_frequencies(args.steady_state)


def _analysis_line(path, metrics_file: Path, analysis, *, harmonics_wanted: bool, report_file: Path | None) -> str:
    notes = []
    skipped = analysis.params["skipped_bands"]
    if skipped:
        notes.append(f"skipped bands the recording cannot resolve: {', '.join(skipped)}")
    harmonics = analysis.params["harmonics"]
    if harmonics["computed"]:
        notes.append(f"harmonics: {harmonics['channel_matching']}")
        proxies = harmonics.get("proxies") or {}
        if proxies.get("computed") is False:
            notes.append(f"research proxies skipped: {proxies.get('reason')}")
    elif harmonics_wanted:
        notes.append(f"harmonics skipped: {harmonics['reason']}")
    if report_file is not None:
        notes.append(f"report {report_file}")
    return f"{path} -> {metrics_file} ({len(analysis.metrics)} rows{''.join('; ' + n for n in notes)})"


def _finish_batch(result, root: Path) -> int:
    """Keep failures.tsv in step, print the summary line, return the exit status."""
    from harmonix.study.batch import record_failures

    failures = record_failures(root, result)
    if len(result.outcomes) > 1 or result.failed:
        write_line(result.summary() + (f"; failures listed in {failures}" if failures else ""))
    return result.exit_status


def _remote(args: argparse.Namespace) -> bool:
    """True when the recordings go to a remote Dask cluster, whose workers do not share this working directory."""
    from harmonix.study.cluster import SCHEDULER_ENV

    return bool(getattr(args, "scheduler", None) or os.environ.get(SCHEDULER_ENV))


def _absolute(path: str) -> str:
    return str(Path(path).absolute())


def _cmd_analyze(args: argparse.Namespace) -> int:
    from harmonix.study.batch import run_batch
    from harmonix.study.cluster import compute_cluster
    from harmonix.study.inputs import resolve_inputs
    from harmonix.study.layouts import BidsLayout, choose_layout

    if args.bands is not None:
        parse_bands(args.bands)  # a bad --bands is a usage error, found before any work
    if _remote(args):
        args.inputs, args.out = [_absolute(p) for p in args.inputs], _absolute(args.out)
    conditions, steady_state = _condition_spec(args), _steady_state(args)
    recordings = resolve_inputs(args.inputs, filters=_entity_filters(args))
    layout = choose_layout(recordings, args.out, args.layout, command=args.command_line)
    cache: dict = {}

    def analyse(recording, record, target):
        # Bands, the harmonic model and the analysis stack are loaded only once a recording needs analysing
        # (once per process: on a cluster, once per worker).
        from harmonix.progress import report_stage
        from harmonix.study.cluster import recording_seed
        from harmonix.workflows import run_eeg_file

        if "bands" not in cache:
            cache["bands"] = parse_bands(args.bands)
        if "model" not in cache:
            model = None
            if args.harmonics != "off":
                from harmonix.harmonics.model import default_harmonic_model

                report_stage("harmonic model")
                model = default_harmonic_model(kind=args.basis)
            cache["model"] = model  # kept only once built: a failure is retried (and reported) per recording
        bands, strict = cache["bands"]
        location, analysis = run_eeg_file(
            recording.path, target.root, session=recording.name, bands=bands, strict_bands=strict,
            psd_method=args.psd, sfreq=args.sfreq, mark_flat=args.mark_flat, repair=args.repair_csv,
            harmonic_model=cache["model"], harmonics_required=args.harmonics == "on", n_harmonics=args.n_harmonics,
            report=args.report, provenance=record, writer=lambda outputs: target.write(recording, outputs),
            conditions=conditions, steady_state=steady_state, notch=args.notch,
            channel_types=parse_channel_types(args.channel_types), force_proxies=args.force_proxies,
            seed=recording_seed(record, args.seed),
        )
        report_file = None
        if args.report:
            if isinstance(target, BidsLayout):
                from harmonix.study.derivatives import report_path

                report_file = report_path(location)
            else:
                report_file = location / "report.html"
        line = _analysis_line(recording.path, target.metrics_file(recording), analysis,
                              harmonics_wanted=cache["model"] is not None, report_file=report_file)
        return location, line, None

    with compute_cluster(args.jobs, args.scheduler) as client:
        result = run_batch(recordings, layout, analyse, parameters=_analysis_parameters(args),
                           overwrite=args.overwrite, fail_fast=args.fail_fast, desc="analyze", verbose=args.verbose,
                           client=client)
    return _finish_batch(result, layout.root)


def _cmd_harmonics(args: argparse.Namespace) -> int:
    from harmonix.workflows import run_harmonics

    connectome = None if args.connectome == "default" else args.connectome
    if connectome is not None:
        from harmonix.tables import check_not_input

        check_not_input(args.out, [connectome], what="--out")
    folder, model = run_harmonics(args.out, connectome=connectome, n_modes=args.n, kind=args.basis)
    basis = model.basis
    extra = basis.n_modes - args.n
    kept = (f" ({args.n} asked; {extra} more kept so that no degenerate eigenspace is cut in two)"
            if extra > 0 else "")
    print(f"{basis.n_modes} {basis.kind} harmonics{kept} of {model.connectome.name} ({basis.n_vertices} vertices; "
          f"cache {basis.params.get('cache')}) -> {folder}/harmonics.png, eigenvalues.csv")
    return 0


def _cmd_music(args: argparse.Namespace) -> int:
    import math

    from harmonix.study.batch import Interrupted, places
    from harmonix.study.layouts import write_index
    from harmonix.workflows import music_outputs, run_music_file

    bands, _ = parse_bands(args.bands)
    jobs = music_outputs(args.files, args.out)
    model = None
    if not args.no_resonance:
        from harmonix.harmonics.model import default_harmonic_model

        model = default_harmonic_model(kind="laplace-beltrami")
    kept: dict[str, Path] = {}
    try:
        for path, session in progress(jobs, desc="music"):
            folder, analysis = run_music_file(path, args.out, session=session, bands=bands, seconds=args.seconds,
                                              resonance_model=model, report=args.report)
            kept[session] = path
            metrics = analysis.metrics
            tempo = metrics.query("metric == 'tempo'")["value"].iloc[0]
            f0 = metrics.query("metric == 'f0_median'")["value"].iloc[0]
            tempo_text = f"tempo {tempo:.1f} bpm" if math.isfinite(tempo) else "no tempo (no pulse)"
            f0_text = f"f0 {f0:.1f} Hz" if math.isfinite(f0) else "no f0 (unvoiced)"
            key = metrics.query("metric == 'key_correlation'")
            key_text = f", key {key['component'].iloc[0]}" if len(key) else ""
            note = ""
            if model is not None:
                peak = metrics.query("metric == 'resonance_drive_frequency'").iloc[0]
                specific = metrics.query("metric == 'resonance_specific_ratio'").iloc[0]
                note = (f"; most energised connectome harmonic (cortical mode) {peak['component']}, driven mostly "
                        f"at {peak['value']:.1f} Hz envelope modulation; most specific to this piece "
                        f"{specific['component']} ({specific['value']:.2g}x a flat envelope)")
            shown = "report.html" if args.report else "metrics.csv"
            write_line(f"{path} -> {folder / shown} ({tempo_text}, {f0_text}{key_text}{note})")
    except KeyboardInterrupt:
        write_index(args.out, kept)
        folders = [Path(args.out) / name for name in kept]
        done = (f"{len(kept)} of {len(jobs)} files finished and kept ({places(folders)})" if kept
                else f"none of the {len(jobs)} files finished")
        raise Interrupted(f"interrupted: {done}; nothing partial was kept; run the same command again to finish"
                          ) from None
    write_index(args.out, kept)
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
    if args.design:
        from harmonix.cli_live import cmd_design

        return cmd_design(args)
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
            from harmonix.tables import check_not_input

            given = [p for p in (args.protocol, args.music) if p is not None and Path(p).exists()]
            check_not_input(args.out, given, what="-o")
            check_not_input(Path(args.out).with_suffix(".json"), given, what="the sidecar")
            result = stimulus.render_protocol(protocol, args.out, progress=not args.quiet, subtype=args.subtype,
                                              **options)
    for warning in caught:
        if issubclass(warning.category, stimulus.StimulusWarning):
            print(f"harmonix: warning: {_one_line(warning.message)}", file=sys.stderr)
    if result is not None:
        print(result.summary())
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from harmonix.workflows import run_simulation

    if args.closed_loop:
        from harmonix.cli_live import cmd_closed_loop

        return cmd_closed_loop(args)
    if args.protocol and args.preset:
        raise ParameterError("give at most one of --protocol FILE and --preset NAME")
    if args.protocol:
        from harmonix.tables import check_not_input

        check_not_input(args.out, [args.protocol], what="--out")
    couple = None
    if args.couple:
        couple = tuple(part.strip() for part in args.couple.split(","))
    folder, simulated = run_simulation(
        args.out, model=args.model, seconds=args.seconds, seed=args.seed, schedule=args.schedule,
        temperature=args.temperature, coupling=args.coupling, protocol=args.protocol or args.preset,
        couple=couple, couple_weight=args.couple_weight, sink=args.sink,
    )
    from harmonix.workflows import simulation_file_name

    raw = simulated.raw
    path = folder / simulation_file_name(simulated.params)
    print(f"{args.model}: {raw.times[-1]:.1f} s, {len(raw.ch_names)} EEG channels at {raw.info['sfreq']:g} Hz -> "
          f"{path} (analyse it with: harmonix analyze {path} --out DIR)")
    return 0


def _compare_sessions(args: argparse.Namespace) -> tuple["pd.DataFrame", list[str]]:
    """The session list of ``harmonix compare`` from what was given."""
    from harmonix.compare.sessions import (
        expand_compare_inputs,
        read_session_csv,
        sessions_for_contrast,
        sessions_from_entities,
        sessions_from_files,
    )

    filters = _entity_filters(args)
    if args.post:
        pre = expand_compare_inputs(args.inputs, filters=filters)
        post = expand_compare_inputs(args.post, filters=filters)
        return sessions_from_files(pre, post, pattern=args.pattern)
    if len(args.inputs) == 1 and args.inputs[0].lower().endswith(".csv") and Path(args.inputs[0]).is_file():
        return read_session_csv(args.inputs[0]), []
    paths = expand_compare_inputs(args.inputs, filters=filters)
    if args.contrast:
        return sessions_for_contrast(paths, pattern=args.pattern), [
            f"conditions {args.contrast.replace(',', ' vs ')} compared within each recording, paired across recordings"]
    source = "--pattern " + args.pattern if args.pattern else "the BIDS sub-/ses- entities"
    return sessions_from_entities(paths, pattern=args.pattern), [f"subjects and sessions from {source}"]


def _cmd_compare(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from harmonix.study.batch import BatchFailed
    from harmonix.study.cluster import compute_cluster
    from harmonix.study.pre_post import run_comparison

    sessions, notes = _compare_sessions(args)
    if _remote(args):
        sessions["path"], args.out = sessions["path"].map(_absolute), _absolute(args.out)
    labels = None
    if args.labels:
        labels = tuple(part.strip() for part in args.labels.split(","))
        if len(labels) != 2 or not all(labels):
            raise ParameterError(f"--labels {args.labels!r}: give two session labels, e.g. pre,post")

    def model():
        from harmonix.harmonics.model import default_harmonic_model

        return default_harmonic_model()

    contrast = None
    if args.contrast:
        contrast = tuple(part.strip() for part in args.contrast.split(","))
        if len(contrast) != 2 or not all(contrast) or contrast[0] == contrast[1]:
            raise ParameterError(f"--contrast {args.contrast!r}: give two different condition names, e.g. rest,stim")
    try:
        with compute_cluster(args.jobs, args.scheduler) as client:
            folder, comparison = run_comparison(
                sessions, args.out, labels=labels, design=args.design, level=args.level,
                harmonic_model=None if args.harmonics == "off" else model, n_permutations=args.permutations,
                seed=args.seed, report=not args.no_report, notes=notes, overwrite=args.overwrite,
                fail_fast=args.fail_fast, layout=args.layout, conditions=_condition_spec(args),
                steady_state=_steady_state(args), contrast=contrast, client=client,
            )
    except BatchFailed as stopped:
        print(f"harmonix: error: {_one_line(stopped)}", file=sys.stderr)
        return stopped.exit_status
    significant = int((comparison["q"] < 0.05).sum())
    within = bool(len(comparison)) and (comparison["design"] == "windows").all()
    kind = "over windows within subject" if within else f"{args.design}, across subjects"
    state = " (up to date, not recomputed)" if comparison.attrs.get("up_to_date") else ""
    p_min = pd.to_numeric(comparison.get("p_min", pd.Series(dtype=float)), errors="coerce").min()
    reach = f" (smallest attainable p {p_min:.3g})" if np.isfinite(p_min) else ""
    print(f"{len(comparison)} comparisons ({kind}); {significant} with q < 0.05{reach} -> "
          f"{folder / 'comparison.csv'}{state}")
    for line in comparison.attrs.get("warnings", []):
        print(f"harmonix: warning: {line}", file=sys.stderr)
    for line in comparison.attrs.get("issues", []):
        print(f"  note: {line}")
    if not args.no_report:
        print(f"  report: {folder / 'report.html'}")
    failures = comparison.attrs.get("failures", [])
    if failures:
        print(f"  {len(failures)} recording(s) failed and were left out; listed in {folder / 'failures.tsv'}")
        return EXIT_SOME_FAILED
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from harmonix.demo import run_demo

    run_demo(Path(args.out), seed=args.seed, workers=args.jobs, scheduler=args.scheduler)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    quiet_help = "no progress bars or stage lines (errors and results are still printed)"
    verbose_help = "show library warnings, MNE messages, stage timings and tracebacks of unexpected errors"
    parser = Parser(
        prog="harmonix",
        description="EEG and music analysis for the Neural Annealing framework (research proxies, not diagnoses).",
        epilog=EXIT_STATUS_HELP, formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harmonix {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet_help)
    parser.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    # The same flags after the subcommand (harmonix analyze -q ...); SUPPRESS keeps the global value when absent.
    common = Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=quiet_help)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_parser(name: str, **kwargs) -> argparse.ArgumentParser:
        kwargs.setdefault("formatter_class", HelpFormatter)
        return sub.add_parser(name, parents=[common], **kwargs)

    def add_study_options(command: argparse.ArgumentParser, analyses: str) -> None:
        filters = command.add_argument_group("BIDS entity filters (repeatable or comma-separated; also matched "
                                             "against BIDS-style file names)")
        for entity in ("subject", "session", "task", "run", "acquisition"):
            filters.add_argument(f"--{entity}", action="append", metavar="LABEL",
                                 help=f"only recordings with this {entity}")
        command.add_argument("--layout", choices=("auto", "plain", "bids"), default="auto",
                             help=f"{analyses}: 'bids' writes a BIDS-derivatives dataset "
                                  "(sub-X/[ses-Y/]eeg/*_desc-harmonix_metrics.tsv + JSON sidecar); 'plain' one "
                                  "folder per recording; 'auto' (default) bids when every input is BIDS")
        command.add_argument("--overwrite", action="store_true",
                             help="replace outputs made with other parameters, inputs or harmonix version (without "
                                  "it they are refused; outputs of this very run are skipped as up to date)")
        command.add_argument("--fail-fast", action="store_true",
                             help="stop at the first recording that fails (default: report it, go on with the rest)")
        parallel = command.add_argument_group("parallel runs (Dask: the same outputs however the work is spread)")
        parallel.add_argument("--jobs", type=COUNT, default=1, metavar="N",
                              help="analyse N recordings at a time, on a local Dask cluster of N single-threaded "
                                   "worker processes (1: in this process)")
        parallel.add_argument("--scheduler", metavar="ADDRESS",
                              help="run the recordings on this existing Dask cluster (tcp://host:8786; default "
                                   "$HARMONIX_SCHEDULER); inputs and outputs must be on a file system its "
                                   "workers share")

    def add_condition_options(command: argparse.ArgumentParser) -> None:
        events = command.add_argument_group(
            "conditions from events (every metric is also computed per condition, with a 'condition' column)")
        events.add_argument("--conditions", metavar="SPEC",
                            help="names to event codes or annotation descriptions, e.g. 'rest=T0,left=T1,right=T2'; "
                                 "'stim=2|3' pools codes; 'f13=2' or 'a=2@13Hz' gives a condition a frequency")
        events.add_argument("--tmin", type=float, metavar="S", help="trial start relative to each event (s, default 0)")
        events.add_argument("--tmax", type=float, metavar="S",
                            help="trial end relative to each event (s; default: the annotation's duration)")
        events.add_argument("--block-end", metavar="CODE", help="trials run from each start event to the next CODE")
        events.add_argument("--events", metavar="FILE",
                            help="events from this file instead of the recording's (MNE -eve.fif/.eve, BIDS events.tsv)")
        events.add_argument("--protocol", metavar="SIDECAR.json",
                            help="the sidecar of a 'harmonix stimulate' render played during the recording: its "
                                 "segments become conditions (needs --protocol-onset)")
        events.add_argument("--protocol-onset", metavar="CODE", help="the event marking the protocol's start")
        events.add_argument("--steady-state", metavar="HZ,...|protocol",
                            help="stimulation frequencies: steady-state SNR and inter-trial coherence per condition and "
                                 "channel (and the trial classification when conditions carry frequencies); 'protocol' "
                                 "takes the protocol's modulation frequencies")

    bands_help = "bands: a CSV file (name,fmin,fmax), or names/custom items, e.g. 'alpha,beta' or 'sigma=12-15'"
    analyze = add_parser(
        "analyze", help="analyse EEG recordings (any MNE format, headset CSV, BIDS datasets)",
        description="Analyse EEG recordings, one output per recording. A failing recording is reported and the "
                    "others go on; outputs already made by the same command are skipped; re-run to resume.",
        epilog=EXIT_STATUS_HELP, formatter_class=HelpFormatter,
    )
    analyze.add_argument("inputs", nargs="+", metavar="INPUT",
                         help="recordings: files, glob patterns ('data/**/*.edf'), folders (searched recursively) "
                              "or BIDS dataset roots")
    analyze.add_argument("--out", required=True, metavar="DIR",
                         help="output folder: one subfolder per recording, or a BIDS-derivatives dataset for BIDS "
                              "input (see --layout)")
    analyze.add_argument("--bands", metavar="SPEC", help=bands_help)
    analyze.add_argument("--psd", choices=("welch", "multitaper"), default="welch", help="PSD estimator")
    analyze.add_argument("--sfreq", type=HERTZ, help="sampling rate in Hz for CSV files without usable timestamps")
    analyze.add_argument("--mark-flat", action="store_true", help="mark flat channels bad and go on instead of stopping")
    analyze.add_argument("--notch", choices=("auto", "50", "60", "off"), default="auto",
                         help="mains removal: auto removes the mains detected (50 or 60 Hz and harmonics; every "
                              "run measures and reports it), 50/60 removes that one, off nothing (default: auto)")
    analyze.add_argument("--channel-types", metavar="NAME=TYPE[,...]",
                         help="override channel types after typing by name, e.g. 'Right AUX=eeg' to analyse a "
                              "headset's auxiliary electrode as EEG")
    analyze.add_argument("--force-proxies", action="store_true",
                         help="compute the research proxies even on a recording that fails the plausibility checks")
    analyze.add_argument("--repair-csv", action="store_true",
                         help="headset CSV: interpolate short runs of non-numeric cells and keep samples whose "
                              "timestamps step back in file order, instead of stopping (each repair is reported)")
    analyze.add_argument(
        "--harmonics", choices=("auto", "on", "off"), default="auto",
        help="decompose onto the default connectome's harmonics: auto (when >= 8 channels match its leadfield), "
        "on (required), off",
    )
    analyze.add_argument("--n-harmonics", type=COUNT, default=30, metavar="N", help="harmonics estimated from sensors")
    analyze.add_argument("--basis", choices=BASIS_KINDS, default="graph-normalized", help="harmonic basis")
    analyze.add_argument("--report", action="store_true",
                         help="also write report.html (figures embedded, opens offline) beside the tables")
    analyze.add_argument("--seed", type=SEED, default=0,
                         help="seed of the surrogates; each recording's stream comes from it and the recording's "
                              "content, never from the order or the worker")
    add_condition_options(analyze)
    add_study_options(analyze, "output layout")
    analyze.set_defaults(func=_cmd_analyze)

    harmonics = add_parser("harmonics", help="compute (or load from cache) connectome harmonics and plot them")
    harmonics.add_argument("--n", type=COUNT, default=200, help="number of harmonics (default 200)")
    harmonics.add_argument("--connectome", default="default", metavar="default|DIR",
                           help="'default' (tvb-data model) or a folder with surface.*, region_map.*, weights.*")
    harmonics.add_argument("--basis", choices=BASIS_KINDS, default="graph-normalized", help="harmonic basis")
    harmonics.add_argument("--out", required=True, metavar="DIR", help="output folder")
    harmonics.set_defaults(func=_cmd_harmonics)

    music = add_parser("music", help="analyse music: tempo, f0 and notes, key, CDNS over time, envelope "
                                     "modulation spectrum, connectome resonance")
    music.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, OGG, MP3)")
    music.add_argument("--out", required=True, metavar="DIR", help="output folder (one subfolder per file)")
    music.add_argument("--bands", metavar="SPEC", help=bands_help)
    music.add_argument("--seconds", type=SECONDS, help="analyse only the first N seconds")
    music.add_argument("--no-resonance", action="store_true",
                       help="skip the connectome resonance profile (wave model driven through the auditory cortex)")
    music.add_argument("--report", action="store_true",
                       help="also write report.html (spectrogram, f0, beats, CDNS over time, modulation spectrum, "
                            "resonance against a flat envelope)")
    music.set_defaults(func=_cmd_music)

    stimulate = add_parser("stimulate", help="render, play or check rhythmic stimulation audio (safety limits built in)")
    stimulate.add_argument("protocol", nargs="?", metavar="PROTOCOL.toml", help="protocol file")
    stimulate.add_argument("-o", "--out", metavar="OUT", help="output audio file (.wav or .flac); a .json sidecar is written beside it")
    stimulate.add_argument("--preset", metavar="NAME", help="a built-in protocol instead of a file (see --list-presets)")
    stimulate.add_argument("--list-presets", action="store_true", help="list built-in protocols and exit")
    stimulate.add_argument("--music", metavar="FILE", help="music file for protocols that modulate music")
    stimulate.add_argument("--seconds", type=SECONDS, help="compress the whole schedule into N seconds (a preview)")
    stimulate.add_argument("--sfreq", type=HERTZ, default=44100.0, help="sample rate in Hz (default 44100)")
    stimulate.add_argument("--subtype", choices=("PCM_16", "PCM_24", "FLOAT"), default="PCM_16",
                           help="sample format of the file (default PCM_16; FLOAT only for .wav)")
    stimulate.add_argument("--override", action="store_true", help="allow settings outside the safety limits")
    stimulate.add_argument("--play", action="store_true", help="play through the sound card instead of writing a file")
    stimulate.add_argument("--check", metavar="FILE", help="measure a rendered file against its protocol and exit")
    design = stimulate.add_argument_group("harmonic-targeted design (wave model; writes a protocol)")
    design.add_argument("--design", action="store_true", help="design a protocol for --target harmonics, -o OUT.toml")
    design.add_argument("--target", metavar="SPEC", help="harmonics to target: 1-10, 2,5,7 (h000 excluded)")
    design.add_argument("--design-budget", type=COUNT, default=200, metavar="N", help="evaluations of the model")
    design.add_argument("--seed", type=SEED, default=0, help="seed of the random-search comparison")
    stimulate.set_defaults(func=_cmd_stimulate)

    simulate = add_parser("simulate", help="simulate EEG from the connectome (oscillator networks or the wave model)")
    simulate.add_argument("--model", choices=("stuart-landau", "kuramoto", "wave"), default="stuart-landau")
    simulate.add_argument("--closed-loop", choices=("anneal",), metavar="CONTROLLER",
                          help="'anneal': the annealing controller on a simulated brain (wave model), in lockstep, "
                               "writing the session folder harmonix live writes")
    add_annealing_options(simulate)
    simulate.add_argument("--seconds", type=SECONDS, default=30.0, help="simulated duration (default 30 s)")
    simulate.add_argument("--seed", type=SEED, default=0)
    simulate.add_argument("--schedule", choices=("constant", "anneal"), default="constant",
                          help="noise temperature: constant, or heat-hold-cool (an annealing cycle)")
    simulate.add_argument("--temperature", type=NON_NEGATIVE, default=0.05, help="baseline noise temperature")
    simulate.add_argument("--coupling", type=float, default=0.5, help="global coupling of the network models")
    simulate.add_argument("--protocol", metavar="FILE", help="stimulation protocol whose envelope drives the auditory regions")
    simulate.add_argument("--preset", metavar="NAME", help="built-in stimulation protocol as drive")
    simulate.add_argument("--couple", metavar="REGION,REGION",
                          help="switch on a direct connection between two regions, e.g. lPFCDL,rPFCDL (network models)")
    simulate.add_argument("--couple-weight", type=NON_NEGATIVE, default=4.0, metavar="W",
                          help="weight of that connection, in units of the strongest structural connection (default 4)")
    simulate.add_argument("--sink", type=NON_NEGATIVE, default=0.0, metavar="S",
                          help="energy sink growing with predictable input: feedback cancels up to this share "
                               "(0-1) of the protocol's drive once it is predictable (default 0: off)")
    simulate.add_argument("--out", required=True, metavar="DIR", help="output folder")
    simulate.set_defaults(func=_cmd_simulate)

    compare = add_parser(
        "compare", help="compare pre/post sessions: paired or group statistics, FDR, report",
        description="Compare two sessions. Recordings are analysed into OUT/analysis/ (kept as each completes, "
                    "resumed on a re-run; a failing recording is left out and listed in failures.tsv).",
        epilog=EXIT_STATUS_HELP, formatter_class=HelpFormatter,
    )
    compare.add_argument("inputs", nargs="+", metavar="INPUT",
                         help="with --post: the pre recordings (files, globs, folders, BIDS roots) or analyze "
                              "outputs; without: one SESSIONS.csv, or a BIDS dataset / harmonix derivatives "
                              "dataset whose sub-/ses- entities say subject and session")
    compare.add_argument("--post", nargs="+", metavar="POST", help="post recordings or analyze outputs")
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
    compare.add_argument("--permutations", type=COUNT, default=10000, help="permutations per test (default 10000)")
    compare.add_argument("--seed", type=SEED, default=0)
    compare.add_argument("--no-report", action="store_true", help="skip the HTML report")
    add_condition_options(compare)
    compare.add_argument("--contrast", metavar="A,B",
                         help="compare condition A with condition B within each recording, paired across recordings "
                              "(e.g. rest,stim), instead of two sessions")
    add_study_options(compare, "layout of OUT/analysis/")
    compare.set_defaults(func=_cmd_compare)

    add_live_parsers(add_parser)

    demo = add_parser("demo", help="run the embedded example end to end (no user data needed)")
    demo.add_argument("--out", default="harmonix-demo", metavar="DIR", help="output folder (default: ./harmonix-demo)")
    demo.add_argument("--seed", type=SEED, default=0, help="seed of the synthetic recordings")
    demo.add_argument("--jobs", type=COUNT, default=None, metavar="N",
                      help="worker processes of the local Dask cluster (default: up to 2, the CPUs available)")
    demo.add_argument("--scheduler", metavar="ADDRESS", help="run on this existing Dask cluster instead")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Let ``kill`` (SIGTERM) unwind like Ctrl-C, so staging folders are removed and finished outputs kept.

    Both signals go through :func:`harmonix.tables.interrupt_handler`, which
    holds an interruption back while a staging folder is being created,
    renamed into place or removed, so none is ever left half done.
    """
    from harmonix.tables import interrupt_handler

    previous = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, interrupt_handler)
    except (ValueError, OSError):  # not the main thread: leave signals alone
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _library_output(*, verbose: bool) -> Iterator[None]:
    """Library warnings and log messages only with ``--verbose``; a :class:`~harmonix.errors.DataWarning` always.

    A data warning (an inconsistent EDF header, a truncated BrainVision copy)
    qualifies the result the user is about to use, so ``--quiet`` does not
    hide it either; it is printed as one ``harmonix: warning:`` line. Log
    levels and warning filters are restored on exit: ``main`` called twice in
    one process (tests, notebooks) leaves no global state behind.
    """
    import mne

    from harmonix.errors import DataWarning

    mne_logger, specparam = logging.getLogger("mne"), logging.getLogger("specparam")
    mne_level, specparam_level = mne_logger.level, specparam.level
    with warnings.catch_warnings():
        if not verbose:
            mne.set_log_level("ERROR")
            specparam.setLevel(logging.ERROR)
            warnings.filterwarnings("ignore")
        warnings.filterwarnings("always", category=DataWarning)
        show_library_warning = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, DataWarning):
                print(f"harmonix: warning: {_one_line(message)}", file=sys.stderr)
            else:
                show_library_warning(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        try:
            yield
        finally:
            mne_logger.setLevel(mne_level)
            specparam.setLevel(specparam_level)


def _output_folders(args: argparse.Namespace) -> list[Path]:
    """The output folder a command may create (for a file output: its folder), to remove again if left unused."""
    out = getattr(args, "out", None)
    if out is None:
        return []
    return [Path(out).parent] if args.command == "stimulate" else [Path(out)]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harmonix`` command; returns the exit status (see :data:`EXIT_STATUS_HELP`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except ParameterError as error:  # a usage error: one line, exit 2, before any work
        print(f"harmonix: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    args.command_line = shlex.join(["harmonix", *argv])  # for provenance: the command as typed
    from harmonix.study.provenance import set_command_line

    previous_command = set_command_line(args.command_line)
    set_quiet(args.quiet)
    set_verbose(args.verbose)
    from harmonix.tables import missing_folders, remove_if_unused

    created = [folder for out in _output_folders(args) for folder in missing_folders(out)]
    code = EXIT_USER_ERROR
    try:
        with _terminate_as_interrupt(), _library_output(verbose=args.verbose):
            try:
                code = args.func(args)
                return code
            except HarmonixError as error:
                print(f"harmonix: error: {_one_line(error)}", file=sys.stderr)
                return EXIT_USER_ERROR
            except OSError as error:
                # File-system failures the library did not anticipate still deserve one line, not a traceback.
                print(f"harmonix: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
                return EXIT_USER_ERROR
            except KeyboardInterrupt as stopped:
                code = EXIT_INTERRUPTED
                message = getattr(stopped, "message", None) or (
                    "interrupted; outputs this command had finished are kept, nothing partial was kept; run the "
                    "same command again to finish")
                print(f"harmonix: {message}", file=sys.stderr)
                return EXIT_INTERRUPTED
            finally:
                if code != EXIT_OK:
                    # Folders this run created and left empty (a usage error, nothing finished) go again.
                    remove_if_unused(created)
    except KeyboardInterrupt:  # a second Ctrl-C while reporting the first
        return EXIT_INTERRUPTED
    finally:
        set_command_line(previous_command)


if __name__ == "__main__":
    sys.exit(main())
