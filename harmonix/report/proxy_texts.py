"""What a report says about each research proxy: its definition, the note that it is a proxy, its references.

One entry per proxy (CDNS signature, valence, trauma, energy parameter), in
the words the analysis and comparison reports print; the notes themselves
come from the proxy modules (``PROXY_NOTE`` of :mod:`harmonix.proxies.valence`,
:mod:`~harmonix.proxies.trauma` and :mod:`~harmonix.proxies.energy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from harmonix.proxies.energy import PROXY_NOTE as ENERGY_NOTE
from harmonix.proxies.trauma import PROXY_NOTE as TRAUMA_NOTE
from harmonix.proxies.valence import PROXY_NOTE as VALENCE_NOTE
from harmonix.report.page import RESEARCH_PROXY_NOTE

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
