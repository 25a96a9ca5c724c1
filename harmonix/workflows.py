"""File-level workflows: load -> validate -> analyse -> write, one recording at a time.

The CLI and the demo call these; each writes its outputs atomically: one
folder (``metrics.csv``, ``params.json``, ``arrays.npz``) named after the
session, or, through a ``writer``, elsewhere (a BIDS-derivatives dataset, see
:mod:`harmonix.study`). The pre/post comparison of a study is
:func:`harmonix.study.pre_post.run_comparison`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harmonix.harmonics.decompose import DEFAULT_SENSOR_MODES
from harmonix.harmonics.model import HarmonicModel
from harmonix.pipeline import Analysis, analyze_eeg, analyze_music
from harmonix.spectral.bands import Band
from harmonix.progress import report_stage
from harmonix.tables import SessionOutputs, input_fingerprint, software_versions, write_plain_outputs, write_session_outputs

_COMPANION_SUFFIXES = (".vmrk", ".eeg", ".fdt")


def _companions(path: Path) -> list[Path]:
    """The file and the data/marker files it refers to (BrainVision, EEGLAB)."""
    extra = [path.with_suffix(s) for s in _COMPANION_SUFFIXES if s != path.suffix]
    return [path] + [p for p in extra if p.is_file()]


def _provenance(path: Path, files: Sequence[Path]) -> dict:
    return {"input": {"path": str(path), "absolute": str(path.resolve()), "sha256": input_fingerprint(files)},
            **_run_provenance()}


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
    repair: bool = False,
    harmonic_model: HarmonicModel | None = None,
    harmonics_required: bool = False,
    n_harmonics: int = DEFAULT_SENSOR_MODES,
    channels: Sequence[str] | None = None,
    resample_to: float | None = None,
    report: bool = False,
    conditions: Any = None,
    steady_state: Any = None,
    provenance: dict | None = None,
    writer: Callable[[SessionOutputs], Path] | None = None,
    notch: str | float = "auto",
    channel_types: dict[str, str] | None = None,
    force_proxies: bool = False,
    seed: int = 0,
) -> tuple[Path, Analysis]:
    """Load, check and analyse one EEG recording; write ``out_dir / session``.

    ``notch`` (``'auto'``, 50, 60 or ``'off'``) is passed to
    :func:`~harmonix.pipeline.analyze_eeg`; ``channel_types`` (e.g.
    ``{"Right AUX": "eeg"}``) to :func:`~harmonix.io.load_eeg_with_report`.
    A recording that fails the plausibility checks of
    :func:`~harmonix.io.check_recording` (amplitudes no scalp EEG in volts
    has, a staircase signal) gets no research proxies unless
    ``force_proxies``; its warnings go to ``params.json`` and the report.
    ``seed`` seeds the surrogates (see :func:`harmonix.study.cluster.recording_seed`
    for the per-recording seed a study uses).

    Flat channels stop the run (:class:`~harmonix.errors.DataQualityError`)
    unless ``mark_flat`` is set, in which case they are marked bad, left out
    and listed in ``params.json``. ``repair`` repairs what a headset CSV's
    reader can (see :func:`~harmonix.io.load_eeg_with_report`) instead of
    stopping; each repair is recorded. With a ``harmonic_model`` the sensors are
    also decomposed onto its harmonics (see :func:`~harmonix.pipeline.analyze_eeg`);
    the coefficient time series go to ``arrays.npz``. ``channels`` and
    ``resample_to`` align a recording with others before analysis (keep only
    these EEG channels; resample to this rate, in Hz); both are recorded in
    ``params.json``. With ``report``, ``report.html`` is written beside the tables.
    ``params.json`` names the input (``input.path`` as given, ``input.absolute``
    resolved): the record of which output holds which recording.

    ``conditions`` (a :class:`~harmonix.io.condition_builder.ConditionSpec`, built
    on the opened recording, or ready :class:`~harmonix.io.conditions.Condition`
    objects) and ``steady_state`` (frequencies in Hz, or ``'protocol'``: the
    modulation frequencies of the spec's protocol sidecar) are passed on to
    :func:`~harmonix.pipeline.analyze_eeg`. ``provenance`` (see
    :func:`harmonix.study.provenance.make_record`) is stored in the
    parameters under ``provenance``, and its input hashes are reused instead
    of hashing the files again. ``writer`` writes the outputs elsewhere than
    ``out_dir / session`` (e.g. a BIDS-derivatives dataset) and returns
    where; the current stage (load, write; the analysis reports its own) is
    shown through :func:`harmonix.progress.report_stage`.
    """
    from harmonix.io import check_recording, load_eeg_with_report
    from harmonix.io.condition_builder import ConditionSpec
    from harmonix.io.protocol_conditions import frequencies_from_protocol

    path = Path(path)
    report_stage("load")
    # Not loaded: the analysis reads the recording block by block (memory does not grow with its length).
    inst, load_report = load_eeg_with_report(path, sfreq=sfreq, preload=False, repair=repair,
                                             channel_types=channel_types)
    alignment = {}
    if channels is not None:
        inst = inst.copy().pick(list(channels))
        alignment["channels"] = list(channels)
    if resample_to is not None and inst.info["sfreq"] != resample_to:
        alignment["resampled_from_hz"] = float(inst.info["sfreq"])
        inst = inst.copy().load_data(verbose=False).resample(resample_to, verbose=False)
        alignment["resampled_to_hz"] = float(resample_to)
    inst, quality = check_recording(inst, source=str(path), flat="mark" if mark_flat else "raise")
    condition_spec = None
    if isinstance(conditions, ConditionSpec):
        condition_spec = conditions.describe()
        conditions = conditions.build(inst, source=path.name)
    if steady_state == "protocol":
        steady_state = frequencies_from_protocol(condition_spec["protocol"])
    skip_proxies = None
    if not getattr(quality, "plausible", True) and not force_proxies:
        skip_proxies = ("the recording fails the plausibility checks (see quality in params.json); the proxies "
                        "are not computed unless forced (force_proxies=True, harmonix analyze --force-proxies)")
    analysis = analyze_eeg(
        inst, session=session, bands=bands, strict_bands=strict_bands, psd_method=psd_method, source=str(path),
        harmonic_model=harmonic_model, harmonics_required=harmonics_required, n_harmonics=n_harmonics,
        conditions=conditions, steady_state=steady_state, notch=notch, skip_proxies=skip_proxies, seed=seed,
    )
    if provenance is not None:
        source = {"input": {"path": str(path), "absolute": str(path.resolve()), "sha256": dict(provenance["inputs"])},
                  **_run_provenance(), "provenance": provenance}
    else:
        source = _provenance(path, _companions(path))
    params = {**analysis.params, "session": session, "load": load_report, "quality": dataclasses.asdict(quality),
              "alignment": alignment, "condition_spec": condition_spec, **source}
    make_report = None
    if report:
        def make_report() -> str:
            from harmonix.report.html import analysis_report

            return analysis_report(analysis.metrics, params, analysis.arrays, title=session,
                                   harmonic_model=harmonic_model)

    report_stage("write")
    outputs = SessionOutputs(analysis.metrics, params, analysis.arrays, make_report)
    if writer is None:
        folder = write_plain_outputs(Path(out_dir) / session, outputs)
    else:
        folder = writer(outputs)
    return folder, analysis


def run_music_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    session: str,
    bands: Sequence[Band] | None = None,
    seconds: float | None = None,
    resonance_model: HarmonicModel | None = None,
    report: bool = False,
) -> tuple[Path, Analysis]:
    """Load and analyse one music file (mono mixdown); write ``out_dir / session``.

    With ``report=True`` the folder also gets ``report.html``
    (:func:`harmonix.report.music.write_music_report`).
    """
    from harmonix.io.audio import load_audio

    path = Path(path)
    audio = load_audio(path, mono=True, duration=seconds)
    analysis = analyze_music(audio, session=session, bands=bands, resonance_model=resonance_model)
    params = {**analysis.params, "session": session, "seconds": seconds, **_provenance(path, [path])}
    folder = write_session_outputs(Path(out_dir) / session, analysis.metrics, params, arrays=analysis.arrays)
    if report:
        from harmonix.report.music import write_music_report

        write_music_report(folder)
    return folder, analysis


def music_outputs(files: Sequence[str | Path], out_dir: str | Path) -> list[tuple[Path, str]]:
    """Each audio file once (in the order given) with the name of its folder in ``out_dir``; nothing written.

    Names are the file names without extension, made unique when they
    collide (:func:`harmonix.study.inputs.unique_names`: ``a/song.wav`` and
    ``b/song.flac`` get ``song-<tag>`` folders, the same on every run); a
    folder already holding another file's analysis is never given to this
    one. After the run, :func:`harmonix.study.layouts.write_index` records
    which folder holds which file.

    Raises
    ------
    OutputError
        An output would replace, or sit inside, one of the ``files``.
    """
    from harmonix.study.layouts import existing_owners
    from harmonix.study.inputs import recording_stem, unique_names
    from harmonix.tables import check_not_input

    unique: dict[Path, Path] = {}
    for file in files:
        unique.setdefault(Path(file).resolve(), Path(file))
    paths = list(unique.values())
    out_dir = Path(out_dir)
    check_not_input(out_dir, paths, replaces=False, what="--out")
    bases = [recording_stem(path, default="session") for path in paths]
    names = unique_names(paths, bases, taken=existing_owners(out_dir, bases))
    for name in names:
        check_not_input(out_dir / name, paths)
    return list(zip(paths, names))


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

    Writes the recording as ``<model>-<schedule>-seed<seed>-<seconds>s[-<protocol>]_raw.fif``
    (:func:`simulation_file_name`: its name says what was simulated, so that
    analyses of several simulations are told apart; what ``harmonix analyze``
    reads), ``traces.csv`` (tidy:
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
        simulated.raw.save(staging / simulation_file_name(simulated.params), verbose=False)
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


def simulation_file_name(params: Mapping) -> str:
    """``<model>-<schedule>-seed<seed>-<seconds>s[-<protocol>]_raw.fif`` from a simulation's parameters.

    Examples
    --------
    >>> simulation_file_name({"model": "stuart-landau", "schedule": "anneal", "seed": 3, "seconds": 30.0})
    'stuart-landau-anneal-seed3-30s_raw.fif'
    """
    parts = [str(params.get("model", "sim")), str(params.get("schedule") or ""), f"seed{params.get('seed', 0)}",
             f"{float(params.get('seconds', 0)):g}s", Path(str(params.get("protocol") or "")).stem]
    name = "-".join(part for part in parts if part)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name) + "_raw.fif"


def _run_provenance() -> dict:
    """The command line and library versions of this run, for every sidecar."""
    from harmonix.study.provenance import command_line

    return {"command": command_line(), "versions": software_versions()}
