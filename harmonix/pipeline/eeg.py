"""The EEG analysis: one streaming pass through the filter bank feeds every estimator.

:func:`analyze_eeg` reads the recording span by span and block by block
(an unloaded ``mne.io.Raw`` is read segment by segment; epochs one at a
time). Each block goes once through the filter bank
(:func:`harmonix.spectral.filterbank.iter_analytic_blocks`) and every
estimator accumulates what it needs from it: Welch segments, envelope
moments, Lempel-Ziv windows, phase-locking sums, harmonic coefficients and
their region means, the energy trace, the regions' spectra, the
trauma proxy's null windows (:mod:`harmonix.estimators.accumulators`,
:mod:`harmonix.spectral.segments`, :mod:`harmonix.proxies.trauma`). Memory is
set by the block length, not the duration. The harmonic decomposition's
regularisation needs the sensors' second moment before the pass, so when a
harmonic model is given the samples are read once more, without filtering.

Conditions (trials from events, :mod:`harmonix.io.conditions`) are parts of
the same stream: their samples are routed to accumulators of their own in the
same pass, and every metric gets a ``condition`` (empty for the whole
recording).
"""

from __future__ import annotations

from collections.abc import Sequence

import mne
import numpy as np
from threadpoolctl import threadpool_limits

from harmonix.errors import ChannelError, ParameterError
from harmonix.estimators.accumulators import (
    AmplitudeMoments,
    PhaseLockingSum,
    TrialPhaseLockingSum,
    WindowedLempelZiv,
    real_matrix_apply,
)
from harmonix.estimators.complexity import spectral_entropy
from harmonix.estimators.consonance import cdns_of_aperiodic_fit
from harmonix.estimators.lagged_coupling import CrossSpectrumSum, LagLockingSum
from harmonix.harmonics.connectome import homotopic_pairs
from harmonix.harmonics.crosstalk import DEFINITION as CROSSTALK_DEFINITION
from harmonix.harmonics.crosstalk import (
    crosstalk_shares,
    explained_by,
    lagged_pair_fit,
    pair_leakage,
    region_modes,
    region_responses,
)
from harmonix.harmonics.decompose import DEFAULT_SENSOR_MODES, harmonic_spectrum, match_channels, sensor_decomposition
from harmonix.harmonics.model import HarmonicModel
from harmonix.io.channels import channel_positions
from harmonix.pipeline.layout import (
    RecordingLayout,
    check_block_finite,
    condition_intervals,
    recording_layout,
    scan_second_moment,
)
from harmonix.pipeline.mains import mains_layout
from harmonix.pipeline.result import Analysis, resolvable_bands
from harmonix.progress import report_stage
from harmonix.proxies.energy import PROXY_NOTE as ENERGY_NOTE
from harmonix.proxies.energy import detect_episodes
from harmonix.proxies.trauma import PROXY_NOTE as TRAUMA_NOTE
from harmonix.proxies.trauma import TraumaAccumulator, null_windows
from harmonix.proxies.valence import PROXY_NOTE as VALENCE_NOTE
from harmonix.proxies.valence import valence_from_spectrum
from harmonix.spectral.aperiodic import fit_aperiodic, peak_in_band
from harmonix.spectral.bandpower import band_power, peak_frequency
from harmonix.spectral.bands import MIN_CYCLES, Band, load_bands
from harmonix.spectral.filterbank import DEFAULT_CHUNK_SECONDS, AnalyticBlock, design_band_filter, iter_analytic_blocks
from harmonix.spectral.psd import Spectrum
from harmonix.spectral.segments import WelchAccumulator, WindowMeans, spread_evenly, tile_windows
from harmonix.tables import MetricRows

APERIODIC_RANGE = (1.0, 45.0)
"""Default frequency range (Hz) of the specparam fit; matches the default bands."""

WHOLE_SPECTRUM_COMPONENTS = ("golden_ratio_regime",)
"""Trauma-proxy components computed once per recording (not per band)."""

MIN_PROXY_SECONDS = 20.0
"""Shortest continuous recording for which the research proxies are computed."""

COMPARE_WINDOW_SECONDS = 4.0
"""Shortest window (s) whose band power is kept for within-recording comparisons."""

LZ_WINDOW_SECONDS = 4.0
"""Window (s) of the Lempel-Ziv complexity (an epoch shorter than this is one window)."""

MAX_LZ_WINDOWS = 60
"""Lempel-Ziv windows per recording or condition, spread evenly (all when fewer): the LZ76 parse
is the costliest estimator per sample, and 60 windows pin the mean down far below its spread."""

ENERGY_WINDOW_SECONDS = 1.0
"""Averaging window (s) of the energy-parameter trace."""

APERIODIC_SETTINGS = {"max_n_peaks": 6, "peak_width_limits": (1.0, 8.0), "min_peak_height": 0.1, "aperiodic_mode": "fixed"}
"""specparam settings used by :func:`analyze_eeg` (recorded in ``params.json``)."""


