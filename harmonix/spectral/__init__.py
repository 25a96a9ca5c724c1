"""Spectral decomposition: bands, PSD, band power, aperiodic fits, filter bank, audio.

EEG: :func:`compute_psd` -> :func:`band_power` / :func:`peak_frequency` /
:func:`fit_aperiodic`; :func:`iter_analytic_blocks` gives the band-limited
analytic signal for phase estimators. Music: :func:`spectral_partials`,
:func:`modulation_spectrum` (tempo and pitch:
:mod:`harmonix.estimators.tempo`, :mod:`harmonix.estimators.pitch`).
"""

from __future__ import annotations

from harmonix.spectral.aperiodic import AperiodicFit, fit_aperiodic, peak_in_band
from harmonix.spectral.audio import (
    ModulationBandEnergy,
    ModulationSpectrum,
    Partials,
    modulation_band_energy,
    modulation_spectrum,
    onset_envelope,
    spectral_partials,
)
from harmonix.spectral.bandpower import BandPower, band_power, peak_frequency
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.filterbank import AnalyticBlock, analytic_signal, band_amplitude_stats, iter_analytic_blocks
from harmonix.spectral.psd import Spectrum, as_spectrum, compute_psd, psd_from_inst

__all__ = [
    "AnalyticBlock",
    "AperiodicFit",
    "Band",
    "BandPower",
    "ModulationBandEnergy",
    "ModulationSpectrum",
    "Partials",
    "Spectrum",
    "analytic_signal",
    "as_spectrum",
    "band_amplitude_stats",
    "band_power",
    "compute_psd",
    "fit_aperiodic",
    "iter_analytic_blocks",
    "load_bands",
    "modulation_band_energy",
    "modulation_spectrum",
    "onset_envelope",
    "peak_frequency",
    "peak_in_band",
    "psd_from_inst",
    "spectral_partials",
]
