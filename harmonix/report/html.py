"""The self-contained HTML report of one analysed recording.

A report is one HTML file: figures are PNG images embedded as ``data:`` URIs,
the style sheet is inline, and there is no script, so it opens offline in any
browser and can be mailed or archived as is. Text is built from templates with
every value from the data passed through :func:`html.escape`.

:func:`analysis_report` renders the outputs of ``harmonix analyze`` (the tidy
``metrics.csv`` rows, ``params.json`` and ``arrays.npz``);
:func:`write_analysis_report` reads an output folder and writes its
``report.html`` atomically (the comparison report is
:mod:`harmonix.report.comparison`; the page they share,
:mod:`harmonix.report.page`). Every section is optional: when the
analysis lacks a piece (no harmonics, a recording too short for the proxies,
epoched data, channels without positions) the report says why in one line.

Every proxy (CDNS, valence, trauma, energy parameter) is shown with its
definition and the note that it is a research proxy, not a diagnosis.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from harmonix.errors import HarmonixError, InputFileError
from harmonix.proxies.energy import smoothed_trace
from harmonix.report import figures
from harmonix.report.page import (
    RESEARCH_PROXY_NOTE,
    _absent,
    _facts,
    _figure,
    _get,
    _issues_html,
    _num,
    _page,
    _provenance,
    _Section,
    _table,
    _tidy,
    write_report_page,
)
from harmonix.report.proxy_texts import _PROXIES, _PROXY, _proxy_block

__all__ = ["RESEARCH_PROXY_NOTE", "analysis_report", "write_analysis_report"]

logger = logging.getLogger(__name__)


def _band_names(params: Mapping, metrics: pd.DataFrame) -> list[str]:
    bands = [b["name"] for b in params.get("bands", []) if isinstance(b, Mapping) and "name" in b]
    return bands or figures._band_order(metrics.loc[~metrics["band"].isin(["", "broadband", "aperiodic"]), "band"])


def _band_summary(metrics: pd.DataFrame, bands: Sequence[str]) -> str:
    columns = [
        ("band_power_relative", "relative power", "mean", lambda v: f"{100 * v:.1f} %" if np.isfinite(v) else "&ndash;"),
        ("peak_frequency", "peak frequency (Hz)", "median", _num),
        ("periodic_peak_frequency", "periodic peak (Hz)", "median", _num),
        ("envelope_cv", "envelope CV", "mean", _num),
        ("lempel_ziv", "Lempel-Ziv", "mean", _num),
        ("plv_mean", "mean PLV", "mean", _num),
        ("cdns_valence", "CDNS valence", "mean", _num),
    ]
    present = [c for c in columns if (metrics["metric"] == c[0]).any()]
    if not present or not bands:
        return ""
    rows = []
    for band in bands:
        cells = [escape(band)]
        for metric, _, how, fmt in present:
            values = metrics.loc[(metrics["metric"] == metric) & (metrics["band"] == band), "value"].dropna()
            cells.append(fmt(float(getattr(values, how)())) if len(values) else "&ndash;")
        rows.append(cells)
    header = ["band"] + [f"{escape(label)}<br><small>{how} over channels</small>" for _, label, how, _ in present]
    return "<h3>Per band</h3>" + _table(header, rows, numeric=[False] + [True] * len(present))


def _overview(metrics: pd.DataFrame, params: Mapping, arrays: Mapping, bands: Sequence[str]) -> _Section:
    items = []
    session = params.get("session") or (metrics["session"].iloc[0] if "session" in metrics and len(metrics) else "")
    if session:
        items.append(("Session", escape(str(session))))
    source = _get(params, "input", "path") or _get(params, "load", "source")
    if source:
        items.append(("Source", f"<code>{escape(str(source))}</code>"))
    if params.get("duration_s") is not None:
        items.append(("Duration analysed", f"{_num(params['duration_s'], 4)} s"))
    if params.get("n_epochs"):
        items.append(("Epochs", escape(str(params["n_epochs"]))))
    if params.get("sfreq"):
        items.append(("Sampling rate", f"{_num(params['sfreq'], 5)} Hz"))
    channels = params.get("channels_analysed")
    if channels is None and "ch_names" in arrays:
        channels = [str(c) for c in np.asarray(arrays["ch_names"])]
    if channels is not None:
        items.append(("Channels analysed", str(len(channels))))
    if params.get("channels_bad"):
        items.append(("Channels left out (bad)", escape(", ".join(map(str, params["channels_bad"])))))
    if params.get("rejected_by_annotation_s"):
        items.append(("Left out by BAD annotations", f"{_num(params['rejected_by_annotation_s'])} s"))
    band_defs = [b for b in params.get("bands", []) if isinstance(b, Mapping)]
    if band_defs:
        items.append(("Bands", escape(", ".join(f"{b['name']} {b['fmin']:g}-{b['fmax']:g} Hz" for b in band_defs))))
    for name, reason in (params.get("skipped_bands") or {}).items():
        items.append((f"Band {name} skipped", escape(str(reason))))
    harmonics = params.get("harmonics") or {}
    if harmonics.get("computed"):
        items.append(("Connectome harmonics", escape(str(harmonics.get("channel_matching", "computed")))))
    elif harmonics:
        items.append(("Connectome harmonics", "not computed: " + escape(str(harmonics.get("reason", "")))))
    exponent = metrics.loc[metrics["metric"] == "aperiodic_exponent", "value"].dropna()
    if len(exponent):
        items.append(("Aperiodic (1/f) exponent", f"median {_num(exponent.median())} over channels "
                                                  f"(range {_num(exponent.min())} to {_num(exponent.max())})"))
    entropy = metrics.loc[metrics["metric"] == "spectral_entropy", "value"].dropna()
    if len(entropy):
        items.append(("Spectral entropy", f"mean {_num(entropy.mean())} over channels (normalised, 0-1)"))
    for note in _get(params, "load", "notes", default=[]) or []:
        items.append(("Loading note", escape(str(note))))
    return _Section("overview", "Overview", _facts(items) + _band_summary(metrics, bands))


def _montage_name(params: Mapping) -> str:
    montage = _get(params, "load", "montage") or {}
    name = montage.get("name") if isinstance(montage, Mapping) else None
    return str(name) if name else "standard_1005"


def _recording_info(arrays: Mapping):
    """The recording's own electrode positions (``ch_pos`` in the arrays), when at least three channels have one."""
    from harmonix.io.channels import channel_positions
    from harmonix.pipeline.result import channels_info

    info = channels_info(arrays)
    if info is None or np.isfinite(channel_positions(info)).all(axis=1).sum() < 3:
        return None
    return info