class _Part:
    """The accumulators of one part of the stream: the whole recording, or one condition."""

    def __init__(self, name: str, intervals: np.ndarray, layout: RecordingLayout, *, n_filter_bands: int,
                 nperseg: int, psd_method: str, lz_length: int, n_modes: int, n_regions: int,
                 group_length: int | None = None, group_bands: Sequence[Band] = (),
                 region_pairs: np.ndarray | None = None) -> None:
        self.name, self.intervals = name, intervals
        n_ch, epoched = layout.n_channels, layout.epoched
        overlap = 0.5 if psd_method == "welch" else 0.0
        self.welch = WelchAccumulator(n_ch, layout.sfreq, intervals, nperseg, overlap, group_length=group_length,
                                      group_bands=group_bands, method=psd_method)
        self.envelope = AmplitudeMoments(n_filter_bands, n_ch, per_span=epoched)
        self.lz = WindowedLempelZiv(spread_evenly(tile_windows(intervals, lz_length), MAX_LZ_WINDOWS), lz_length,
                                    n_filter_bands, n_ch)
        self.plv = (TrialPhaseLockingSum(n_filter_bands, n_ch, layout.longest_span) if epoched
                    else PhaseLockingSum(n_filter_bands, n_ch))
        self.harmonic = AmplitudeMoments(n_filter_bands, n_modes) if n_modes else None
        self.region_plv = PhaseLockingSum(n_filter_bands, n_regions) if n_regions and not epoched else None
        self.region_lag = (LagLockingSum(n_filter_bands, region_pairs)
                           if region_pairs is not None and len(region_pairs) and not epoched else None)
        self.harmonic_cross = CrossSpectrumSum(n_filter_bands, n_modes) if self.region_lag is not None else None
        self.energy_sum, self.energy_count = 0.0, 0

    def selection(self, start: int, n: int) -> slice | np.ndarray | None:
        """The block's samples in this part: all (a slice), some (indices) or none."""
        stop = start + n
        first = int(np.searchsorted(self.intervals[:, 1], start, side="right"))
        last = int(np.searchsorted(self.intervals[:, 0], stop, side="left"))
        if first >= last:
            return None
        pieces = [(max(a, start) - start, min(b, stop) - start) for a, b in self.intervals[first:last]]
        if len(pieces) == 1 and pieces[0] == (0, n):
            return slice(None)
        return np.concatenate([np.arange(a, b) for a, b in pieces])

    def feed(self, start: int, block: AnalyticBlock, band_ok: np.ndarray, coefficients: np.ndarray | None,
             regions: np.ndarray | None, energy: np.ndarray | None) -> None:
        self.welch.feed(start, block.signal)
        values = block.values
        if values.shape[0] == 0:
            return
        self.lz.feed(start, values, bands=band_ok)
        chosen = self.selection(start, values.shape[-1])
        if chosen is None:
            return
        self.envelope.feed(values[..., chosen], bands=band_ok)
        if isinstance(self.plv, TrialPhaseLockingSum):
            self.plv.feed(block.values)
        else:
            self.plv.feed(block.values[..., chosen], bands=band_ok)
        if self.harmonic is not None and coefficients is not None:
            self.harmonic.feed(coefficients[..., chosen], bands=band_ok)
        if self.region_plv is not None and regions is not None:
            self.region_plv.feed(regions[..., chosen], bands=band_ok)
        if self.region_lag is not None and regions is not None:
            self.region_lag.feed(regions[..., chosen], bands=band_ok)
        if self.harmonic_cross is not None and coefficients is not None:
            self.harmonic_cross.feed(coefficients[..., chosen], bands=band_ok)
        if energy is not None:
            self.energy_sum += float(energy[chosen].sum())
            self.energy_count += int(energy[chosen].size)

    def end_span(self) -> None:
        self.envelope.end_span()


def _blocks(source, sfreq: float, bands: Sequence[Band], taps: Sequence[np.ndarray], chunk_seconds: float):
    """Filter-bank blocks of one span, or plain blocks (no band values) when no band is filtered."""
    if bands:
        yield from iter_analytic_blocks(source, sfreq, bands, taps=taps, chunk_seconds=chunk_seconds)
        return
    step = max(1, int(round(chunk_seconds * sfreq)))
    for start in range(0, source.n_times, step):
        stop = min(start + step, source.n_times)
        signal = np.asarray(source.read(start, stop), dtype=float)
        yield AnalyticBlock(start, stop, np.empty((0, signal.shape[0], stop - start), np.complex64), signal)


def _spectrum(part: _Part, ch_names: Sequence[str], fmin: float, fmax: float, source: str,
              method: str, info) -> Spectrum:
    accumulator = part.welch
    # Keep every bin whose resolution cell (centre +- half a bin) overlaps [fmin, fmax]: on a short
    # recording the grid is coarse, and cutting at fmin exactly could leave a band without its lowest bin.
    half_bin = accumulator.sfreq / accumulator.nperseg / 2
    keep = (accumulator.freqs > fmin - half_bin) & (accumulator.freqs < fmax + half_bin)
    params = {"sfreq": accumulator.sfreq, "fmin": fmin, "fmax": fmax, "n_epochs": 1, "source": source,
              "window_seconds": accumulator.nperseg / accumulator.sfreq, "n_fft": accumulator.nperseg,
              "n_segments": accumulator.count, "resolution": accumulator.sfreq / accumulator.nperseg,
              "segments": "inside each good span (never across a gap)"}
    if method == "welch":
        params.update(window="hann", overlap=accumulator.overlap, average="mean", detrend="constant")
    else:
        params.update(time_half_bandwidth=4.0, adaptive=False, low_bias=True)
    return Spectrum(freqs=accumulator.freqs[keep], psd=accumulator.psd()[:, keep], ch_names=ch_names,
                    method=method, params=params, info=info)


