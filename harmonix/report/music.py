"""Self-contained HTML report of one ``harmonix music`` analysis.

Built from the outputs of :func:`harmonix.pipeline.music.analyze_music`
(``metrics.csv``, ``params.json``, ``arrays.npz``) with the helpers of
:mod:`harmonix.report.html` (embedded PNG figures, inline style, no scripts):
spectrogram with f0 and beats, CDNS over time, the envelope's modulation
spectrum against the EEG bands, and the connectome resonance profile next to
that of a flat envelope, so that what is specific to the piece shows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harmonix.errors import InputFileError, ParameterError
from harmonix.report.page import (
    _absent,
    _facts,
    _figure,
    _num,
    _page,
    _provenance,
    _Section,
    _tidy,
    write_report_page,
)

__all__ = ["music_report", "write_music_report"]


def _array(arrays: Mapping, key: str) -> np.ndarray:
    if key not in arrays:
        raise ParameterError(f"the analysis has no {key!r} array")
    return np.asarray(arrays[key])


def _value(metrics: pd.DataFrame, metric: str) -> tuple[float, str]:
    rows = metrics[metrics["metric"] == metric]
    if rows.empty:
        return float("nan"), ""
    return float(rows["value"].iloc[0]), str(rows["component"].iloc[0])


def plot_spectrogram_f0_beats(arrays: Mapping) -> Figure:
    """Log-mel spectrogram with the pYIN f0 (voiced frames) and the beats."""
    times, freqs, db = (_array(arrays, k) for k in ("spectrogram_times", "spectrogram_freqs", "spectrogram_db"))
    fig = Figure(figsize=(9, 3.6))
    ax = fig.subplots()
    mesh = ax.pcolormesh(times, freqs, db, shading="auto", cmap="magma")
    ax.set_yscale("symlog", linthresh=200)
    ax.set_ylim(30, freqs[-1])
    if "f0" in arrays:
        ax.plot(_array(arrays, "f0_times"), _array(arrays, "f0"), color="cyan", lw=1.2, label="f0 (pYIN)")
    beats = np.asarray(arrays.get("beat_times", np.empty(0)))
    for i, b in enumerate(beats):
        ax.axvline(b, color="white", lw=0.6, alpha=0.6, label="beats" if i == 0 else None)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    fig.colorbar(mesh, ax=ax, label="dB re max")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_cdns_over_time(arrays: Mapping) -> Figure:
    """Consonance, dissonance, noise and valence per frame."""
    times = _array(arrays, "cdns_times")
    if times.size == 0:
        raise ParameterError("no CDNS frames")
    fig = Figure(figsize=(9, 2.8))
    ax = fig.subplots()
    for part, colour in (("consonance", "tab:green"), ("dissonance", "tab:red"), ("noise", "tab:gray"),
                         ("valence", "k")):
        ax.plot(times, _array(arrays, f"cdns_{part}"), lw=1.0 if part != "valence" else 1.4, color=colour,
                label=part)
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("CDNS (1)")
    ax.legend(loc="upper right", fontsize=8, ncol=4)
    return fig


def plot_modulation_bands(arrays: Mapping, bands) -> Figure:
    """Envelope modulation spectrum with the EEG bands shaded."""
    freqs, power = _array(arrays, "modulation_freqs"), _array(arrays, "modulation_power")
    fig = Figure(figsize=(6.5, 3.0))
    ax = fig.subplots()
    colours = ["#e8f1fa", "#fdf0e0", "#e9f7ea", "#f5e9f7", "#fbeaea", "#eeeeee"]
    for i, band in enumerate(bands):
        ax.axvspan(band["fmin"], band["fmax"], color=colours[i % len(colours)], zorder=0)
        ax.text(np.sqrt(band["fmin"] * band["fmax"]), 1.0, band["name"], transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=8)
    ax.loglog(freqs, np.maximum(power, 1e-12), color="k", lw=1.0)
    ax.set_xlabel("modulation frequency (Hz)")
    ax.set_ylabel("power (1/Hz)")
    return fig


def plot_resonance_vs_flat(arrays: Mapping, n_show: int = 40) -> Figure:
    """Energy fraction per harmonic for the piece and for a flat envelope, and their ratio."""
    piece, flat = _array(arrays, "resonance_fraction"), _array(arrays, "resonance_fraction_flat")
    k = np.arange(min(n_show, piece.size))
    fig = Figure(figsize=(9, 4.2))
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.bar(k - 0.2, piece[k], width=0.4, label="this piece")
    top.bar(k + 0.2, flat[k], width=0.4, label="flat envelope", color="0.6")
    top.set_ylabel("energy fraction")
    top.legend(fontsize=8)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(flat[k] > 0, piece[k] / flat[k], np.nan)
    bottom.bar(k, ratio, color="tab:purple")
    bottom.axhline(1.0, color="k", lw=0.6)
    bottom.set_yscale("log")
    bottom.set_ylabel("piece / flat")
    bottom.set_xlabel("harmonic k")
    return fig


def _summary(metrics: pd.DataFrame, params: Mapping) -> _Section:
    tempo, _ = _value(metrics, "tempo")
    confidence, _ = _value(metrics, "tempo_confidence")
    p_value, _ = _value(metrics, "tempo_p_value")
    beats, _ = _value(metrics, "beat_count")
    f0, _ = _value(metrics, "f0_median")
    midi, _ = _value(metrics, "f0_median_midi")
    voiced, _ = _value(metrics, "voiced_fraction")
    notes, _ = _value(metrics, "note_count")
    key_r, key = _value(metrics, "key_correlation")
    clarity, _ = _value(metrics, "key_clarity")
    tempo_note = (params.get("tempo") or {}).get("note", "")
    candidates = metrics.loc[metrics["metric"] == "tempo_candidate", "value"]
    items = [
        ("Tempo", f"{_num(tempo, 4)} bpm (confidence {_num(confidence)}, pulse test p = {_num(p_value, 2)}; "
                  f"{_num(beats)} beats)" if np.isfinite(tempo) else f"none: {escape(tempo_note)}"),
        ("Tempo candidates", ", ".join(f"{_num(c, 4)}" for c in candidates) + " bpm" if len(candidates) else "&ndash;"),
        ("Pitch (median f0)", f"{_num(f0, 5)} Hz (MIDI {_num(midi, 4)}); voiced {_num(voiced, 2)} of frames; "
                              f"{_num(notes)} notes"),
        ("Key", f"{escape(key)} (r = {_num(key_r, 2)}, clarity {_num(clarity, 2)})" if key else "&ndash;"),
    ]
    for part in ("consonance", "dissonance", "noise", "valence"):
        value, _ = _value(metrics, f"cdns_{part}")
        items.append((f"CDNS {part} (median)", _num(value)))
    return _Section("summary", "Summary", _facts(items)
                    + '<p class="proxy-note">CDNS valence is a research proxy, not a diagnosis.</p>')


def music_report(metrics: pd.DataFrame, params: Mapping, arrays: Mapping[str, np.ndarray], *,
                 title: str | None = None) -> str:
    """HTML report of one analysed music file (the outputs of ``harmonix music``).

    Every figure is optional: a missing array becomes a one-line "not shown" note.
    """
    metrics = _tidy(metrics)
    params = dict(params or {})
    arrays = arrays if arrays is not None else {}
    session = params.get("session") or "music"
    bands = [b for b in params.get("bands", []) if isinstance(b, Mapping)]
    sections = [
        _summary(metrics, params),
        _Section("spectrogram", "Spectrogram, f0 and beats",
                 _figure(plot_spectrogram_f0_beats, "spectrogram with f0 and beats", arrays,
                         caption="Log-mel spectrogram (22 050 Hz analysis rate); cyan: pYIN f0 in voiced frames; "
                                 "white lines: beats (none when there is no pulse).")),
        _Section("cdns", "CDNS over time",
                 _figure(plot_cdns_over_time, "CDNS over time", arrays,
                         caption="The music's own consonance, dissonance, noise and valence (C - D) per frame.")),
        _Section("modulation", "Modulation spectrum and EEG bands",
                 _figure(plot_modulation_bands, "modulation spectrum", arrays, bands,
                         caption="Spectrum of the mean-normalised amplitude envelope; shaded: EEG bands.")),
    ]
    if "resonance_fraction" in arrays:
        specific = metrics[metrics["metric"] == "resonance_specific_ratio"]
        text = ""
        if not specific.empty:
            text = (f"<p>Most specific to this piece: harmonic {escape(str(specific['component'].iloc[0]))}, "
                    f"{_num(specific['value'].iloc[0])} times its share under a flat envelope.</p>")
        sections.append(_Section("resonance", "Connectome resonance: this piece against a flat envelope", text + _figure(
            plot_resonance_vs_flat, "resonance profile", arrays,
            caption="Energy fraction per harmonic of the neural-field wave model driven through the auditory "
                    "cortex by this piece's envelope and by a flat (white) envelope spectrum. The flat profile is "
                    "the model's own preference, the same for every sound; the ratio shows what the piece adds.")))
    else:
        sections.append(_Section("resonance", "Connectome resonance", _absent("the resonance profile was not computed "
                                                                               "(--no-resonance).")))
    return _page(title or f"harmonix music report: {session}", escape("Analysis of one music file"), sections,
                 _provenance(params))


def write_music_report(folder: str | os.PathLike) -> Path:
    """Read a ``harmonix music`` output folder and write its ``report.html`` atomically."""
    import json

    from harmonix.compare.sessions import read_arrays_file

    folder = Path(folder)
    for path in (folder / "metrics.csv", folder / "params.json"):
        if not path.is_file():
            raise InputFileError(f"{path}: not found; give a folder written by `harmonix music`")
    try:
        metrics = pd.read_csv(folder / "metrics.csv", keep_default_na=False, na_values=[""])
        params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputFileError(f"{folder}: cannot read metrics.csv/params.json ({err})") from err
    if params.get("kind") != "music":
        raise InputFileError(f"{folder / 'params.json'}: not written by `harmonix music`")
    arrays_path = folder / "arrays.npz"
    arrays = read_arrays_file(arrays_path) if arrays_path.is_file() else {}
    return write_report_page(folder, music_report(metrics, params, arrays))