def _spectra(metrics: pd.DataFrame, params: Mapping, arrays: Mapping) -> _Section:
    parts = []
    if "psd" in arrays and "psd_freqs" in arrays:
        names = [str(c) for c in np.asarray(arrays["ch_names"])] if "ch_names" in arrays else None
        psd = np.asarray(arrays["psd"], dtype=float)
        if psd.ndim == 3:  # epochs x channels x freqs
            psd = psd.mean(axis=0)
        method = _get(params, "psd", "method", default="")
        parts.append(_figure(figures.plot_psd, "Power spectral density", np.asarray(arrays["psd_freqs"]), psd,
                             names if names is not None and len(names) == psd.shape[0] else None,
                             bands=params.get("bands"),
                             caption=f"PSD of each channel (grey) and the mean (black); {escape(str(method))} "
                                     "estimate, bands shaded."))
    else:
        parts.append(_absent("power spectral density: no PSD in the arrays of this analysis."))
    if (metrics["metric"] == "band_power").any():
        montage = _montage_name(params)
        channels = metrics.loc[metrics["metric"] == "band_power", "component"].unique().tolist()
        info = _recording_info(arrays)
        try:
            _, positioned = figures._positioned_info(channels, montage, info)
        except HarmonixError as err:
            positioned = []
            logger.info("no montage %s: %s", montage, err)
        unplaced = [c for i, c in enumerate(channels) if i not in set(positioned)]
        origin = ("Electrode positions as stored with the recording" if info is not None
                  else f"Electrode positions from the {escape(montage)} template, matched by channel name")
        placement = origin + (f"; without a position and left out: {escape(', '.join(unplaced))}." if unplaced
                              else ".")
        parts.append("<h3>Band power on the scalp</h3>")
        parts.append(_figure(figures.plot_band_topomaps, "Absolute band power", metrics, metric="band_power",
                             montage=montage, info=info, scale=1e12, log=True, unit="dB re 1 µV²",
                             caption="Absolute band power, 10 log10 of µV². " + placement))
        if (metrics["metric"] == "band_power_relative").any():
            parts.append(_figure(figures.plot_band_topomaps, "Relative band power", metrics,
                                 metric="band_power_relative", montage=montage, info=info, scale=100.0,
                                 unit="% of total",
                                 cmap="cividis", caption="Band power as a share of the power in all bands."))
    else:
        parts.append(_absent("band-power maps: no band_power rows in the metrics."))
    return _Section("spectra", "Spectra and band power", "\n".join(parts))


