"""Self-contained HTML reports of an analysis and of a pre/post comparison.

A report is one HTML file: figures are PNG images embedded as ``data:`` URIs,
the style sheet is inline, and there is no script, so it opens offline in any
browser and can be mailed or archived as is. Text is built from templates with
every value from the data passed through :func:`html.escape`.

:func:`analysis_report` renders the outputs of ``harmonix analyze`` (the tidy
``metrics.csv`` rows, ``params.json`` and ``arrays.npz``);
:func:`write_analysis_report` reads an output folder and writes its
``report.html`` atomically; :func:`comparison_report` renders the table of
:func:`harmonix.compare.compare_tables`. Every section is optional: when the
analysis lacks a piece (no harmonics, a recording too short for the proxies,
epoched data, channels without positions) the report says why in one line.

Every proxy (CDNS, valence, trauma, energy parameter) is shown with its
definition and the note that it is a research proxy, not a diagnosis.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harmonix import __version__
from harmonix.compare.tables import methods_sentence
from harmonix.errors import HarmonixError, InputFileError, OutputError
from harmonix.proxies.energy import PROXY_NOTE as ENERGY_NOTE
from harmonix.proxies.energy import smoothed_trace
from harmonix.proxies.trauma import PROXY_NOTE as TRAUMA_NOTE
from harmonix.proxies.valence import PROXY_NOTE as VALENCE_NOTE
from harmonix.report import figures

__all__ = ["RESEARCH_PROXY_NOTE", "analysis_report", "comparison_report", "write_analysis_report"]

logger = logging.getLogger(__name__)

RESEARCH_PROXY_NOTE = "research proxy, not a diagnosis"
"""The words every proxy carries in a report."""

REPORT_NAME = "report.html"
"""File name of the report in an analysis output folder."""

TABLE_ROWS = 200
"""Most rows of a comparison shown in the HTML table (all rows are in ``comparison.csv``)."""

FOREST_ROWS = 30
"""Rows in the forest plot of a comparison."""

Q_THRESHOLD = 0.05
"""FDR level at which comparison rows are highlighted."""

_DPI = 100

_BANNER = (
    "harmonix reports documented estimators, each with its formula and reference. The proxies "
    "(CDNS signature, valence, trauma, energy parameter) operationalise hypotheses of the Neural Annealing "
    "framework and the Symmetry Theory of Valence: each is a <strong>research proxy, not a diagnosis</strong>, "
    "and none has been validated for clinical use."
)


@dataclass(frozen=True)
class _Proxy:
    key: str
    title: str
    prefixes: tuple[str, ...]
    definition: str
    note: str
    references: str


_PROXIES = (
    _Proxy(
        "cdns", "CDNS signature (consonance, dissonance, noise)", ("cdns_",),
        "Per channel and band, the specparam peaks of the spectrum are taken as tones, shifted by whole octaves so "
        "that the band's centre lies near middle C, and expanded into harmonic partials. Consonance C: harmonicity, "
        "the share of one harmonic series that the peaks occupy. Dissonance D: Plomp-Levelt roughness in Sethares' "
        "parameterisation, scaled so that a middle-C minor second scores 0.25. Noise N: aperiodic share of the "
        "model power in the band. Valence C − D.",
        f"{RESEARCH_PROXY_NOTE}: CDNS has no public specification; this is harmonix's own CDNS-style signature",
        "Gomez Emilsson 2017 (CDNS); Plomp & Levelt 1965; Sethares 1993; Gill & Purves 2009",
    ),
    _Proxy(
        "valence", "Valence proxy", ("valence_proxy",),
        "Per band, each connectome harmonic k contributes one tone: its dominant frequency in the band and the "
        "amplitude of the sinusoid carrying its power. The CDNS of these tones (octave-shifted to middle C) gives "
        "C, D and N; the proxy is V = C − D, with its spread over a shift of one octave up or down "
        "(valence_proxy_octave_spread).",
        VALENCE_NOTE, "Johnson 2016 (Symmetry Theory of Valence); Gomez Emilsson 2017 (CDNS)",
    ),
    _Proxy(
        "trauma", "Trauma proxy", ("trauma_proxy",),
        "Per band, the mean of components z-scored against phase-randomised surrogates, signed so that positive "
        "is trauma-like: low_harmonic_deficit (-z of the share of power in the lowest harmonics), "
        "regional_decoupling (-z of the mean phase locking between the 76 regions), golden_ratio_regime "
        "(z of how close the regions' dominant frequency ratios are to the golden ratio; one value from the "
        "whole spectrum, band 'broadband') and cshw_rshw_decoupling (needs vertex-level activity; not computed "
        "for sensor EEG). Reading the numbers: each z is a paired t statistic of the recording's windows against "
        "phase-randomised surrogates of the same windows (null: same power spectrum per channel, no phase "
        "structure), so its size grows with the number of windows, and any real EEG is far from its surrogates: "
        "on the shared EEGMMIDB recordings the combined score lies between -40 and -90 per band and "
        "low_harmonic_deficit reaches -210. A large negative value says that the recording is structured, not "
        "that someone is well; the proxy is meant for comparing sessions of the same person recorded and "
        "analysed alike (harmonix compare), not for reading one value on its own.",
        TRAUMA_NOTE, "Johnson 2019 (Neural Annealing); Atasoy et al. 2017",
    ),
    _Proxy(
        "energy_parameter", "Energy parameter and annealing episodes", ("energy_parameter", "energy_episode"),
        "E(t) = Σ_k λ_k² ⟨|a_k(t)|²⟩ in 1 s windows (λ_k the eigenvalue and a_k(t) the coefficient of harmonic "
        "k, broadband). Episodes are stretches where the smoothed trace exceeds "
        "median(E) + c * 1.4826 * MAD(E); each has an onset, a peak, a duration and the time constant tau of an "
        "exponential fit to its cool-down.",
        ENERGY_NOTE, "Atasoy et al. 2017, Sci Rep 7:17661; Johnson 2019 (Neural Annealing)",
    ),
)

_PROXY = {p.key: p for p in _PROXIES}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0 auto;
       max-width: 1180px; padding: 0 1.2em 2em; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6em; margin: 0.8em 0 0.1em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #ddd; padding-bottom: 0.15em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
.subtitle { color: #555; margin: 0 0 0.8em; }
.note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 0.6em 0.9em; margin: 0.8em 0; }
.issues { background: #fdecea; border-left: 4px solid #c0392b; padding: 0.6em 0.9em; margin: 0.8em 0; }
.issues ul { margin: 0.3em 0 0; }
.absent { color: #666; font-style: italic; }
nav { font-size: 0.92em; margin: 0.6em 0; }
nav a { margin-right: 0.9em; color: #1f5f99; text-decoration: none; }
figure { margin: 0.6em 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.88em; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 0.8em; align-items: start; }
table { border-collapse: collapse; font-size: 0.86em; margin: 0.5em 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.2em 0.55em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sig td { background: #fdecea; font-weight: 600; }
#results { font-size: 0.8em; }
#results td:last-child { min-width: 12em; }
table.facts th { white-space: nowrap; }
.tag { font-size: 0.75em; background: #fff8e1; border: 1px solid #f0b429; border-radius: 3px; padding: 0 0.3em;
       margin-left: 0.3em; font-weight: normal; white-space: nowrap; }
dl.defs dt { font-weight: 600; margin-top: 0.6em; }
dl.defs dd { margin-left: 1.2em; }
.proxy-note { color: #8a5a00; }
.scroll { overflow-x: auto; }
footer { margin-top: 2.5em; border-top: 1px solid #ddd; padding-top: 0.6em; color: #555; font-size: 0.85em; }
code { font-size: 0.92em; }
"""

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="harmonix $version">
<link rel="icon" href="data:,">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header>
<h1>$title</h1>
<p class="subtitle">$subtitle</p>
</header>
<div class="note">$banner</div>
$issues
<nav>$toc</nav>
<main>
$sections
</main>
<footer>
$footer
</footer>
</body>
</html>
""")


# ---------------------------------------------------------------------------
# small HTML helpers


@dataclass(frozen=True)
class _Section:
    id: str
    title: str
    body: str


def _num(value, digits: int = 3) -> str:
    """A number with ``digits`` significant digits; an en dash when missing."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "&ndash;"
    return f"{x:.{digits}g}" if np.isfinite(x) else "&ndash;"