def _spectral_rows(rows: MetricRows, spectrum: Spectrum, bands: Sequence[Band], aperiodic_range: tuple[float, float],
                   condition: str):
    """Band power, peaks, aperiodic fit, spectral entropy and CDNS of one part; returns the fit range."""
    names = [b.name for b in bands]
    ch_names = list(spectrum.ch_names)
    power = band_power(spectrum, bands)
    rows.add_matrix("band_power", "V^2", power.absolute, components=ch_names, bands=names, condition=condition)
    rows.add_matrix("band_power_relative", "1", power.relative, components=ch_names, bands=names, condition=condition)
    peaks = np.column_stack([peak_frequency(spectrum, band) for band in bands])
    rows.add_matrix("peak_frequency", "Hz", peaks, components=ch_names, bands=names, condition=condition)
    fmin = min(b.fmin for b in bands)
    fit_range = (max(aperiodic_range[0], fmin, 2 * spectrum.resolution), min(aperiodic_range[1], max(b.fmax for b in bands)))
    fit = fit_aperiodic(spectrum, freq_range=fit_range, **APERIODIC_SETTINGS)
    periodic = np.column_stack([peak_in_band(fit, band) for band in bands])
    rows.add_matrix("periodic_peak_frequency", "Hz", periodic, components=ch_names, bands=names, condition=condition)
    for metric, unit, values in (
        ("aperiodic_exponent", "1", fit.exponent),
        ("aperiodic_offset", "log10(V^2/Hz)", fit.offset),
        ("aperiodic_r_squared", "1", fit.r_squared),
    ):
        rows.add_matrix(metric, unit, np.asarray(values)[:, np.newaxis], components=ch_names, bands=["aperiodic"],
                        condition=condition)
    entropy = spectral_entropy(spectrum, fmin=fmin, fmax=max(b.fmax for b in bands))
    rows.add_matrix("spectral_entropy", "1", entropy[:, np.newaxis], components=ch_names, bands=["broadband"],
                    condition=condition)
    signatures = [cdns_of_aperiodic_fit(fit, band) for band in bands]
    for metric in ("consonance", "dissonance", "noise", "valence"):
        values = np.column_stack([getattr(signature, metric) for signature in signatures])
        rows.add_matrix(f"cdns_{metric}", "1", values, components=ch_names, bands=names, condition=condition)
    return fit_range


def _filter_rows(rows: MetricRows, part: _Part, ch_names: Sequence[str], bands: Sequence[Band]) -> dict:
    """Envelope statistics, Lempel-Ziv and channel PLV of one part; returns the PLV matrices."""
    names = [b.name for b in bands]
    condition = part.name
    mean, cv = part.envelope.result()
    rows.add_matrix("envelope_mean_amplitude", "V", mean.T, components=ch_names, bands=names, condition=condition)
    rows.add_matrix("envelope_cv", "1", cv.T, components=ch_names, bands=names, condition=condition)
    rows.add_matrix("lempel_ziv", "1", part.lz.result().T, components=ch_names, bands=names, condition=condition)
    plv = part.plv.plv()
    off_diagonal = (plv.sum(axis=-1) - 1.0) / max(len(ch_names) - 1, 1)
    rows.add_matrix("plv_mean", "1", off_diagonal.T, components=ch_names, bands=names, condition=condition)
    return plv


def _harmonic_rows(rows: MetricRows, part: _Part, eigenvalues: np.ndarray, bands: Sequence[Band]) -> list:
    mean, cv = part.harmonic.result()
    # mean |a| and, from the CV, the mean |a|^2 = mean^2 (1 + cv^2) (the moments the CV was built from)
    square = mean**2 * (1.0 + cv**2)
    components = [f"h{k:03d}" for k in range(eigenvalues.size)]
    spectra = [harmonic_spectrum(mean[b] * part.harmonic.count[b], square[b] * part.harmonic.count[b],
                                 int(part.harmonic.count[b]), eigenvalues, band=band.name)
               for b, band in enumerate(bands)]
    names = [b.name for b in bands]
    condition = part.name
    rows.add_matrix("harmonic_power", "a.u.", np.array([s.mean_power for s in spectra]).T, components=components,
                    bands=names, condition=condition)
    rows.add_matrix("harmonic_energy", "a.u.", np.array([s.mean_energy for s in spectra]).T, components=components,
                    bands=names, condition=condition)
    for s in spectra:
        rows.add("harmonic_total_energy", s.total_energy, "a.u.", band=s.band, component="all", condition=condition)
        rows.add("harmonic_entropy", s.entropy, "bits", band=s.band, component="all", condition=condition)
        rows.add("harmonic_low_energy_fraction", s.low_energy_fraction, "1", band=s.band, component=f"h<{s.n_low}",
                 condition=condition)
        rows.add("harmonic_low_power_fraction", s.low_power_fraction, "1", band=s.band, component=f"h<{s.n_low}",
                 condition=condition)
    return spectra