def _harmonics(metrics: pd.DataFrame, params: Mapping, arrays: Mapping, harmonic_model, bands: Sequence[str]) -> _Section:
    info = params.get("harmonics") or {}
    has_rows = (metrics["metric"] == "harmonic_power").any()
    if not has_rows:
        reason = info.get("reason") or "no harmonic_power rows in the metrics"
        return _Section("harmonics", "Connectome harmonics",
                        _absent(f"the recording was not decomposed into connectome harmonics ({reason})."))
    parts = []
    model = info.get("model") or {}
    decomposition = info.get("decomposition") or {}
    facts = []
    if model:
        facts.append(("Model", escape(f"{model.get('connectome', '?')}, {model.get('kind', '?')} Laplacian, "
                                      f"{model.get('n_modes', '?')} harmonics")))
    if decomposition:
        facts.append(("Sensor decomposition", escape(
            f"{decomposition.get('n_modes', '?')} lowest harmonics from {decomposition.get('n_sensors', '?')} "
            f"sensors; {decomposition.get('method', '')}")))
    if info.get("channel_matching"):
        facts.append(("Channels", escape(str(info["channel_matching"]))))
    if info.get("reference"):
        facts.append(("Reference", escape(str(info["reference"]))))
    if facts:
        parts.append(_facts(facts))
    parts.append('<div class="grid">')
    parts.append(_figure(figures.plot_harmonic_power, "Harmonic power spectrum", metrics, metric="harmonic_power",
                         caption="Mean power ⟨|a_k(t)|⟩ of each harmonic k, per band (Atasoy et al. 2017)."))
    parts.append(_figure(figures.plot_harmonic_power, "Harmonic energy spectrum", metrics, metric="harmonic_energy",
                         caption="Mean energy λ_k² ⟨|a_k(t)|²⟩ of each harmonic k, per band."))
    parts.append("</div>")
    summary = []
    for band in bands:
        row = [escape(band)]
        for metric in ("harmonic_total_energy", "harmonic_entropy", "harmonic_low_energy_fraction",
                       "harmonic_low_power_fraction"):
            values = metrics.loc[(metrics["metric"] == metric) & (metrics["band"] == band), "value"]
            row.append(_num(values.iloc[0]) if len(values) else "&ndash;")
        if any(cell != "&ndash;" for cell in row[1:]):
            summary.append(row)
    if summary:
        low = metrics.loc[metrics["metric"] == "harmonic_low_energy_fraction", "component"]
        n_low = escape(low.iloc[0]) if len(low) else "low harmonics"
        parts.append(_table(["band", "total energy (a.u.)", "repertoire entropy (bits)",
                             f"energy share of {n_low}", f"power share of {n_low}"], summary,
                            numeric=[False, True, True, True, True]))
    parts.append("<h3>First harmonics on the cortex</h3>")
    if harmonic_model is None:
        parts.append(_absent("the harmonics on the cortex (no harmonic model was given to the report)."))
    else:
        basis = harmonic_model.basis
        shown = [k for k in (1, 2, 3, 4, 5, 6) if k < basis.n_modes]
        if model and model.get("kind") not in (None, basis.kind):
            parts.append(f'<p class="absent">The model drawn ({escape(basis.kind)}) differs from the one used in '
                         f'the analysis ({escape(str(model.get("kind")))}).</p>')
        parts.append(_figure(figures.plot_harmonics, "Connectome harmonics on the cortex",
                             harmonic_model.connectome.mesh, basis, shown,
                             caption="Harmonics ψ1 to ψ6 seen from above (top) and from the left (bottom); "
                                     "red and blue are opposite signs, the sign itself is arbitrary."))
    return _Section("harmonics", "Connectome harmonics", "\n".join(parts))