def _absent(text: str) -> str:
    return f'<p class="absent">Not shown: {escape(text)}</p>'


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight", pad_inches=0.05, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(build: Callable[..., Figure], alt: str, *args, caption: str = "", **kwargs) -> str:
    """Build a figure and embed it; a missing input becomes a one-line note instead of an error.

    :class:`~harmonix.errors.HarmonixError` (input that lacks what the figure
    draws) is reported as "not shown"; any other error is logged with its
    traceback and reported as "could not be drawn", so that one bad figure
    does not cost the whole report.
    """
    try:
        fig = build(*args, **kwargs)
    except HarmonixError as err:
        return _absent(f"{alt}: {err}")
    except Exception as err:  # one figure must not cost the whole report; the traceback goes to the log
        logger.warning("report figure %r could not be drawn", alt, exc_info=True)
        return f'<p class="absent">{escape(alt)} could not be drawn ({escape(type(err).__name__)}: {escape(str(err))}).</p>'
    caption_html = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (f'<figure><img src="data:image/png;base64,{_png(fig)}" alt="{escape(alt)}">'
            f"{caption_html}</figure>")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[bool] | None = None,
           row_classes: Sequence[str] | None = None, table_id: str | None = None) -> str:
    """An HTML table; cells are HTML already (escape text before)."""
    numeric = numeric or [False] * len(header)
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="num">{c}</td>' if num else f"<td>{c}</td>" for c, num in zip(row, numeric))
        body.append(f"<tr{cls}>{cells}</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _facts(items: Sequence[tuple[str, str]]) -> str:
    """Two-column table of (label, HTML value)."""
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in items)
    return f"<table class=\"facts\"><tbody>{rows}</tbody></table>"


