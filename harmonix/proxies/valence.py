"""Valence proxy: consonance minus dissonance of the harmonic signature.

RESEARCH PROXY, NOT A DIAGNOSIS. The Symmetry Theory of Valence (Johnson 2016,
"Principia Qualia") and its CDNS operationalisation (Gómez Emilsson 2017)
propose that the valence of an experience tracks how consonant its brain
harmonics are. harmonix reads the *harmonic signature* of a recording in a
band as the set of tones (one per connectome harmonic ``k``)

.. math::

    \\big(f_k,\\; a_k\\big), \\quad f_k = \\arg\\max_{f \\in band} S_k(f), \\quad
    a_k = \\sqrt{2 \\int_{f_k - \\delta}^{f_k + \\delta} S_k(f)\\,df},

with :math:`S_k` the Welch PSD of harmonic ``k``'s coefficient time series
and :math:`\\delta` one frequency bin: each harmonic's dominant temporal
frequency and the amplitude of the sinusoid carrying its power. These tones,
octave-shifted so the band's reference lands near middle C, go through
:func:`harmonix.estimators.consonance.cdns`; the proxy is its valence
:math:`C - D`, reported with the octave-shift sensitivity. Noise ``N`` is the
share of band power outside the dominant peaks,
:math:`1 - \\sum_k \\int_{f_k \\pm \\delta} S_k / \\sum_k \\int_{band} S_k`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError
from harmonix.estimators.consonance import auto_octave_shift, cdns, octave_shift_sensitivity
from harmonix.spectral.bandpower import band_mask
from harmonix.spectral.bands import Band
from harmonix.spectral.psd import Spectrum, compute_psd

PROXY_NOTE = (
    "research proxy, not a diagnosis: consonance minus dissonance (CDNS, Gomez Emilsson 2017) of the connectome-"
    "harmonic signature, read as valence under the Symmetry Theory of Valence (Johnson 2016)"
)


@dataclass(frozen=True)
class ValenceProxy:
    """Valence proxy of one band (see the module docstring)."""

    band: str
    valence: float
    consonance: float
    dissonance: float
    noise: float
    octave_shift: int
    valence_spread: float
    freqs: np.ndarray
    amplitudes: np.ndarray
    params: dict = field(default_factory=dict)
    note: str = PROXY_NOTE


def harmonic_signature(spectrum: Spectrum, band: Band) -> tuple[np.ndarray, np.ndarray, float]:
    """Dominant frequency and amplitude of every harmonic in ``band``, and the noise share.

    Parameters
    ----------
    spectrum : Spectrum
        PSD of the harmonic coefficient time series (one row per harmonic).
    band : Band

    Returns
    -------
    freqs, amplitudes : ndarray, shape (n_modes,)
        Hz and coefficient units (amplitude of the equivalent sinusoid).
    noise : float
        Share of the band's power outside the dominant peaks (±1 bin).
    """
    mask = band_mask(spectrum, band)
    freqs, psd = spectrum.freqs[mask], spectrum.psd[:, mask]
    if freqs.size < 3:
        raise ParameterError(f"band {band.name!r} holds {freqs.size} frequency bins; need at least 3")
    df = spectrum.resolution
    peak = np.argmax(psd, axis=1)
    lo, hi = np.maximum(peak - 1, 0), np.minimum(peak + 2, freqs.size)
    peak_power = np.array([row[a:b].sum() * df for row, a, b in zip(psd, lo, hi)])
    total = psd.sum() * df
    noise = float(1.0 - peak_power.sum() / total) if total > 0 else float("nan")
    return freqs[peak], np.sqrt(2.0 * peak_power), noise


def valence_proxy(
    coefficients: np.ndarray,
    sfreq: float,
    bands: Sequence[Band],
    *,
    octave_shift: int | None = None,
    window_seconds: float = 4.0,
) -> list[ValenceProxy]:
    """Valence proxy per band from broadband harmonic coefficients.

    Parameters
    ----------
    coefficients : ndarray, shape (n_modes, n_times)
        Real harmonic coefficients over time (e.g. ``W @ eeg``).
    sfreq : float
    bands : sequence of Band
    octave_shift : int | None
        Whole octaves applied to the tones; ``None`` chooses, per band, the
        shift that brings the band's geometric centre nearest middle C
        (:func:`~harmonix.estimators.consonance.auto_octave_shift`).
    window_seconds : float
        Welch window for the harmonic spectra (at least two cycles of the
        lowest band edge, at most the recording).
    """
    coefficients = np.asarray(coefficients, dtype=float)
    if coefficients.ndim != 2:
        raise ParameterError(f"coefficients must be (n_modes, n_times), got shape {coefficients.shape}")
    fmin = min(b.fmin for b in bands)
    window = min(max(window_seconds, 2.0 / max(fmin, 0.25)), coefficients.shape[1] / sfreq)
    spectrum = compute_psd(coefficients, sfreq, fmin=fmin, fmax=max(b.fmax for b in bands), window_seconds=window)
    return valence_from_spectrum(spectrum, bands, octave_shift=octave_shift)


def valence_from_spectrum(spectrum: Spectrum, bands: Sequence[Band], *, octave_shift: int | None = None) -> list[ValenceProxy]:
    """Valence proxy per band from the PSD of the harmonic coefficients (one row per harmonic).

    What :func:`valence_proxy` computes after its Welch PSD; a streamed
    analysis (:func:`harmonix.pipeline.analyze_eeg`) accumulates that PSD
    block by block and calls this.
    """
    results = []
    for band in bands:
        freqs, amps, noise = harmonic_signature(spectrum, band)
        shift = auto_octave_shift(float(np.sqrt(max(band.fmin, 0.5) * band.fmax))) if octave_shift is None else int(octave_shift)
        signature = cdns(freqs, amps, noise=noise, octave_shift=shift)
        spread = octave_shift_sensitivity(freqs, amps, octave_shift=shift)
        results.append(ValenceProxy(
            band.name, signature.valence, signature.consonance, signature.dissonance, noise, shift,
            float(spread.valence_spread), freqs, amps, params={"cdns": signature.params, "psd": spectrum.params},
        ))
    return results