def _proxy_note(params: Mapping, key: str) -> str | None:
    note = _get(params, "harmonics", "proxies", key)
    return note if isinstance(note, str) else None


def _proxies_reason(params: Mapping) -> str:
    info = params.get("harmonics") or {}
    if not info.get("computed"):
        return f"needs the connectome harmonics, which were not computed ({info.get('reason', 'no reason recorded')})"
    proxies = info.get("proxies") or {}
    if not proxies.get("computed"):
        return str(proxies.get("reason", "not computed"))
    return "no rows in the metrics"


def _cdns(metrics: pd.DataFrame, params: Mapping, bands: Sequence[str]) -> _Section:
    parts = [f'<dl class="defs">{_proxy_block(_PROXY["cdns"])}</dl>']
    if (metrics["metric"].str.startswith("cdns_")).any():
        parts.append("<h3>Channels</h3>")
        parts.append(_figure(figures.plot_cdns, "CDNS signature per band", metrics,
                             caption="Mean over channels of the CDNS of each channel's spectral peaks; error bars: "
                                     "standard deviation over channels."))
        rows = []
        for band in bands:
            cells = [escape(band)]
            for part in ("consonance", "dissonance", "noise", "valence"):
                values = metrics.loc[(metrics["metric"] == f"cdns_{part}") & (metrics["band"] == band), "value"]
                cells.append(f"{_num(values.mean())} ({values.notna().sum()})" if values.notna().any() else "&ndash;")
            rows.append(cells)
        parts.append(_table(["band", "consonance C", "dissonance D", "noise N", "valence C − D"], rows,
                            numeric=[False, True, True, True, True]))
        parts.append("<p><small>Mean over channels (number of channels with peaks in the band).</small></p>")
    else:
        parts.append(_absent("CDNS per channel: no cdns_* rows in the metrics."))
    parts.append("<h3>Harmonic signature</h3>")
    if (metrics["metric"] == "valence_proxy_consonance").any():
        parts.append(_figure(figures.plot_cdns, "CDNS of the harmonic signature", metrics, prefix="valence_proxy_",
                             caption="CDNS of the tones of the connectome harmonics (one value per band; the valence "
                                     "proxy is C − D, see Research proxies)."))
    else:
        parts.append(_absent(f"CDNS of the harmonic signature: {_proxies_reason(params)}."))
    return _Section("cdns", "Consonance, dissonance, noise (CDNS)", "\n".join(parts))


def _locking(metrics: pd.DataFrame, params: Mapping, arrays: Mapping, harmonic_model) -> _Section:
    parts = []
    if "plv" in arrays and "plv_bands" in arrays:
        names = [str(c) for c in np.asarray(arrays["ch_names"])] if "ch_names" in arrays else None
        plv = np.asarray(arrays["plv"])
        mode = "across epochs" if params.get("n_epochs") else "over time within the recording"
        parts.append(_figure(figures.plot_locking_matrices, "Phase locking between channels", plv,
                             [str(b) for b in np.asarray(arrays["plv_bands"])],
                             names if names is not None and len(names) == plv.shape[-1] else None,
                             caption=f"Phase-locking value between channel pairs, {mode}, per band. Sensor-level "
                                     "locking is inflated by volume conduction; compare conditions rather than "
                                     "reading absolute values."))
    else:
        skipped = _get(params, "filter_bank", "envelope_skipped_bands", default={}) or {}
        reason = "; ".join(f"{b}: {r}" for b, r in skipped.items()) or "no PLV matrices in the arrays"
        parts.append(_absent(f"channel phase locking ({reason})."))
    region_bands = [b for b in _band_names(params, metrics) if f"region_plv_{b}" in arrays]
    region_bands += sorted(k.removeprefix("region_plv_") for k in arrays
                           if k.startswith("region_plv_") and k.removeprefix("region_plv_") not in region_bands)
    parts.append("<h3>Between cortical regions</h3>")
    if region_bands:
        matrices = np.stack([np.asarray(arrays[f"region_plv_{b}"], dtype=float) for b in region_bands])
        labels = None
        if harmonic_model is not None and len(harmonic_model.connectome.region_labels) == matrices.shape[-1]:
            labels = list(harmonic_model.connectome.region_labels)
        parts.append(_figure(figures.plot_locking_matrices, "Phase locking between regions", matrices, region_bands,
                             labels,
                             caption="Phase-locking value between the time courses of the connectome's regions "
                                     "(harmonic reconstruction averaged over each region), as used by the trauma "
                                     "proxy."))
    else:
        parts.append(_absent(f"region locking: {_proxies_reason(params)}."))
    return _Section("locking", "Phase locking", "\n".join(parts))