def _get(mapping, *keys, default=None):
    """``mapping[k1][k2]...`` or ``default`` when a level is missing."""
    for key in keys:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return default
        mapping = mapping[key]
    return mapping


def _proxy_block(proxy: _Proxy, note: str | None = None, status: str = "") -> str:
    note = note or proxy.note
    status_html = f' <span class="absent">({escape(status)})</span>' if status else ""
    return (f"<dt>{escape(proxy.title)}{status_html}</dt>"
            f"<dd>{escape(proxy.definition)}<br><span class=\"proxy-note\">Note: {escape(note)}.</span>"
            f"<br>References: {escape(proxy.references)}.</dd>")


def _proxies_for(metric_names) -> list[_Proxy]:
    names = [str(m) for m in metric_names]
    return [p for p in _PROXIES if any(n.startswith(p.prefixes) for n in names)]


def _is_proxy_metric(metric: str) -> bool:
    return any(metric.startswith(p.prefixes) for p in _PROXIES)


def _provenance(params: Mapping) -> str:
    lines = [f"Report generated by harmonix {escape(__version__)}."]
    versions = params.get("versions") if isinstance(params, Mapping) else None
    if isinstance(versions, Mapping) and versions:
        lines.append("Versions used by the analysis: "
                     + ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in versions.items()) + ".")
    command = params.get("command") if isinstance(params, Mapping) else None
    if command:
        lines.append(f"Command: <code>{escape(str(command))}</code>")
    sha = _get(params, "input", "sha256")
    if isinstance(sha, Mapping):
        for path, digest in sha.items():
            lines.append(f"Input <code>{escape(str(path))}</code> SHA-256 <code>{escape(str(digest))}</code>")
    return "<br>\n".join(lines)


def _page(title: str, subtitle: str, sections: Sequence[_Section], footer: str, issues: str = "") -> str:
    toc = "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in sections)
    body = "\n".join(f'<section id="{s.id}">\n<h2>{escape(s.title)}</h2>\n{s.body}\n</section>' for s in sections)
    return _PAGE.substitute(version=escape(__version__), title=escape(title), subtitle=subtitle, css=_CSS,
                            banner=_BANNER, issues=issues, toc=toc, sections=body, footer=footer)


# ---------------------------------------------------------------------------
# analysis report


