"""File-level workflows: load -> validate -> analyse -> write, one recording at a time.

The CLI and the demo call these; each writes one output folder atomically
(``metrics.csv``, ``params.json``, ``arrays.npz``) named after the session.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harmonix.harmonics.decompose import DEFAULT_SENSOR_MODES
from harmonix.harmonics.model import HarmonicModel
from harmonix.pipeline import Analysis, analyze_eeg, analyze_music
from harmonix.spectral.bands import Band
from harmonix.tables import input_fingerprint, software_versions, write_session_outputs

_COMPANION_SUFFIXES = (".vmrk", ".eeg", ".fdt")


def _companions(path: Path) -> list[Path]:
    """The file and the data/marker files it refers to (BrainVision, EEGLAB)."""
    extra = [path.with_suffix(s) for s in _COMPANION_SUFFIXES if s != path.suffix]
    return [path] + [p for p in extra if p.is_file()]


def _provenance(path: Path, files: Sequence[Path]) -> dict:
    return {"input": {"path": str(path), "sha256": input_fingerprint(files)}, **_run_provenance()}


def run_eeg_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    session: str,
    bands: Sequence[Band] | None = None,
    strict_bands: bool = False,
    psd_method: str = "welch",
    sfreq: float | None = None,
    mark_flat: bool = False,
    harmonic_model: HarmonicModel | None = None,
    harmonics_required: bool = False,
    n_harmonics: int = DEFAULT_SENSOR_MODES,
    channels: Sequence[str] | None = None,
    resample_to: float | None = None,
    report: bool = False,
) -> tuple[Path, Analysis]:
    """Load, check and analyse one EEG recording; write ``out_dir / session``.

    Flat channels stop the run (:class:`~harmonix.errors.DataQualityError`)
    unless ``mark_flat`` is set, in which case they are marked bad, left out
    and listed in ``params.json``. With a ``harmonic_model`` the sensors are
    also decomposed onto its harmonics (see :func:`~harmonix.pipeline.analyze_eeg`);
    the coefficient time series go to ``arrays.npz``. ``channels`` and
    ``resample_to`` align a recording with others before analysis (keep only
    these EEG channels; resample to this rate, in Hz); both are recorded in
    ``params.json``. With ``report``, ``report.html`` is written beside the tables.
    """
    from harmonix.io import check_recording, load_eeg_with_report

    path = Path(path)
    inst, load_report = load_eeg_with_report(path, sfreq=sfreq)
    alignment = {}
    if channels is not None:
        inst = inst.copy().pick(list(channels))
        alignment["channels"] = list(channels)
    if resample_to is not None and inst.info["sfreq"] != resample_to:
        alignment["resampled_from_hz"] = float(inst.info["sfreq"])
        inst = inst.copy().resample(resample_to, verbose=False)
        alignment["resampled_to_hz"] = float(resample_to)
    inst, quality = check_recording(inst, source=str(path), flat="mark" if mark_flat else "raise")
    analysis = analyze_eeg(
        inst, session=session, bands=bands, strict_bands=strict_bands, psd_method=psd_method, source=str(path),
        harmonic_model=harmonic_model, harmonics_required=harmonics_required, n_harmonics=n_harmonics,
    )
    params = {**analysis.params, "session": session, "load": load_report, "quality": quality,
              "alignment": alignment, **_provenance(path, _companions(path))}
    extra = None
    if report:
        from harmonix.report.html import analysis_report

        def extra(staging: Path) -> None:
            html = analysis_report(analysis.metrics, params, analysis.arrays, title=session,
                                   harmonic_model=harmonic_model)
            (staging / "report.html").write_text(html, encoding="utf-8")

    folder = write_session_outputs(Path(out_dir) / session, analysis.metrics, params, arrays=analysis.arrays,
                                   extra=extra)
    return folder, analysis


def run_music_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    session: str,
    bands: Sequence[Band] | None = None,
    seconds: float | None = None,
    resonance_model: HarmonicModel | None = None,
) -> tuple[Path, Analysis]:
    """Load and analyse one music file (mono mixdown); write ``out_dir / session``."""
    from harmonix.io.audio import load_audio

    path = Path(path)
    audio = load_audio(path, mono=True, duration=seconds)
    analysis = analyze_music(audio, session=session, bands=bands, resonance_model=resonance_model)
    params = {**analysis.params, "session": session, "seconds": seconds, **_provenance(path, [path])}
    folder = write_session_outputs(Path(out_dir) / session, analysis.metrics, params, arrays=analysis.arrays)
    return folder, analysis


def run_harmonics(
    out_dir: str | Path,
    *,
    connectome: str | Path | None = None,
    n_modes: int = 200,
    kind: str = "graph-normalized",
    figure_modes: Sequence[int] = (1, 2, 3, 4, 5, 6),
) -> tuple[Path, HarmonicModel]:
    """Compute (or load from cache) a connectome's harmonics; write a summary folder.

    Writes ``eigenvalues.csv``, ``harmonics.png`` (the first harmonics on the
    cortex), ``spectrum.png`` and ``params.json`` into ``out_dir``.
    """
    import pandas as pd

    from harmonix.harmonics.connectome import load_connectome_folder, load_default_connectome
    from harmonix.harmonics.model import connectome_harmonics
    from harmonix.report.figures import plot_harmonic_spectrum, plot_harmonics
    from harmonix.tables import atomic_output_dir, write_json

    model_connectome = load_default_connectome() if connectome is None else load_connectome_folder(connectome)
    basis = connectome_harmonics(model_connectome, n_modes=n_modes, kind=kind)
    model = HarmonicModel(model_connectome, basis)
    with atomic_output_dir(out_dir) as staging:
        pd.DataFrame({"k": range(basis.n_modes), "eigenvalue": basis.eigenvalues}).to_csv(
            staging / "eigenvalues.csv", index=False)
        shown = [k for k in figure_modes if k < basis.n_modes]
        plot_harmonics(model_connectome.mesh, basis, shown).savefig(staging / "harmonics.png", dpi=120)
        plot_harmonic_spectrum(basis.eigenvalues).savefig(staging / "spectrum.png", dpi=120)
        write_json(staging / "params.json", {"model": model.params(), "n_vertices": basis.n_vertices,
                                             **_run_provenance()})
    return Path(out_dir), model


def run_simulation(out_dir: str | Path, **options) -> tuple[Path, "SimulatedRecording"]:
    """Simulate a recording (:func:`harmonix.simulate.run.simulate_recording`) and write it.

    Writes ``raw.fif`` (what ``harmonix analyze`` reads), ``traces.csv`` (tidy:
    ``time, metric, value``: order parameter, energy, temperature, and for the
    network models the power of harmonics 1-5 of the region activity), a figure
    ``traces.png`` and ``params.json``.
    """
    import pandas as pd
    from matplotlib.figure import Figure

    from harmonix.simulate.run import simulate_recording
    from harmonix.tables import atomic_output_dir, write_json

    simulated = simulate_recording(**options)
    traces = simulated.traces
    with atomic_output_dir(out_dir) as staging:
        simulated.raw.save(staging / "raw.fif", verbose=False)
        series = {k: v for k, v in traces.items() if k != "time" and np.shape(v) == np.shape(traces["time"])}
        frames = [pd.DataFrame({"time": traces["time"], "metric": name, "value": values}) for name, values in series.items()]
        if frames:
            pd.concat(frames).to_csv(staging / "traces.csv", index=False)
        fig = Figure(figsize=(7, 1.8 * max(len(series), 1)))
        axes = fig.subplots(max(len(series), 1), 1, squeeze=False)[:, 0]
        for ax, (name, values) in zip(axes, series.items()):
            ax.plot(traces["time"], values, lw=0.8)
            ax.set_ylabel(name.replace("_", " "), fontsize=8)
        axes[-1].set_xlabel("time (s)")
        fig.tight_layout()
        fig.savefig(staging / "traces.png", dpi=110)
        write_json(staging / "params.json", {**simulated.params, **_run_provenance()})
    return Path(out_dir), simulated


def _run_provenance() -> dict:
    """The command line and library versions of this run, for every sidecar."""
    return {"command": " ".join(sys.argv), "versions": software_versions()}


def _recording_layout(paths: Sequence[str]) -> tuple[list[str], float, list[str]]:
    """Shared EEG channels and lowest sampling rate of recordings (headers only), with notes on what differs."""
    import mne

    from harmonix.errors import ChannelError
    from harmonix.io import load_eeg

    layouts = {}
    for path in paths:
        inst = load_eeg(path, preload=False)
        picks = mne.pick_types(inst.info, eeg=True, exclude="bads")
        layouts[path] = ([inst.ch_names[i] for i in picks], float(inst.info["sfreq"]))
    first = next(iter(layouts.values()))[0]
    shared = [c for c in first if all(c in channels for channels, _ in layouts.values())]
    notes = []
    for path, (channels, _) in layouts.items():
        dropped = [c for c in channels if c not in shared]
        if dropped:
            notes.append(f"{Path(path).name}: channels {', '.join(dropped)} left out (not in every recording)")
    if len(shared) < 8:
        raise ChannelError(
            f"the recordings share only {len(shared)} EEG channels ({', '.join(shared) or 'none'}); at least 8 are "
            "needed to compare them: " + "; ".join(f"{Path(p).name}: {len(c)} channels" for p, (c, _) in layouts.items())
        )
    rates = {path: rate for path, (_, rate) in layouts.items()}
    lowest = min(rates.values())
    for path, rate in rates.items():
        if rate != lowest:
            notes.append(f"{Path(path).name}: resampled from {rate:g} Hz to {lowest:g} Hz (the lowest rate of the set)")
    return shared, lowest, notes


def run_comparison(
    sessions: "pd.DataFrame",
    out_dir: str | Path,
    *,
    labels: tuple[str, str] | None = None,
    design: str = "paired",
    level: str = "summary",
    harmonic_model: HarmonicModel | None = None,
    n_permutations: int = 10000,
    n_bootstrap: int = 2000,
    seed: int = 0,
    report: bool = True,
    notes: Sequence[str] = (),
) -> tuple[Path, "pd.DataFrame"]:
    """Analyse (or read) every session, compare pre and post, write tables and the report.

    Parameters
    ----------
    sessions : DataFrame
        :data:`harmonix.compare.sessions.SESSION_COLUMNS`; each ``path`` is a
        recording (analysed here after aligning channels and sampling rates
        across all of them) or a ``harmonix analyze`` output folder.
    out_dir : path
        Written atomically: ``comparison.csv`` (across subjects when at
        least two subjects have both sessions, else within subject over
        windows: see its ``design`` column), ``comparison_windows.csv``
        (within subject over windows, when two subjects are paired), ``session_table.csv`` (every metric row of every session),
        ``sessions.csv``, ``params.json``, ``report.html`` and ``analysis/``
        (one folder per analysed recording).
    labels : (str, str) | None
        Session labels to compare (see :func:`~harmonix.compare.sessions.pair_sessions`).
    design : {'paired', 'unpaired'}
        Paired by subject, or two independent groups (``labels`` name them).
    level : {'summary', 'channel'}
        Channel-level metrics averaged over the shared channels, or compared per channel.
    harmonic_model : HarmonicModel | None
        Decompose recordings onto these harmonics when analysing them.
    notes : sequence of str
        Lines to show in the report (e.g. how subjects were assigned).

    Returns
    -------
    folder : Path
    comparison : DataFrame
        The table written to ``comparison.csv``.
    """
    import pandas as pd

    from harmonix.compare import compare_tables
    from harmonix.compare.sessions import (
        SessionTable,
        comparable_rows,
        is_analysis_folder,
        pair_sessions,
        read_analysis,
        session_table,
        summarize_channels,
    )
    from harmonix.compare.windows import compare_windows, window_metrics
    from harmonix.errors import ParameterError
    from harmonix.progress import progress
    from harmonix.tables import atomic_output_dir, unique_session_names, write_json

    if design not in ("paired", "unpaired"):
        raise ParameterError(f"design={design!r}: use 'paired' or 'unpaired'")
    if level not in ("summary", "channel"):
        raise ParameterError(f"level={level!r}: use 'summary' or 'channel'")
    sessions = sessions.reset_index(drop=True)
    paths = [str(p) for p in sessions["path"]]
    recordings = [p for p in paths if not is_analysis_folder(p)]
    notes = list(notes)
    with atomic_output_dir(out_dir) as staging:
        channels = rate = None
        if recordings:
            channels, rate, aligned = _recording_layout(recordings)
            notes += aligned
        names = unique_session_names(paths)
        analyses = []
        in_memory = {}  # arrays of the recordings analysed here, so they need not be read back from disk
        for path, name in progress(list(zip(paths, names)), desc="sessions"):
            if is_analysis_folder(path):
                metrics, params = read_analysis(path)
                folder = Path(path)
            else:
                folder, analysis = run_eeg_file(path, staging / "analysis", session=name, channels=channels,
                                                resample_to=rate, harmonic_model=harmonic_model)
                metrics, params = analysis.metrics, analysis.params
                in_memory[str(folder)] = analysis.arrays
            analyses.append((metrics, params, folder))
        table = session_table(sessions, analyses)
        notes += table.notes
        params_by_folder = {str(folder): params for _, params, folder in analyses}
        metrics = comparable_rows(table.metrics)
        if level == "summary":
            metrics = summarize_channels(metrics, table.channels)
        pre, post, issues, labels = pair_sessions(SessionTable(metrics, table.sessions), labels=labels)
        if design == "unpaired":
            issues = []
        subjects = sorted(set(pre["subject"]) & set(post["subject"]))
        results = {}
        if design == "unpaired" or len(subjects) >= 2:
            results["comparison"] = compare_tables(pre, post, design=design, n_permutations=n_permutations,
                                                   n_bootstrap=n_bootstrap, seed=seed)
        if design == "paired" and len(subjects) < 3:
            window_tables = []
            for subject in subjects:
                windows = {}
                for label in labels:
                    rows = table.sessions[(table.sessions["subject"] == subject) & (table.sessions["session"] == label)]
                    if len(rows) != 1:
                        continue
                    folder = rows["analysis"].iloc[0]
                    arrays = in_memory.get(folder)
                    if arrays is None:
                        stored = Path(folder) / "arrays.npz"
                        arrays = dict(np.load(stored)) if stored.is_file() else {}
                    windows[label] = window_metrics(arrays, params_by_folder[folder], level=level,
                                                    channels=table.channels)
                if len(windows) == 2 and not any(w.empty for w in windows.values()):
                    window_tables.append(compare_windows(windows[labels[0]], windows[labels[1]], subject=subject,
                                                         n_permutations=n_permutations, n_bootstrap=n_bootstrap,
                                                         seed=seed))
                else:
                    issues.append(f"subject {subject}: no per-window values (recordings or epoch sets shorter "
                                  "than 4 windows), no within-subject comparison")
            if window_tables:
                results["comparison_windows"] = pd.concat(window_tables, ignore_index=True)
        if not results:
            raise ParameterError(
                f"nothing to compare: {len(subjects)} subject(s) have both a {labels[0]} and a {labels[1]} session"
                + (f" ({'; '.join(issues)})" if issues else "")
            )
        if "comparison" not in results:
            # Within-subject windows are then the only comparison: it is the comparison table.
            results = {"comparison": results["comparison_windows"]}
        for name, frame in results.items():
            frame.to_csv(staging / f"{name}.csv", index=False)
        # Folders analysed here are named by where they will be, not by the staging folder.
        table.sessions["analysis"] = [str(Path(out_dir) / Path(f).relative_to(staging)) if Path(f).is_relative_to(staging)
                                      else f for f in table.sessions["analysis"]]
        table.sessions.to_csv(staging / "sessions.csv", index=False)
        metrics.to_csv(staging / "session_table.csv", index=False)
        comparison = results["comparison"]
        parameters = {"labels": list(labels), "design": design, "level": level, "n_subjects_paired": len(subjects),
                      "n_permutations": n_permutations, "n_bootstrap": n_bootstrap, "seed": seed,
                      "tables": {name: frame.attrs.get("parameters", {"design": "windows"})
                                 for name, frame in results.items()},
                      "notes": notes, "issues": issues}
        write_json(staging / "params.json", {**parameters, **_run_provenance()})
        if report:
            from harmonix.report.html import comparison_report

            html = comparison_report(comparison, table.sessions, parameters, issues=issues + notes)
            (staging / "report.html").write_text(html, encoding="utf-8")
    comparison.attrs["issues"] = issues
    comparison.attrs["notes"] = notes
    return Path(out_dir), comparison