def _energy(metrics: pd.DataFrame, params: Mapping, arrays: Mapping) -> _Section:
    proxy = _PROXY["energy_parameter"]
    detection = _get(params, "harmonics", "proxies", "energy_episodes") or {}
    parts = [f'<dl class="defs">{_proxy_block(proxy, _proxy_note(params, "energy_parameter"))}</dl>']
    if "energy" not in arrays or "energy_times" not in arrays:
        parts.append(_absent(f"the energy trace: {_proxies_reason(params)}."))
        return _Section("energy", "Energy parameter", "\n".join(parts))
    threshold = detection.get("threshold") if isinstance(detection, Mapping) else None
    baseline = detection.get("baseline") if isinstance(detection, Mapping) else None
    times, energy = np.asarray(arrays["energy_times"]), np.asarray(arrays["energy"])
    smooth_seconds = detection.get("smooth_seconds") if isinstance(detection, Mapping) else None
    smoothed = smoothed_trace(times, energy, float(smooth_seconds)) if smooth_seconds and times.size > 1 else None
    caption = ("Energy parameter in 1 s windows" + (f" (grey) and its {_num(smooth_seconds)}-s moving average "
                                                   "(black), the trace compared with the threshold"
                                                   if smoothed is not None else "")
               + "; detected episodes shaded, their peaks dashed.")
    parts.append(_figure(figures.plot_energy_trace, "Energy parameter over time", times, energy, metrics,
                         threshold=threshold, baseline=baseline, smoothed=smoothed, caption=caption))
    if isinstance(detection, Mapping) and detection:
        parts.append(f"<p>Detection: threshold = median + {_num(detection.get('threshold_mads'))} x 1.4826 MAD of "
                     f"the trace smoothed over {_num(detection.get('smooth_seconds'))} s; episodes shorter than "
                     f"{_num(detection.get('min_duration'))} s are dropped.</p>")
    elif not detection:
        parts.append('<p class="absent">Episode detection did not run (too few windows).</p>')
    table = figures._episode_table(metrics)
    if len(table):
        rows = metrics[metrics["metric"].str.startswith("energy_episode_")]
        tau = rows[rows["metric"] == "energy_episode_cooling_tau"].set_index("component")["value"]
        body = []
        for i, episode in enumerate(table.itertuples(), start=1):
            body.append([str(i), _num(episode.onset), _num(episode.peak_time), _num(episode.duration),
                         _num(tau.get(f"episode{i}", np.nan))])
        parts.append(_table(["episode", "onset (s)", "peak (s)", "duration (s)", "cooling tau (s)"], body,
                            numeric=[False, True, True, True, True]))
    elif isinstance(detection, Mapping) and detection:
        crossed = smoothed is not None and threshold is not None and bool(np.any(smoothed > threshold))
        parts.append("<p>" + (f"The smoothed trace rose above the threshold only for less than "
                              f"{_num(detection.get('min_duration'))} s at a time: no episode in this recording."
                              if crossed else "The smoothed trace never rose above the threshold: no episode in "
                              "this recording.") + "</p>")
    return _Section("energy", "Energy parameter", "\n".join(parts))