def _stream(layout: RecordingLayout, parts: Sequence[_Part], filter_bands: Sequence[Band], filter_taps: Sequence,
            chunk_seconds: float, source: str, decomposition, operator32: np.ndarray | None, regions32: np.ndarray | None,
            harmonic_windows: WindowMeans | None, trauma: TraumaAccumulator | None,
            valence_welch: WelchAccumulator | None, energy_trace: WindowMeans | None) -> None:
    """The single pass: every block of every span through the filter bank, into every accumulator."""
    sfreq, ch_names = layout.sfreq, layout.ch_names
    with_proxies = trauma is not None
    if decomposition is not None:
        matched = np.asarray(decomposition.match.recording_indices)
        weights = decomposition.eigenvalues.astype(float) ** 2
    for i, (span_start, span_stop) in enumerate(layout.spans):
        span_length = int(span_stop - span_start)
        band_ok = np.array([len(t) <= span_length for t in filter_taps], dtype=bool)
        for block in _blocks(layout.source(i), sfreq, filter_bands, filter_taps, chunk_seconds):
            start = int(span_start) + block.start
            check_block_finite(block.signal, ch_names, start, sfreq, source)
            coefficients = regions = energy = broadband = None
            if decomposition is not None and filter_bands:
                # the two large products of the pass get both BLAS threads
                with threadpool_limits(limits=2, user_api="blas"):
                    coefficients = real_matrix_apply(operator32, block.values)
                    if regions32 is not None:
                        regions = real_matrix_apply(regions32, coefficients)
                broadband = decomposition.inverse.operator @ block.signal[matched]
                energy = weights @ np.square(broadband)
                if harmonic_windows is not None:
                    harmonic_windows.feed(start, np.abs(coefficients))
            for part in parts:
                part.feed(start, block, band_ok, coefficients, regions, energy)
            if with_proxies:
                trauma.feed(start, coefficients, regions, broadband, block.signal[matched], bands=band_ok)
                valence_welch.feed(start, broadband)
                energy_trace.feed(start, energy)
        for part in parts:
            part.end_span()