def _tidy(metrics: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(metrics, pd.DataFrame):
        raise InputFileError(f"metrics: expected a DataFrame of tidy metric rows, got {type(metrics).__name__}")
    missing = [c for c in ("metric", "band", "component", "value") if c not in metrics.columns]
    if missing:
        raise InputFileError(f"metrics: missing column(s) {', '.join(missing)}; expected the rows of metrics.csv")
    out = metrics.copy()
    for column in ("condition", "metric", "band", "component", "unit"):
        if column in out.columns:
            out[column] = out[column].fillna("").astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    return out


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
        try:
            _, positioned = figures._positioned_info(channels, montage)
        except HarmonixError as err:
            positioned = []
            logger.info("no montage %s: %s", montage, err)
        unplaced = [c for i, c in enumerate(channels) if i not in set(positioned)]
        placement = (f"Electrode positions from the {escape(montage)} template, matched by channel name"
                     + (f"; without a position and left out: {escape(', '.join(unplaced))}." if unplaced else "."))
        parts.append("<h3>Band power on the scalp</h3>")
        parts.append(_figure(figures.plot_band_topomaps, "Absolute band power", metrics, metric="band_power",
                             montage=montage, scale=1e12, log=True, unit="dB re 1 µV²",
                             caption="Absolute band power, 10 log10 of µV². " + placement))
        if (metrics["metric"] == "band_power_relative").any():
            parts.append(_figure(figures.plot_band_topomaps, "Relative band power", metrics,
                                 metric="band_power_relative", montage=montage, scale=100.0, unit="% of total",
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
    quality = params.get("quality") or {}
    # in memory a RecordingCheck, read back from params.json a dict
    found = quality.get("warnings") if isinstance(quality, Mapping) else getattr(quality, "warnings", ())
    lines = [str(line) for line in (found or [])]
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


def _atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and :func:`os.replace`.

    The temporary file is created with mode 0o666 less the umask, like any new
    file (:func:`tempfile.mkstemp` would make the report private, 0o600).
    """
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    else:
        raise OutputError(f"{path}: cannot create a temporary file beside it")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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


def write_report_page(folder: Path, page: str) -> Path:
    """Write ``page`` as ``folder / REPORT_NAME``, atomically; an unwritable folder is an :class:`OutputError`."""
    target = folder / REPORT_NAME
    try:
        _atomic_write_text(target, page)
    except OSError as err:
        raise OutputError(f"{target}: cannot write the report ({err})") from err
    return target


# ---------------------------------------------------------------------------
# comparison report


def _issues_html(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{escape(str(line))}</li>" for line in lines)
    return f'<div class="issues"><strong>Check before reading the results:</strong><ul>{items}</ul></div>'


def _breakable(text: str) -> str:
    """Escaped ``text`` that may wrap after underscores (long metric names), never inside a word."""
    return escape(text).replace("_", "_<wbr>")


def _comparison_cells(row) -> list[str]:
    metric = _breakable(str(row.metric))
    if _is_proxy_metric(str(row.metric)):
        metric += '<span class="tag">research proxy</span>'
    kind = escape(str(getattr(row, "effect_size_kind", "") or ""))
    effect = _num(row.effect_size) + (f" <small>{kind}</small>" if kind and np.isfinite(float(row.effect_size))
                                      else "")
    ci = f"[{_num(row.ci_low)}, {_num(row.ci_high)}]" if np.isfinite(float(row.ci_low)) else "&ndash;"
    return [metric, escape(str(row.band)), _breakable(str(row.component)), escape(str(row.n)), _num(row.mean_pre),
            _num(row.mean_post), _num(row.difference), ci, effect, _num(row.p), _num(row.q),
            escape(str(getattr(row, "unit", "") or "")), escape(str(getattr(row, "note", "") or ""))]


def _clean_comparison(comparison: pd.DataFrame) -> pd.DataFrame:
    figures._check_comparison(comparison, ("metric", "band", "component", "n", "mean_pre", "mean_post",
                                           "difference", "effect_size", "ci_low", "ci_high", "p", "q"))
    out = comparison.copy()
    for column in ("metric", "band", "component"):
        out[column] = out[column].fillna("").astype(str)
    for column in ("mean_pre", "mean_post", "difference", "effect_size", "ci_low", "ci_high", "p", "q"):
        out[column] = pd.to_numeric(out[column], errors="coerce")
    return out


def comparison_report(
    comparison: pd.DataFrame,
    sessions: pd.DataFrame,
    params: Mapping,
    *,
    title: str | None = None,
    issues: Sequence[str] = (),
) -> str:
    """HTML report of a pre/post comparison.

    Parameters
    ----------
    comparison : DataFrame
        Table from :func:`harmonix.compare.compare_tables`
        (:data:`~harmonix.compare.tables.COMPARISON_COLUMNS` then ``unit, n_pre,
        n_post, hedges_g, design, note``); ``attrs['unpaired_subjects']`` and
        ``attrs['parameters']`` are shown when present.
    sessions : DataFrame
        One row per recording with columns ``subject``, ``session`` (label,
        e.g. ``'pre'``/``'post'``), ``condition`` and ``path``.
    params : mapping
        Parameters of the comparison run; ``versions`` and ``command`` go to
        the footer, the other entries to the parameter table.
    title : str | None
        Page title (default ``"harmonix comparison"``).
    issues : sequence of str
        Problems to show prominently at the top (e.g. ``"sub-03: pre without
        post"``); subjects listed in ``attrs['unpaired_subjects']`` are added.

    Returns
    -------
    html : str
        A self-contained HTML document: summary, forest plot of the rows with
        the lowest q, the table of at most :data:`TABLE_ROWS` rows (rows with
        ``q <`` :data:`Q_THRESHOLD` highlighted), the harmonic spectrum
        before and after, and the definitions of the proxies compared.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"metric": ["band_power", "valence_proxy"], "band": "alpha",
    ...                       "component": ["Cz", "harmonic_signature"], "n": 8, "mean_pre": [1.0, 0.1],
    ...                       "mean_post": [2.0, 0.1], "difference": [1.0, 0.0], "effect_size": [1.5, 0.0],
    ...                       "ci_low": [0.5, -0.1], "ci_high": [1.5, 0.1], "p": [0.001, 0.9], "q": [0.002, 0.9]})
    >>> sessions = pd.DataFrame({"subject": ["s1", "s1"], "session": ["pre", "post"], "condition": "",
    ...                          "path": ["a.edf", "b.edf"]})
    >>> page = comparison_report(table, sessions, {})
    >>> page.count('<tr class="sig">'), "research proxy, not a diagnosis" in page
    (1, True)
    """
    table = _clean_comparison(comparison)
    sessions = sessions if isinstance(sessions, pd.DataFrame) else pd.DataFrame(sessions)
    params = dict(params or {})
    stats_params = dict(comparison.attrs.get("parameters") or {})
    issue_lines = [str(line) for line in issues]
    unpaired = comparison.attrs.get("unpaired_subjects") or {}
    for key, text in (("pre_only", "pre without post"), ("post_only", "post without pre")):
        for subject in unpaired.get(key, []) or []:
            if not any(str(subject) in line for line in issue_lines):
                issue_lines.append(f"{subject}: {text}")

    tested = np.isfinite(table["p"].to_numpy(dtype=float))
    significant = (table["q"] < Q_THRESHOLD).to_numpy()
    designs = sorted(set(table["design"].dropna().astype(str))) if "design" in table else []
    if len(designs) == 1 and stats_params.get("design") != designs[0]:
        # the table's own rows say how they were tested; parameters of another table must not describe them
        stats_params = {"design": designs[0]}
    design = stats_params.get("design") or (", ".join(designs) if designs else "unknown")

    facts = []
    if "subject" in sessions.columns:
        facts.append(("Subjects", str(sessions["subject"].astype(str).nunique())))
    if "session" in sessions.columns:
        counts = sessions["session"].astype(str).value_counts(sort=False)
        facts.append(("Recordings", escape(", ".join(f"{label}: {n}" for label, n in counts.items()))))
    if "condition" in sessions.columns:
        conditions = [c for c in sessions["condition"].fillna("").astype(str).unique() if c]
        if conditions:
            facts.append(("Conditions", escape(", ".join(conditions))))
    facts.append(("Design", escape(str(design))))
    facts.append(("Rows compared", f"{len(table)} ({table['metric'].nunique()} metrics)"))
    facts.append(("Rows tested", f"{int(tested.sum())}" + (f" ({int((~tested).sum())} could not be tested; "
                                                           "see the note column)" if (~tested).any() else "")))
    facts.append((f"q < {Q_THRESHOLD:g} (FDR)", f"<strong>{int(significant.sum())}</strong>"))
    facts.append(("Statistics", escape(methods_sentence(stats_params))))
    if "p_min" in table.columns and np.isfinite(pd.to_numeric(table["p_min"], errors="coerce")).any():
        facts.append(("Smallest attainable p", _num(float(pd.to_numeric(table["p_min"], errors="coerce").min()))))
    sections = [_Section("summary", "Summary", _facts(facts))]

    forest = _figure(figures.plot_comparison_forest, "Forest plot", table, FOREST_ROWS, Q_THRESHOLD,
                     caption=f"The {FOREST_ROWS} tested rows with the lowest q: effect size with the CI of the "
                             "difference in the same units (difference CI x effect size / difference). Red: "
                             f"q &lt; {Q_THRESHOLD:g}.")
    sections.append(_Section("forest", "Largest effects", forest))

    ordered = figures.most_significant(table)
    ordered = pd.concat([ordered, table[~tested]]).head(TABLE_ROWS)
    header = ["metric", "band", "component", "n", "mean pre", "mean post", "difference", "CI", "effect size",
              "p", "q", "unit", "note"]
    numeric = [False, False, False, True, True, True, True, True, True, True, True, False, False]
    rows = [_comparison_cells(r) for r in ordered.itertuples()]
    classes = ["sig" if q < Q_THRESHOLD else "" for q in ordered["q"].to_numpy(dtype=float)]
    shown = (f"<p>Highlighted: q &lt; {Q_THRESHOLD:g}. Showing {len(ordered)} of {len(table)} rows, lowest q first"
             + ("; the full table is <code>comparison.csv</code>." if len(ordered) < len(table) else ".") + "</p>")
    sections.append(_Section("table", "All results", shown + _table(header, rows, numeric=numeric,
                                                                   row_classes=classes, table_id="results")))

    spectra = []
    for metric in ("harmonic_power", "harmonic_energy"):
        if (table["metric"] == metric).any():
            spectra.append(_figure(figures.plot_pre_post_harmonic_spectrum, f"{metric} before and after", table,
                                   metric=metric, q_threshold=Q_THRESHOLD,
                                   caption=f"{metric.replace('_', ' ')} per harmonic before and after (top) and the "
                                           "difference with its CI (bottom); red dots: q &lt; "
                                           f"{Q_THRESHOLD:g}."))
    if not spectra:
        spectra.append(_absent("the harmonic spectrum: no harmonic_power rows (harmonics were not computed)."))
    sections.append(_Section("harmonics", "Harmonic spectrum before and after", "\n".join(spectra)))

    proxies = _proxies_for(table["metric"].unique())
    if proxies:
        body = f'<dl class="defs">{"".join(_proxy_block(p) for p in proxies)}</dl>'
    else:
        body = "<p>No proxy metric was compared.</p>"
    sections.append(_Section("proxies", "Research proxies", body))

    if len(sessions):
        columns = [c for c in ("subject", "session", "condition", "path") if c in sessions.columns]
        session_rows = [[escape("" if pd.isna(v) else str(v)) for v in r] for r in sessions[columns].itertuples(index=False)]
        sections.append(_Section("sessions", "Recordings", _table(columns, session_rows)))

    shown_params = {k: v for k, v in {**stats_params, **params}.items() if k not in ("versions", "command")}
    if shown_params:
        items = []
        for key, value in shown_params.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            items.append((str(key), escape(text if len(text) <= 400 else text[:400] + " ...")))
        sections.append(_Section("parameters", "Parameters", _facts(items)))

    title = title or "harmonix comparison"
    subtitle = escape(f"Pre/post comparison, {design} design")
    return _page(title, subtitle, sections, _provenance(params), issues=_issues_html(issue_lines))
