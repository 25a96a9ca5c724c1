"""The page every harmonix report is built on: style, scaffold, small HTML helpers, the atomic write.

A report is one HTML file: figures are PNG images embedded as ``data:`` URIs,
the style sheet is inline, and there is no script, so it opens offline in any
browser and can be mailed or archived as is. Text is built from templates with
every value from the data passed through :func:`html.escape`. The analysis
report (:mod:`harmonix.report.html`), the comparison report
(:mod:`harmonix.report.comparison`), the music report
(:mod:`harmonix.report.music`) and the condition sections
(:mod:`harmonix.report.conditions`) share what is here.
"""

from __future__ import annotations

import base64
import io
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
from harmonix.errors import HarmonixError, InputFileError, OutputError

logger = logging.getLogger(__name__)

RESEARCH_PROXY_NOTE = "research proxy, not a diagnosis"
"""The words every proxy carries in a report."""

REPORT_NAME = "report.html"
"""File name of the report in an analysis output folder."""

_DPI = 100

_BANNER = (
    "harmonix reports documented estimators, each with its formula and reference. The proxies "
    "(CDNS signature, valence, trauma, energy parameter) operationalise hypotheses of the Neural Annealing "
    "framework and the Symmetry Theory of Valence: each is a <strong>research proxy, not a diagnosis</strong>, "
    "and none has been validated for clinical use."
)


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


def write_report_page(folder: Path, page: str) -> Path:
    """Write ``page`` as ``folder / REPORT_NAME``, atomically; an unwritable folder is an :class:`OutputError`."""
    target = folder / REPORT_NAME
    try:
        _atomic_write_text(target, page)
    except OSError as err:
        raise OutputError(f"{target}: cannot write the report ({err})") from err
    return target


def _issues_html(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{escape(str(line))}</li>" for line in lines)
    return f'<div class="issues"><strong>Check before reading the results:</strong><ul>{items}</ul></div>'


def _breakable(text: str) -> str:
    """Escaped ``text`` that may wrap after underscores (long metric names), never inside a word."""
    return escape(text).replace("_", "_<wbr>")