def analyze_eeg(
    inst: mne.io.BaseRaw | mne.BaseEpochs,
    *,
    session: str,
    bands: Sequence[Band] | None = None,
    strict_bands: bool = False,
    psd_method: str = "welch",
    aperiodic_range: tuple[float, float] = APERIODIC_RANGE,
    harmonic_model: HarmonicModel | None = None,
    harmonics_required: bool = False,
    n_harmonics: int = DEFAULT_SENSOR_MODES,
    source: str | None = None,
    conditions: Sequence | None = None,
    steady_state: Sequence[float] | None = None,
    seed: int = 0,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    notch: str | float = "auto",
    skip_proxies: str | None = None,
) -> Analysis:
    """Band powers, peaks, aperiodic fit, envelopes, locking, harmonics and proxies in one pass.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        EEG in V; channels marked bad are left out, and spans annotated
        ``BAD_*``/``EDGE`` are gaps: no window or filter crosses them. Need
        not be loaded (it is read block by block). Not modified.
    session : str
        Label written in the ``session`` column.
    bands : sequence of Band | None
        Bands to measure (default table when ``None``).
    strict_bands : bool
        Raise instead of skipping bands the recording cannot resolve
        (too short, or sampled too slowly). Set when the user chose the bands.
    psd_method : {'welch', 'multitaper'}
        PSD estimator (see :func:`harmonix.spectral.psd.compute_psd`; the
        multitaper estimate is averaged over non-overlapping segments).
    aperiodic_range : (float, float)
        Frequency range in Hz of the specparam fit; clipped to the bands the
        recording can resolve.
    harmonic_model : HarmonicModel | None
        Connectome and harmonic basis to decompose the sensors onto (with its
        leadfield); ``None`` skips the harmonic metrics.
    harmonics_required : bool
        Raise :class:`~harmonix.errors.ChannelError` when the channels do not
        match the leadfield well enough; otherwise the harmonic metrics are
        skipped and the reason recorded.
    n_harmonics : int
        Lowest harmonics estimated from the sensors.
    source : str | None
        Name of the input for messages (defaults to ``session``).
    conditions : sequence of harmonix.io.conditions.Condition | None
        Trials per condition (:func:`harmonix.io.conditions.conditions_from_events`):
        every metric except the research proxies is computed for each
        condition too, on its trials only, with its name in ``condition``.
    steady_state : sequence of float | None
        Stimulation frequencies (Hz): per condition, the steady-state SNR and
        inter-trial coherence at each, and the trial classification when
        conditions carry frequencies (:mod:`harmonix.estimators.steady_state`).
        Needs ``conditions``.
    seed : int
        Seed of the trauma proxy's surrogates.
    chunk_seconds : float
        Block length of the streaming pass (memory scales with it).
    notch : {'auto', 50, 60, 'off'}
        Mains interference is always measured
        (:func:`harmonix.spectral.line_noise.detect_line_noise` on up to
        :data:`harmonix.pipeline.mains.MAINS_EXCERPT_SECONDS` of the good data) and reported in
        ``params["line_noise"]``, with a :class:`~harmonix.errors.DataWarning`
        when found. ``'auto'`` removes the detected mains and its harmonics
        with a zero-phase notch (:func:`harmonix.spectral.line_noise.notch_taps`,
        MNE's design) applied to every sample read; 50 or 60 removes that
        frequency whatever is detected; ``'off'`` removes nothing.
    skip_proxies : str | None
        A reason not to compute the research proxies (e.g. the recording
        failed the plausibility checks of :func:`harmonix.io.check_recording`);
        recorded in ``params["harmonics"]["proxies"]``.

    Returns
    -------
    analysis : Analysis
        Metrics (one row per condition x metric x band x channel):

        ``band_power`` (V^2), ``band_power_relative`` (1), ``peak_frequency``
        (Hz, PSD maximum inside the band, empty when the maximum sits on an
        edge), ``periodic_peak_frequency`` (Hz, strongest specparam peak above
        the 1/f fit inside the band), ``envelope_mean_amplitude`` (V) and
        ``envelope_cv`` (1) of the filter-bank analytic signal,
        ``lempel_ziv`` (1, mean over windows of ``LZ_WINDOW_SECONDS``),
        ``plv_mean`` (1), ``spectral_entropy`` and ``cdns_*`` (1), and per
        channel ``aperiodic_exponent`` (1), ``aperiodic_offset``
        (log10 V^2/Hz), ``aperiodic_r_squared`` (1) in band ``aperiodic``.
        With a harmonic model, per band (Atasoy et al. 2017, Sci Rep
        7:17661; see :mod:`harmonix.harmonics.decompose`): ``harmonic_power``
        and ``harmonic_energy`` per harmonic (component ``h000``...; a.u.),
        and ``harmonic_total_energy``, ``harmonic_entropy`` (bits),
        ``harmonic_low_energy_fraction`` and ``harmonic_low_power_fraction``.
        For continuous recordings of at least ``MIN_PROXY_SECONDS``, also the
        research proxies (valence, trauma and its components, energy
        parameter and episodes) and ``region_plv_homotopic`` (1): the PLV
        between each left region and its right homologue (component: the
        region name without hemisphere).
    """
    source = source or session
    bands = load_bands(bands)
    if psd_method not in ("welch", "multitaper"):
        raise ParameterError(f"{source}: unknown PSD method {psd_method!r}; use one of welch, multitaper")
    layout = recording_layout(inst, source)
    sfreq, ch_names = layout.sfreq, layout.ch_names
    layout, line_noise_params = mains_layout(layout, notch, source)
    duration = layout.longest_span / sfreq
    bands, skipped = resolvable_bands(bands, sfreq, duration, source=source, strict=strict_bands)
    fmin = min(b.fmin for b in bands)
    window = min(max(2.0, 2.0 / max(fmin, 1e-3)), duration)
    nperseg = int(round(window * sfreq))
    taps = {b.name: design_band_filter(b, sfreq) for b in bands}
    # A FIR longer than the data would measure mostly its own edge padding.
    envelope_skipped = {
        b.name: f"FIR band-pass of {len(taps[b.name]) / sfreq:.2f} s is longer than the {duration:.2f} s of data"
        for b in bands if len(taps[b.name]) > layout.longest_span
    }
    filter_bands = [b for b in bands if b.name not in envelope_skipped]
    filter_taps = [taps[b.name] for b in filter_bands]
    lengths = layout.span_lengths
    short_spans = {b.name: {"spans": int((lengths < len(taps[b.name])).sum()),
                            "seconds": float(lengths[lengths < len(taps[b.name])].sum() / sfreq)}
                   for b in filter_bands if (lengths < len(taps[b.name])).any()}
    if layout.epoched:
        chunk_seconds = max(chunk_seconds, layout.longest_span / sfreq)
    lz_length = min(int(round(LZ_WINDOW_SECONDS * sfreq)), layout.longest_span)

    # ---- the harmonic decomposition (its regularisation needs one read of the sensors)
    report_stage("harmonics" if harmonic_model is not None else "spectra")
    decomposition, harmonics_params = None, None
    if harmonic_model is None:
        harmonics_params = {"computed": False, "reason": "no harmonic model requested"}
    elif not filter_bands:
        harmonics_params = {"computed": False, "reason": "no band long enough for the filter bank"}
    else:
        connectome, basis = harmonic_model.connectome, harmonic_model.basis
        try:
            if connectome.leadfield is None or connectome.sensor_names is None:
                raise ChannelError(f"{source}: the connectome model has no EEG leadfield; sensor data cannot be decomposed")
            match = match_channels(ch_names, connectome.sensor_names, source=source)
        except ChannelError as err:
            if harmonics_required:
                raise
            harmonics_params = {"computed": False, "reason": str(err)}
        else:
            moment = scan_second_moment(layout, np.asarray(match.recording_indices),
                                        chunk_samples=int(chunk_seconds * sfreq), source=source)
            full = np.zeros((len(ch_names), len(ch_names)))
            index = np.asarray(match.recording_indices)
            full[np.ix_(index, index)] = moment
            decomposition = sensor_decomposition(connectome.leadfield, connectome.sensor_names, basis.eigenvectors,
                                                 basis.eigenvalues, ch_names, None, second_moment=full,
                                                 n_modes=n_harmonics, source=source)

    # ---- the parts of the stream and their accumulators
    n_modes = 0 if decomposition is None else decomposition.eigenvalues.size
    proxies_reason = None
    if decomposition is not None:
        if skip_proxies:
            proxies_reason = skip_proxies
        elif layout.epoched:
            proxies_reason = "the proxies need a continuous recording, not epochs"
        elif layout.total_samples / sfreq < MIN_PROXY_SECONDS:
            proxies_reason = (f"the proxies need at least {MIN_PROXY_SECONDS:g} s of continuous data "
                              f"(surrogate spectra, energy windows); this recording has "
                              f"{layout.total_samples / sfreq:.1f} s")
        else:
            starts, length, _ = null_windows(layout.spans, sfreq, filter_bands, taps=filter_taps)
            if starts.size == 0:
                proxies_reason = (f"the trauma proxy's null needs a good span of at least {length / sfreq:.1f} s "
                                  f"(a window and its filter margins); the longest here is {duration:.1f} s")
    with_proxies = decomposition is not None and proxies_reason is None
    n_regions, region_pairs, crosstalk, responses = 0, None, None, None
    if decomposition is not None and not layout.epoched:
        connectome = harmonic_model.connectome
        region_means = region_modes(harmonic_model.basis.eigenvectors, connectome.region_map, n_modes)
        n_regions = region_means.shape[0]
        pairs = homotopic_pairs(connectome.region_labels)
        region_pairs = np.array([(left, right) for _, left, right in pairs], dtype=np.intp).reshape(-1, 2)
        responses = region_responses(connectome.leadfield[np.asarray(decomposition.match.sensor_indices)],
                                     connectome.region_map, decomposition.inverse.operator)
        crosstalk = crosstalk_shares(region_means @ responses)  # the resolution matrix A Psi W L P
    compare_window = max(COMPARE_WINDOW_SECONDS, 2 * window)
    compare_length = int(round(compare_window * sfreq)) if not layout.epoched else layout.longest_span
    n_compare = tile_windows(layout.spans, compare_length).size
    keep_windows = n_compare >= 4
    common = {"n_filter_bands": len(filter_bands), "nperseg": nperseg, "psd_method": psd_method,
              "lz_length": lz_length, "n_modes": n_modes, "n_regions": n_regions, "region_pairs": region_pairs}
    whole = _Part("", layout.spans, layout, group_length=compare_length if keep_windows else None,
                  group_bands=bands, **{**common, "n_regions": 0})
    parts = [whole]
    condition_notes = {}
    for condition in conditions or ():
        intervals = condition_intervals(layout, condition, source)
        parts.append(_Part(condition.name, intervals, layout, **common))
        condition_notes[condition.name] = {"codes": list(condition.codes), "n_trials": int(condition.n_trials),
                                           "seconds": float((intervals[:, 1] - intervals[:, 0]).sum() / sfreq),
                                           "frequency": condition.frequency, "notes": list(condition.notes)}
    harmonic_windows = (WindowMeans(tile_windows(layout.spans, compare_length), compare_length,
                                    (len(filter_bands), n_modes)) if decomposition is not None and keep_windows else None)
    trauma = valence_welch = energy_trace = None
    if with_proxies:
        operator = decomposition.inverse.operator
        trauma = TraumaAccumulator(filter_bands, sfreq, operator, region_means, layout.spans, seed=seed,
                                   taps=filter_taps)
        valence_window = min(max(4.0, 2.0 / max(min(b.fmin for b in filter_bands), 0.25)), duration)
        valence_welch = WelchAccumulator(n_modes, sfreq, layout.spans, int(round(valence_window * sfreq)))
        energy_length = int(round(ENERGY_WINDOW_SECONDS * sfreq))
        energy_trace = WindowMeans(tile_windows(layout.spans, energy_length), energy_length, ())
    operator32 = regions32 = None
    if decomposition is not None:
        # The operator over every analysed channel (zero columns for unmatched ones) spares a copy of each block.
        operator32 = np.zeros((n_modes, len(ch_names)), dtype=np.float32)
        operator32[:, np.asarray(decomposition.match.recording_indices)] = decomposition.inverse.operator
        regions32 = region_means.astype(np.float32) if n_regions else None

    # ---- the pass
    report_stage("spectra")
    # One BLAS thread: its products here are many and small-to-medium, and idle BLAS threads spinning
    # beside the FFT workers and compiled loops cost more than a second thread gains (measured: 1.6x).
    with threadpool_limits(limits=1, user_api="blas"):
        _stream(layout, parts, filter_bands, filter_taps, chunk_seconds, source, decomposition, operator32, regions32,
                harmonic_windows, trauma, valence_welch, energy_trace)

    # ---- read out
    report_stage("proxies" if with_proxies else "spectra")
    rows = MetricRows(session)
    fmax = min(sfreq / 2, max(b.fmax for b in bands) + 5)
    info = mne.pick_info(layout.inst.info, layout.picks, verbose=False)
    arrays: dict = {"ch_names": np.array(ch_names), "ch_pos": channel_positions(info)}
    condition_psd = []
    fit_range = None
    for part in parts:
        if part.welch.count == 0:
            condition_notes.setdefault(part.name, {})["spectra"] = (
                f"no {window:g}-s segment fits inside its trials; spectral metrics left out")
            continue
        spectrum = _spectrum(part, ch_names, fmin, fmax, source, psd_method, info)
        range_used = _spectral_rows(rows, spectrum, bands, aperiodic_range, part.name)
        if part is whole:
            fit_range, whole_spectrum = range_used, spectrum
            arrays["psd_freqs"], arrays["psd"] = spectrum.freqs, spectrum.psd
        else:
            condition_psd.append(spectrum.psd)
    if condition_psd and len(condition_psd) == len(parts) - 1:
        arrays["condition_names"] = np.array([p.name for p in parts[1:]])
        arrays["condition_psd"] = np.stack(condition_psd)
    if keep_windows:
        starts, power = whole.welch.group_power()
        arrays["window_starts"], arrays["window_band_power"] = starts / sfreq, power
    if filter_bands:
        for part in parts:
            plv = _filter_rows(rows, part, ch_names, filter_bands)
            if part is whole:
                arrays["plv"] = plv.astype(np.float32)
                arrays["plv_bands"] = np.array([b.name for b in filter_bands])

    if decomposition is not None:
        for part in parts:
            spectra = _harmonic_rows(rows, part, decomposition.eigenvalues, filter_bands)
            if part is whole:
                arrays["harmonic_power"] = np.array([s.mean_power for s in spectra])
                arrays["harmonic_energy"] = np.array([s.mean_energy for s in spectra])
        arrays["harmonic_eigenvalues"] = decomposition.eigenvalues
        arrays["harmonic_bands"] = np.array([b.name for b in filter_bands])
        if harmonic_windows is not None:
            starts, means = harmonic_windows.result()
            arrays["window_harmonic_power"] = means.astype(np.float32)  # (n_windows, n_bands, n_modes)
            arrays["window_harmonic_starts"] = starts / sfreq
        proxies = _proxy_rows(rows, arrays, parts, trauma, valence_welch, energy_trace, filter_bands, sfreq,
                              harmonic_model, proxies_reason)
        regional = _regional_rows(rows, arrays, parts, filter_bands, harmonic_model, crosstalk, responses)
        harmonics_params = {"computed": True, "proxies": proxies, "regions": regional,
                            "model": harmonic_model.params(),
                            "decomposition": decomposition.params(),
                            "channel_matching": decomposition.match.summary(),
                            "reference": "Atasoy et al. 2016 Nat Commun 7:10340; 2017 Sci Rep 7:17661"}

    steady_params = None
    if steady_state:
        notch_record = line_noise_params["notch"]
        mains = (notch_record["freqs_hz"][0] if notch_record["applied"] else line_noise_params["detected_hz"]) or "off"
        steady_params = _steady_state_rows(rows, layout, conditions, steady_state, source, mains)

    params = {
        "kind": "eeg",
        "bands": [{"name": b.name, "fmin": b.fmin, "fmax": b.fmax} for b in bands],
        "skipped_bands": skipped,
        "min_cycles_per_band": MIN_CYCLES,
        "sfreq": sfreq,
        "duration_s": layout.total_samples / sfreq,
        "rejected_by_annotation_s": layout.rejected_seconds,
        "n_epochs": int(len(layout.spans)) if layout.epoched else None,
        "spans": {"n_spans": int(len(layout.spans)), "longest_s": duration,
                  "too_short_for_band": short_spans,
                  "rule": "spectra and filters run per contiguous good span; nothing crosses a gap"},
        "channels_analysed": ch_names,
        "channels_bad": list(inst.info["bads"]),
        "seed": int(seed),
        "psd": {"method": psd_method, **whole_spectrum.params} if whole.welch.count else {"method": psd_method},
        "peak_frequency": {"method": "max", "interpolation": "parabolic on log10 power"},
        "aperiodic": {
            "freq_range": fit_range, **APERIODIC_SETTINGS,
            "reference": "Donoghue et al. 2020, Nat Neurosci 23:1655 (specparam)",
        },
        "filter_bank": {
            "design": "mne.filter.create_filter defaults (zero-phase FIR, Hamming window)",
            "hilbert": "frequency domain, chunked, one pass per good span (harmonix.spectral.filterbank)",
            "fir_lengths_s": {name: len(t) / sfreq for name, t in taps.items()},
            "envelope_skipped_bands": envelope_skipped,
            "block_seconds": chunk_seconds,
        },
        "estimators": {
            "spectral_entropy": "Inouye et al. 1991, normalised (harmonix.estimators.complexity)",
            "lempel_ziv": (f"LZ76 of the median-binarised band amplitude, normalised (Kaspar & Schuster 1987), "
                           f"mean over windows of {lz_length / sfreq:g} s (at most {MAX_LZ_WINDOWS}, spread evenly)"),
            "cdns": "harmonix CDNS of specparam peaks per band, octave-shifted to middle C (research proxy)",
            "plv": "over time within the recording (continuous) or across epochs (epoched), per band",
        },
        "harmonics": harmonics_params,
        "conditions": condition_notes,
        "steady_state": steady_params,
        "line_noise": line_noise_params,
    }
    return Analysis(rows.to_frame(), params, arrays)