def _proxies(metrics: pd.DataFrame, params: Mapping, bands: Sequence[str]) -> _Section:
    parts = []
    columns = [("valence_proxy", "harmonic_signature", "valence V = C − D"),
               ("valence_proxy_octave_spread", "harmonic_signature", "valence spread (±1 octave)"),
               ("trauma_proxy", "combined", "trauma (combined, z)")]
    components = metrics.loc[metrics["metric"] == "trauma_proxy_component", "component"].unique().tolist()
    columns += [("trauma_proxy_component", c, escape(c.replace("_", " ")) + " (z)") for c in components]
    present = [c for c in columns if ((metrics["metric"] == c[0]) & (metrics["component"] == c[1])).any()]
    if present:
        rows = []
        for band in bands:
            cells = [escape(band)]
            for metric, component, _ in present:
                v = metrics.loc[(metrics["metric"] == metric) & (metrics["component"] == component)
                                & (metrics["band"] == band), "value"]
                cells.append(_num(v.iloc[0]) if len(v) else "&ndash;")
            rows.append(cells)
        parts.append(_table(["band"] + [label for *_, label in present], rows,
                            numeric=[False] + [True] * len(present)))
    else:
        parts.append(_absent(f"valence and trauma proxies: {_proxies_reason(params)}."))
    for name, reason in (_get(params, "harmonics", "proxies", "trauma_components_not_estimated") or {}).items():
        parts.append(f'<p class="absent">{escape(name)} not computed: {escape(str(reason))}.</p>')
    parts.append("<h3>Definitions</h3>")
    blocks = []
    present_metrics = set(metrics["metric"])
    for proxy in _PROXIES:
        status = "" if any(m.startswith(proxy.prefixes) for m in present_metrics) else "not computed for this recording"
        blocks.append(_proxy_block(proxy, _proxy_note(params, proxy.key), status))
    parts.append(f'<dl class="defs">{"".join(blocks)}</dl>')
    return _Section("proxies", "Research proxies", "\n".join(parts))


def _methods(params: Mapping) -> _Section:
    items = []
    psd = params.get("psd") or {}
    if psd:
        items.append(("Power spectrum", escape(
            f"{psd.get('method', '?')}, {psd.get('window', '')} window {psd.get('window_seconds', '?')} s, "
            f"resolution {psd.get('resolution', '?')} Hz, {psd.get('fmin', '?')}-{psd.get('fmax', '?')} Hz")))
    aperiodic = params.get("aperiodic") or {}
    if aperiodic:
        items.append(("Aperiodic fit", escape(
            f"specparam, {aperiodic.get('aperiodic_mode', '')} mode over {aperiodic.get('freq_range', '')} Hz; "
            f"{aperiodic.get('reference', '')}")))
    filter_bank = params.get("filter_bank") or {}
    if filter_bank:
        items.append(("Filter bank", escape(f"{filter_bank.get('design', '')}; Hilbert {filter_bank.get('hilbert', '')}")))
        for band, reason in (filter_bank.get("envelope_skipped_bands") or {}).items():
            items.append((f"Envelope, PLV, LZ skipped for {band}", escape(str(reason))))
    for name, text in (params.get("estimators") or {}).items():
        items.append((name.replace("_", " "), escape(str(text))))
    decomposition = _get(params, "harmonics", "decomposition") or {}
    if decomposition:
        items.append(("Harmonic decomposition", escape(
            f"{decomposition.get('method', '')}; regularisation {_num(decomposition.get('alpha_relative'))} "
            f"(relative); reference {decomposition.get('reference', '')}")))
    if not items:
        return _Section("methods", "Methods", _absent("no parameters recorded."))
    return _Section("methods", "Methods", _facts(items))


