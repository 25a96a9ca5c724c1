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
) -> tuple[Path, Analysis]:
    """Load, check and analyse one EEG recording; write ``out_dir / session``.

    Flat channels stop the run (:class:`~harmonix.errors.DataQualityError`)
    unless ``mark_flat`` is set, in which case they are marked bad, left out
    and listed in ``params.json``. With a ``harmonic_model`` the sensors are
    also decomposed onto its harmonics (see :func:`~harmonix.pipeline.analyze_eeg`);
    the coefficient time series go to ``arrays.npz``.
    """
    from harmonix.io import check_recording, load_eeg_with_report

    path = Path(path)
    inst, load_report = load_eeg_with_report(path, sfreq=sfreq)
    inst, quality = check_recording(inst, source=str(path), flat="mark" if mark_flat else "raise")
    analysis = analyze_eeg(
        inst, session=session, bands=bands, strict_bands=strict_bands, psd_method=psd_method, source=str(path),
        harmonic_model=harmonic_model, harmonics_required=harmonics_required, n_harmonics=n_harmonics,
    )
    params = {**analysis.params, "session": session, "load": load_report, "quality": quality,
              **_provenance(path, _companions(path))}
    folder = write_session_outputs(Path(out_dir) / session, analysis.metrics, params, arrays=analysis.arrays)
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
    ``time, metric, value``: order parameter, energy, temperature), a figure
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