def _regional_rows(rows: MetricRows, arrays: dict, parts: Sequence[_Part], bands: Sequence[Band],
                   model: HarmonicModel, crosstalk: np.ndarray | None, responses: np.ndarray | None) -> dict | None:
    """Lag-based coupling of homotopic region pairs (every part) and the estimate's cross-talk."""
    if crosstalk is None:
        return None
    pairs = homotopic_pairs(model.connectome.region_labels)
    for part in parts:
        if part.region_lag is None or not part.region_lag.count.any():
            continue
        wpli = part.region_lag.wpli()
        fit = lagged_pair_fit(part.harmonic_cross.mean(), responses, part.region_lag.pairs)
        for b, band in enumerate(bands):
            for p, (name, _, _) in enumerate(pairs):
                rows.add("region_wpli_homotopic", wpli[b, p], "1", band=band.name, component=name,
                         condition=part.name)
                rows.add("region_lag_fit_homotopic", fit[b, p], "1", band=band.name, component=name,
                         condition=part.name)
    leakage = pair_leakage(crosstalk, pairs)
    arrays["region_crosstalk"] = crosstalk.astype(np.float32)
    arrays["region_labels"] = np.asarray(model.connectome.region_labels)
    names = [name for name, _, _ in pairs]
    summary = {}
    for a, name in enumerate(names):
        others = np.where(np.arange(len(names)) == a, -np.inf, leakage[a])
        top = int(np.argmax(others)) if len(names) > 1 else a
        summary[name] = {"own": round(float(leakage[a, a]), 4), "largest_other": names[top],
                         "largest_other_leakage": round(float(leakage[a, top]), 4),
                         "explained_by": {b: round(v, 4) for b, v in explained_by(leakage, names, name, names)}}
    return {"crosstalk": CROSSTALK_DEFINITION, "pairs": summary,
            "wpli": ("weighted phase-lag index between each left region and its right homologue over time, "
                     "per band (Vinck et al. 2011); blind to zero-lag mixing (harmonix.estimators.lagged_coupling)"),
            "lag_fit": ("share of the harmonic coefficients' imaginary cross-spectrum that a lagged link in the pair "
                        "explains, through the estimate's cross-talk (harmonix.harmonics.crosstalk.lagged_pair_fit)"),
            "explained_by": ("pairs whose coupling leaks into this pair's estimates at least as much as its own "
                             "(pair leakage >= own); a change there can explain a zero-lag change here")}