def analysis_report(
    metrics: pd.DataFrame,
    params: Mapping,
    arrays: Mapping[str, np.ndarray],
    *,
    title: str | None = None,
    harmonic_model=None,
) -> str:
    """HTML report of one analysed recording.

    Parameters
    ----------
    metrics : DataFrame
        Tidy metric rows (``metrics.csv``: ``session, metric, band, component,
        value, unit``).
    params : mapping
        The analysis parameters (``params.json``).
    arrays : mapping of str to ndarray
        The arrays of the analysis (``arrays.npz``): ``psd_freqs``, ``psd``,
        ``ch_names``, ``plv``, ``plv_bands``, ``harmonic_eigenvalues``,
        ``region_plv_<band>``, ``energy_times``, ``energy``; any may be
        missing. Only the keys drawn are read (an open ``numpy.load`` file works).
    title : str | None
        Page title (default ``"harmonix report: <session>"``).
    harmonic_model : HarmonicModel | None
        When given, the first harmonics are drawn on its cortex and region
        locking matrices are labelled with its region names.

    Returns
    -------
    html : str
        A complete, self-contained HTML document (figures as ``data:`` URIs,
        no scripts, no external resources).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"session": "s1", "metric": "band_power", "band": "alpha",
    ...                      "component": ["Fz", "Cz", "Pz", "Oz"], "value": [1e-11, 2e-11, 3e-11, 4e-11],
    ...                      "unit": "V^2"})
    >>> page = analysis_report(rows, {"session": "s1"}, {})
    >>> page.startswith("<!DOCTYPE html>"), "research proxy, not a diagnosis" in page
    (True, True)
    """
    from harmonix.report.conditions import conditions_section, steady_state_section

    every_row = _tidy(metrics)
    # The figures and tables below describe the whole recording; conditions get sections of their own.
    metrics = every_row[every_row["condition"] == ""] if "condition" in every_row.columns else every_row
    params = dict(params or {})
    arrays = arrays if arrays is not None else {}
    bands = _band_names(params, metrics)
    session = params.get("session") or (str(metrics["session"].iloc[0]) if "session" in metrics and len(metrics)
                                        else "recording")
    title = title or f"harmonix report: {session}"
    subtitle_parts = ["Analysis of one recording"]
    if params.get("duration_s") is not None:
        subtitle_parts.append(f"{_num(params['duration_s'], 4)} s")
    if params.get("channels_analysed") is not None:
        subtitle_parts.append(f"{len(params['channels_analysed'])} channels")
    sections = [
        _overview(metrics, params, arrays, bands),
        _spectra(metrics, params, arrays),
        _harmonics(metrics, params, arrays, harmonic_model, bands),
        _cdns(metrics, params, bands),
        _locking(metrics, params, arrays, harmonic_model),
        _energy(metrics, params, arrays),
        _proxies(metrics, params, bands),
        conditions_section(every_row, params, bands),
        steady_state_section(every_row, params),
        _methods(params),
    ]
    sections = [section for section in sections if section is not None]
    return _page(title, escape(", ".join(subtitle_parts)), sections, _provenance(params),
                 issues=_issues_html(_analysis_issues(params)))


def _analysis_issues(params: Mapping) -> list[str]:
    """What qualifies the numbers of one analysis: data-quality warnings, mains, proxies withheld."""
    lines = [str(line) for line in (_get(params, "quality", "warnings") or [])]
    mains = params.get("line_noise") or {}
    if mains.get("detected_hz"):
        notch = mains.get("notch") or {}
        removed = (f"removed by a notch at {', '.join(f'{f:g}' for f in notch.get('freqs_hz', []))} Hz"
                   if notch.get("applied") else "not removed")
        lines.append(f"{mains.get('summary', 'mains interference detected')}; {removed}")
    proxies = ((params.get("harmonics") or {}).get("proxies") or {})
    if proxies.get("computed") is False and "plausibility" in str(proxies.get("reason", "")):
        lines.append(f"research proxies not computed: {proxies['reason']}")
    return lines


def write_analysis_report(folder: str | os.PathLike, *, harmonic_model=None) -> Path:
    """Read an ``harmonix analyze`` output folder and write its ``report.html``.

    Parameters
    ----------
    folder : path
        Folder holding ``metrics.csv``, ``params.json`` and (optionally)
        ``arrays.npz``.
    harmonic_model : HarmonicModel | None
        Passed to :func:`analysis_report`.

    Returns
    -------
    path : Path
        ``folder / "report.html"``, written atomically (a temporary file in
        the folder, then renamed), so an interrupted run leaves no partial report.

    Raises
    ------
    InputFileError
        The folder or its ``metrics.csv``/``params.json`` is missing, unreadable
        or not what ``harmonix analyze`` writes, or ``arrays.npz`` is damaged
        (one line naming the file and the problem).
    OutputError
        The report cannot be written.
    """
    from harmonix.compare.sessions import read_analysis, read_arrays_file

    folder = Path(folder)
    for path in (folder / "metrics.csv", folder / "params.json"):
        if not path.is_file():
            raise InputFileError(f"{path}: not found; give a folder written by `harmonix analyze`")
    # The same checks as every other reader of an analysis folder: a damaged file is named, never a traceback.
    metrics, params = read_analysis(folder)
    arrays_path = folder / "arrays.npz"
    arrays = read_arrays_file(arrays_path) if arrays_path.is_file() else {}
    return write_report_page(folder, analysis_report(metrics, params, arrays, harmonic_model=harmonic_model))