def _proxy_rows(rows: MetricRows, arrays: dict, parts: Sequence[_Part], trauma: TraumaAccumulator | None,
                valence_welch: WelchAccumulator | None, energy_trace: WindowMeans | None, bands: Sequence[Band],
                sfreq: float, model: HarmonicModel, reason: str | None) -> dict:
    """Valence, trauma and energy-parameter proxies and regional locking (continuous recordings only)."""
    for part in parts[1:]:
        if part.energy_count:
            rows.add("energy_parameter_mean", part.energy_sum / part.energy_count, "a.u.", band="broadband",
                     component="all", condition=part.name)
        if part.region_plv is not None:
            plv = part.region_plv.plv()
            for b, band in enumerate(bands):
                for name, left, right in homotopic_pairs(model.connectome.region_labels):
                    rows.add("region_plv_homotopic", plv[b, left, right], "1", band=band.name, component=name,
                             condition=part.name)
    if reason is not None:
        return {"computed": False, "reason": reason}
    valence_spectrum = Spectrum(freqs=valence_welch.freqs, psd=valence_welch.psd(),
                                ch_names=[f"h{k:03d}" for k in range(valence_welch.n_channels)], method="welch",
                                params={"window_seconds": valence_welch.nperseg / sfreq,
                                        "n_segments": valence_welch.count})
    for proxy in valence_from_spectrum(valence_spectrum, bands):
        rows.add("valence_proxy", proxy.valence, "1", band=proxy.band, component="harmonic_signature")
        rows.add("valence_proxy_octave_spread", proxy.valence_spread, "1", band=proxy.band, component="harmonic_signature")
        for name in ("consonance", "dissonance", "noise"):
            rows.add(f"valence_proxy_{name}", getattr(proxy, name), "1", band=proxy.band, component="harmonic_signature")
    results = trauma.result()
    not_estimated = {}
    for i, result in enumerate(results):
        rows.add("trauma_proxy", result.combined, "z", band=result.band, component="combined")
        for name, value in result.components.items():
            if name in WHOLE_SPECTRUM_COMPONENTS:
                # one number from the regions' whole spectra: written once, not copied into every band
                if i == 0:
                    rows.add("trauma_proxy_component", value, "z", band="broadband", component=name)
            elif not np.isfinite(value) and name in result.params:
                not_estimated[name] = str(result.params[name])
            else:
                rows.add("trauma_proxy_component", value, "z", band=result.band, component=name)
        arrays[f"region_plv_{result.band}"] = result.region_plv.astype(np.float32)
        for name, left, right in homotopic_pairs(model.connectome.region_labels):
            rows.add("region_plv_homotopic", result.region_plv[left, right], "1", band=result.band, component=name)
    starts, energy = energy_trace.result()
    times = (starts + energy_trace.length / 2) / sfreq
    episodes = detect_episodes(times, energy) if times.size >= 5 else None
    rows.add("energy_parameter_mean", float(energy.mean()), "a.u.", band="broadband", component="all")
    arrays["energy_times"], arrays["energy"] = times, energy
    if episodes is not None:
        rows.add("energy_episode_count", len(episodes.episodes), "1", band="broadband", component="all")
        for i, episode in enumerate(episodes.episodes, start=1):
            for name in ("onset", "peak_time", "duration", "cooling_tau"):
                rows.add(f"energy_episode_{name}", getattr(episode, name), "s", band="broadband", component=f"episode{i}")
    return {
        "computed": True,
        "valence": VALENCE_NOTE, "trauma": TRAUMA_NOTE, "energy_parameter": ENERGY_NOTE,
        "trauma_null": results[0].params["null"] if results else None,
        "trauma_components_not_estimated": not_estimated,
        "trauma_whole_spectrum_components": {name: "from the regions' whole spectra (2-30 Hz): one value, band "
                                             "'broadband', entering every band's combined score"
                                             for name in WHOLE_SPECTRUM_COMPONENTS},
        "energy_episodes": None if episodes is None else {"baseline": episodes.baseline, "threshold": episodes.threshold,
                                                           **episodes.params},
    }


def _steady_state_rows(rows: MetricRows, layout: RecordingLayout, conditions: Sequence | None,
                       freqs: Sequence[float], source: str, mains: float | str) -> dict:
    """Steady-state SNR, ITC and trial classification per condition (trials read from the recording)."""
    from harmonix.estimators.steady_state import steady_state_by_condition

    if not conditions:
        raise ParameterError(f"{source}: steady-state estimates need conditions (trials); give --conditions")
    trials: dict[str, np.ndarray] = {}
    for condition in conditions:
        intervals = condition_intervals(layout, condition, source)
        length = int((intervals[:, 1] - intervals[:, 0]).min())
        trials[condition.name] = np.stack([layout.read(int(a), int(a) + length) for a, _ in intervals])
    table = steady_state_by_condition(trials, layout.sfreq, tuple(freqs), layout.ch_names,
                                      condition_freqs={c.name: c.frequency for c in conditions}, line_noise=mains)
    for row in table.rows():
        rows.add(row["metric"], row["value"], row["unit"], band=row["band"], component=row["component"],
                 condition=row["condition"])
    return {"frequencies_hz": [float(f) for f in freqs], **getattr(table, "params", {})}


__all__ = ["analyze_eeg", "APERIODIC_RANGE", "APERIODIC_SETTINGS", "COMPARE_WINDOW_SECONDS", "LZ_WINDOW_SECONDS",
           "MIN_PROXY_SECONDS"]
