"""Consonance-dissonance-noise signature (harmonix.estimators.consonance)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from harmonix.errors import ParameterError
from harmonix.estimators.consonance import (
    MIDDLE_C,
    auto_octave_shift,
    cdns,
    cdns_of_aperiodic_fit,
    cdns_of_audio,
    cdns_of_partials,
    cdns_over_windows,
    critical_bandwidth,
    expand_harmonics,
    harmonicity,
    noise_share,
    octave_shift_sensitivity,
    periodicity,
    sethares_dissonance,
)
from harmonix.estimators.roughness import (
    SETHARES,
    hk_critical_bandwidth,
    hk_dissonance_factor,
    hutchinson_knopoff_roughness,
    sethares_peak,
)
from harmonix.estimators.tones import merge_coincident
from harmonix.io.audio import Audio, load_audio
from harmonix.spectral.aperiodic import fit_aperiodic
from harmonix.spectral.audio import spectral_partials
from harmonix.spectral.psd import Spectrum

CONTRABASS = "tinysol_Cb-ord-A2-mf-2c-N.wav"

INTERVALS = dict(zip(["m2", "M2", "m3", "M3", "P4", "TT", "P5", "m6", "M6", "m7", "M7", "P8"], range(1, 13)))
"""12-TET interval classes and their size in semitones."""
TIERS = [{"P8", "P5"}, {"P4", "M3", "m3", "M6", "m6"}, {"TT", "M2", "m7", "M7"}, {"m2"}]


def _tier_violations(score: dict[str, float]) -> list[str]:
    """Every required relation that fails: each member of a tier above each member of all lower tiers."""
    bad = []
    for hi_idx, lo_idx in itertools.combinations(range(len(TIERS)), 2):
        for a, b in itertools.product(sorted(TIERS[hi_idx]), sorted(TIERS[lo_idx])):
            if not score[a] > score[b]:
                bad.append(f"{a} ({score[a]:.3f}) !> {b} ({score[b]:.3f})")
    return bad


@pytest.fixture(scope="module")
def dyads():
    """CDNS of the twelve 12-TET dyads of 11-partial (1/k) harmonic tones on middle C."""
    return {name: cdns([MIDDLE_C, MIDDLE_C * 2 ** (st / 12)], [1.0, 1.0]) for name, st in INTERVALS.items()}


# --------------------------------------------------------------------------- 1. dyad tiers


def test_dyad_valence_orders_interval_tiers(dyads):
    valence = {k: v.valence for k, v in dyads.items()}
    assert _tier_violations(valence) == []
    assert all(math.isclose(v.valence, v.consonance - v.dissonance) for v in dyads.values())


def test_valence_scale_is_theoretical_extremes(dyads):
    # C = 1 for one harmonic series (an octave of harmonic tones), D = 1 for the roughest pure-tone pair
    assert dyads["P8"].consonance == pytest.approx(1.0, abs=1e-9)
    cb = float(hk_critical_bandwidth(500.0))
    pair = cdns([500 - cb / 8, 500 + cb / 8], [1.0, 1.0], expand=False)
    assert pair.dissonance == pytest.approx(1.0, rel=1e-9)
    assert pair.roughness == pytest.approx(0.5, rel=1e-9)
    assert dyads["m2"].dissonance > dyads["M2"].dissonance > dyads["P5"].dissonance > dyads["P8"].dissonance


@pytest.mark.parametrize("root", [MIDDLE_C, 330.0, 440.0])
def test_dyad_tiers_hold_near_middle_c(root):
    score = {k: cdns([root, root * 2 ** (st / 12)], [1.0, 1.0]).valence for k, st in INTERVALS.items()}
    assert _tier_violations(score) == []


# --------------------------------------------------------------------------- 2. roughness


def test_hutchinson_knopoff_curve_peaks_at_quarter_band_and_vanishes_beyond_cutoff():
    y = np.linspace(0.0, 2.0, 20001)
    g = hk_dissonance_factor(y)
    assert y[np.argmax(g)] == pytest.approx(0.25, abs=1e-4)
    assert g.max() == pytest.approx(1.0)
    assert np.all(g[y > 1.2] == 0.0) and g[y <= 1.2][-1] > 0
    assert hk_dissonance_factor(0.0) == 0.0
    # Hutchinson & Knopoff's bandwidth 1.72 f^0.65 (64 Hz at middle C); pure-tone pair peak at a quarter of it
    assert float(hk_critical_bandwidth(MIDDLE_C)) == pytest.approx(1.72 * MIDDLE_C**0.65)
    df = np.arange(0.1, 150.0, 0.1)
    r = [hutchinson_knopoff_roughness([500.0 - d / 2, 500.0 + d / 2], [1.0, 1.0]) for d in df]
    assert df[int(np.argmax(r))] == pytest.approx(0.25 * float(hk_critical_bandwidth(500.0)), abs=0.1)
    assert max(r) == pytest.approx(0.5, rel=1e-4)


def test_hutchinson_knopoff_roughness_normalisation(rng):
    f = rng.uniform(200, 2000, 8)
    a = rng.uniform(0.1, 1.0, 8)
    base = hutchinson_knopoff_roughness(f, a)
    assert hutchinson_knopoff_roughness(f, 5.0 * a) == pytest.approx(base, rel=1e-12)  # level-free
    order = rng.permutation(8)
    assert hutchinson_knopoff_roughness(f[order], a[order]) == pytest.approx(base, rel=1e-12)
    i, j = np.triu_indices(8, 1)
    y = np.abs(f[i] - f[j]) / (1.72 * ((f[i] + f[j]) / 2) ** 0.65)
    manual = np.sum(a[i] * a[j] * hk_dissonance_factor(y)) / np.sum(a**2)
    assert base == pytest.approx(manual, rel=1e-12)
    assert hutchinson_knopoff_roughness([440.0, 440.0], [1.0, 1.0]) == 0.0


def test_sethares_uses_one_constant_set():
    # dissmeasure.m (Sethares 2005, app. E): A1 = -3.51, A2 = -5.75, Dstar .24, S1 .0207, S2 18.96, C1 = -C2 = 5
    assert SETHARES == {"b1": 3.51, "b2": 5.75, "d_star": 0.24, "s1": 0.0207, "s2": 18.96, "c": 5.0}
    f1 = 500.0
    x_star = math.log(5.75 / 3.51) / (5.75 - 3.51)
    df = x_star * (0.0207 * f1 + 18.96) / 0.24
    assert sethares_dissonance([f1, f1 + df], [1.0, 1.0]) == pytest.approx(sethares_peak(), rel=1e-12)
    grid = np.arange(1.0, 100.0, 0.05)
    assert grid[np.argmax([sethares_dissonance([f1, f1 + d], [1.0, 1.0]) for d in grid])] == pytest.approx(df, abs=0.05)
    assert sethares_dissonance([500.0, 527.0], [1.0, 0.1]) == pytest.approx(
        sethares_dissonance([500.0, 527.0], [0.1, 0.1]), rel=1e-12
    )
    sig = cdns([f1, f1 + df], [1.0, 1.0], expand=False, dissonance="sethares")
    assert sig.dissonance == pytest.approx(1.0, rel=1e-9)


def test_expand_harmonics_rolloffs():
    f, a = expand_harmonics([100.0, 150.0], [1.0, 2.0], n_partials=4, rolloff=0.5)
    assert f.tolist() == [100, 200, 300, 400, 150, 300, 450, 600]
    assert a.tolist() == [1, 0.5, 0.25, 0.125, 2, 1, 0.5, 0.25]
    _, inv = expand_harmonics([100.0], [1.0], n_partials=3, rolloff="inverse")
    assert inv == pytest.approx([1, 1 / 2, 1 / 3])
    with pytest.raises(ParameterError):
        expand_harmonics([100.0], [1.0], rolloff=1.5)
    with pytest.raises(ParameterError):
        expand_harmonics([100.0], [1.0], n_partials=0)


# --------------------------------------------------------------------------- 3. harmonicity


def test_harmonicity_of_harmonic_series_is_maximal(rng):
    f0 = 173.0
    fit = harmonicity(f0 * np.arange(1, 11), 0.9 ** np.arange(10))
    assert fit.harmonicity == pytest.approx(1.0, abs=1e-9)
    assert fit.f0 == pytest.approx(f0, rel=1e-6)
    # a missing fundamental is still one harmonic series (coverage 9/10)
    missing = harmonicity(f0 * np.arange(2, 11), np.ones(9))
    assert missing.f0 == pytest.approx(f0, rel=1e-6)
    # Gill & Purves count the tones' series: harmonics 2..10 read as tones on 2, 3, 5 and 7
    assert missing.harmonicity == pytest.approx(1 - 48 / 210, abs=1e-6)
    # random (inharmonic) sets fit far worse
    random_sets = [np.exp(rng.uniform(np.log(200), np.log(2000), 10)) for _ in range(20)]
    random_h = [harmonicity(f, np.ones(10)).harmonicity for f in random_sets]
    assert max(random_h) < 0.5
    # mistuning partials by 3 % lowers harmonicity
    stretched = harmonicity(f0 * np.arange(1, 11) ** 1.03, np.ones(10))
    assert stretched.harmonicity < 0.6


@pytest.mark.parametrize("n_partials", [1, 6, 11, 20])
def test_harmonicity_matches_gill_purves_for_just_dyads(n_partials):
    # Gill & Purves (2009): a just dyad p:q of harmonic tones has (p + q - 1) / (p q), whatever the partials
    for p, q in [(2, 1), (3, 2), (4, 3), (5, 3), (5, 4), (6, 5), (8, 5), (7, 5), (9, 5), (9, 8), (15, 8), (16, 15)]:
        f, a = expand_harmonics([200.0, 200.0 * p / q], [1.0, 1.0], n_partials=n_partials)
        fit = harmonicity(f, a)
        assert fit.harmonicity == pytest.approx((p + q - 1) / (p * q), abs=1e-12), (p, q)
        assert fit.f0 == pytest.approx(200.0 / q, rel=1e-9)


def test_tempered_dyads_keep_their_just_values_up_to_mistuning(dyads):
    assert dyads["P8"].consonance == pytest.approx(1.0, abs=1e-9)
    assert dyads["P5"].consonance == pytest.approx(2 / 3, abs=0.005)
    assert dyads["P4"].consonance == pytest.approx(1 / 2, abs=0.005)
    harm_only = {k: v.consonance for k, v in dyads.items()}
    assert _tier_violations(harm_only) == []


def test_harrison_pearce_periodicity_option():
    k = np.arange(1, 13)
    assert periodicity(220.0 * k, k**-0.75) == pytest.approx(1.0)
    f5, a5 = merge_coincident(*expand_harmonics([220.0, 330.0], [1.0, 1.0]))
    f2, a2 = expand_harmonics([220.0, 220.0 * 16 / 15], [1.0, 1.0])
    assert periodicity(f5, a5) > periodicity(f2, a2)
    assert periodicity(f5 * 2, a5) == pytest.approx(periodicity(f5, a5), rel=1e-9)  # ratios only
    sig = cdns([220.0, 330.0], [1.0, 1.0], consonance="harrison_pearce")
    assert sig.consonance == pytest.approx(periodicity(f5, a5)) and math.isnan(sig.f0)


# --------------------------------------------------------------------------- 4. octave shifts


def test_octave_shift_keeps_consonance_and_changes_dissonance_as_documented():
    third = [MIDDLE_C, MIDDLE_C * 2 ** (4 / 12)]
    sigs = {k: cdns(third, [1.0, 1.0], octave_shift=k) for k in (-1, 0, 1)}
    for k in (-1, 1):
        assert sigs[k].consonance == pytest.approx(sigs[0].consonance, abs=1e-9)
        assert sigs[k].f0 == pytest.approx(sigs[0].f0 * 2.0**k, rel=1e-9)
    # thirds grow rougher in lower registers (the critical band is wider than a constant ratio there)
    assert sigs[-1].dissonance > sigs[0].dissonance > sigs[1].dissonance
    # shifting the input by an octave is the same as octave_shift=1
    same = cdns([2 * f for f in third], [1.0, 1.0])
    assert same.dissonance == pytest.approx(sigs[1].dissonance, rel=1e-12)

    sens = octave_shift_sensitivity([10.0, 12.6], [1.0, 0.5], octave_shift=auto_octave_shift(11.0))
    assert sens.shifts.tolist() == [4, 5, 6]
    assert np.all(np.isfinite([sens.dissonance_spread, sens.valence_spread]))
    assert sens.dissonance_spread > 0
    assert np.ptp(sens.consonance) < 1e-9
    assert sens.valence_spread == pytest.approx(np.ptp(sens.consonance - sens.dissonance))


def test_auto_octave_shift():
    assert auto_octave_shift(10.0) == 5  # 320 Hz
    assert auto_octave_shift(MIDDLE_C) == 0
    assert auto_octave_shift(2.0) == 7  # 256 Hz
    with pytest.raises(ParameterError):
        auto_octave_shift(0.0)


# --------------------------------------------------------------------------- 5. noise share


def test_noise_share_known_values():
    assert noise_share(4.0, 3.0) == 0.25
    assert noise_share(2.0, 0.0) == 1.0
    assert noise_share(2.0, 2.5) == 0.0  # clipped
    assert math.isnan(noise_share(0.0, 0.0))
    np.testing.assert_allclose(noise_share([1.0, 10.0], [0.5, 1.0]), [0.5, 0.9])
    with pytest.raises(ParameterError):
        noise_share(1.0, -0.1)


def test_noise_share_of_tone_in_white_noise(rng):
    sr = 22050
    t = np.arange(2 * sr) / sr
    amps = [0.3, 0.2, 0.1]
    tone = sum(a * np.sin(2 * np.pi * 220 * k * t + rng.uniform(0, 6)) for k, a in enumerate(amps, 1))
    sigma = 0.05
    x = tone + sigma * rng.standard_normal(t.size)
    expected = sigma**2 / (sigma**2 + sum(a * a for a in amps) / 2)  # 0.14
    res = cdns_of_audio(Audio(x, sr), frame_seconds=0.1, n_partials=6)
    assert np.nanmedian(res.noise) == pytest.approx(expected, abs=0.03)
    assert np.nanmedian(res.consonance) > 0.9
    clean = cdns_of_audio(Audio(tone, sr), frame_seconds=0.1, n_partials=6)
    assert np.nanmedian(clean.noise) < 0.01


def _synthetic_fit():
    """specparam fit of a noise-free 1/f^1.5 PSD with peaks at 10 Hz (alpha) and 20 Hz (beta)."""
    f = np.arange(0.25, 60.0, 0.25)
    ap = 1e-10 * f**-1.5
    g = 0.6 * np.exp(-0.5 * ((f - 10) / 1.0) ** 2) + 0.4 * np.exp(-0.5 * ((f - 20) / 1.5) ** 2)
    psd = np.vstack([ap * 10**g, ap])
    return f, ap, psd, fit_aperiodic(Spectrum(f, psd, ("Oz", "Fz"), "welch", {}))


def test_noise_share_from_aperiodic_fit():
    f, ap, psd, fit = _synthetic_fit()
    for band in [(8.0, 13.0), (13.0, 30.0), (1.0, 45.0)]:
        res = cdns_of_aperiodic_fit(fit, band)
        m = (f >= band[0]) & (f < band[1])
        truth = np.trapezoid(ap[m], f[m]) / np.trapezoid(psd[0, m], f[m])  # aperiodic / total power
        assert res.noise[0] == pytest.approx(truth, abs=0.03), band
        assert res.noise[1] == pytest.approx(1.0)  # Fz: pure 1/f, no peaks
        assert res.n_peaks.tolist() == [2 if band == (1.0, 45.0) else 1, 0]
        assert math.isnan(res.consonance[1]) and math.isnan(res.valence[1])


def test_cdns_of_aperiodic_fit_shifts_and_reports_sensitivity():
    _, _, _, fit = _synthetic_fit()
    alpha = cdns_of_aperiodic_fit(fit, (8.0, 13.0))
    assert alpha.octave_shift == 5
    assert alpha.f0[0] == pytest.approx(10.0 * 32, rel=0.01)
    assert alpha.consonance[0] == pytest.approx(1.0)  # one expanded tone = one harmonic series
    assert np.isfinite(alpha.dissonance_spread[0]) and alpha.dissonance_spread[0] > 0
    assert "research proxy" in alpha.params["label"]
    overall = cdns_of_aperiodic_fit(fit, None)
    assert overall.n_peaks[0] == 2
    assert overall.consonance[0] == pytest.approx(1.0, abs=1e-6)  # 10 and 20 Hz: an octave (Gill & Purves 1)
    fixed = cdns_of_aperiodic_fit(fit, (8.0, 13.0), octave_shift=4)
    assert fixed.octave_shift == 4 and fixed.f0[0] == pytest.approx(160.0, rel=0.01)
    with pytest.raises(ParameterError):
        cdns_of_aperiodic_fit(fit, (8.0, 13.0), octave_shift=4.5)
    with pytest.raises(ParameterError):
        cdns_of_aperiodic_fit(fit, (8.0, 13.0), colour="red")


def test_cdns_over_windows_tracks_an_alpha_episode(rng):
    sr = 250.0
    n = int(30 * sr)
    t = np.arange(n) / sr
    walk = np.cumsum(rng.standard_normal((2, n)), axis=1) * 2e-7
    x = walk - walk.mean(axis=1, keepdims=True)
    x[0] += 3e-6 * np.sin(2 * np.pi * 10.0 * t) * (t >= 20)  # alpha only in the last window of channel 0
    res = cdns_over_windows(x, sr, (8.0, 13.0), window_seconds=10.0, step_seconds=10.0, ch_names=["O1", "O2"])
    assert res.consonance.shape == (3, 2)
    np.testing.assert_allclose(res.times, [5.0, 15.0, 25.0])
    assert res.ch_names == ("O1", "O2")
    assert res.octave_shift == 5
    assert res.n_peaks[2, 0] >= 1
    assert res.noise[2, 0] < 0.2
    first = res.noise[0, 0]
    assert math.isnan(first) or first > res.noise[2, 0]


# --------------------------------------------------------------------------- 6. real music


def test_contrabass_note_is_more_consonant_than_semitone_mixture(shared_data):
    audio = load_audio(shared_data / CONTRABASS, mono=True)
    x = np.asarray(audio.samples[0], dtype=float)
    ratio = 2 ** (1 / 12)
    n = int(x.size / ratio)
    shifted = np.interp(np.arange(n) * ratio, np.arange(x.size), x)  # resampled: a semitone up
    note = cdns_of_audio(Audio(x[:n], audio.sfreq), frame_seconds=0.2)
    mix = cdns_of_audio(Audio(0.5 * (x[:n] + shifted), audio.sfreq), frame_seconds=0.2)
    assert np.nanmedian(note.f0) == pytest.approx(110.0, rel=0.02)  # A2
    assert np.nanmedian(note.consonance) > 0.6
    assert np.nanmedian(note.consonance) > np.nanmedian(mix.consonance) + 0.3
    assert np.nanmedian(note.dissonance) < np.nanmedian(mix.dissonance)
    assert np.nanmedian(note.valence) > np.nanmedian(mix.valence) + 0.3
    assert np.mean(note.valence > mix.valence) > 0.8  # frame by frame, not only on average
    # the same frames through the two entry points agree
    partials = spectral_partials(
        Audio(x[:n], audio.sfreq), frame_seconds=0.2, hop_seconds=0.1, n_partials=66, fmax=12000.0
    )
    np.testing.assert_allclose(cdns_of_partials(partials).valence, note.valence)


# --------------------------------------------------------------------------- errors and edge cases


def test_cdns_edge_cases_and_errors():
    empty = cdns([np.nan, np.nan], [np.nan, np.nan])
    assert math.isnan(empty.consonance) and math.isnan(empty.valence)
    single = cdns([440.0], [1.0], noise=0.3)
    assert single.consonance == pytest.approx(1.0) and single.noise == 0.3
    assert cdns([440.0], [1.0], expand=False).dissonance == 0.0
    # level does not change the signature
    a = cdns([300.0, 400.0, 500.0], [1.0, 0.5, 0.2])
    b = cdns([300.0, 400.0, 500.0], [10.0, 5.0, 2.0])
    assert (a.consonance, a.dissonance) == pytest.approx((b.consonance, b.dissonance))
    assert a.params["dissonance"] == "hutchinson_knopoff" and a.params["n_partials"] == 11
    with pytest.raises(ParameterError):
        cdns([440.0, 550.0], [1.0])
    with pytest.raises(ParameterError):
        cdns([-440.0], [1.0])
    with pytest.raises(ParameterError):
        cdns([440.0], [1.0], dissonance="max")
    with pytest.raises(ParameterError):
        cdns([440.0], [1.0], consonance="min")
    with pytest.raises(ParameterError):
        harmonicity([440.0], [1.0], tolerance_cents=-1)
    with pytest.raises(ParameterError):
        cdns_of_partials("not partials")
    with pytest.raises(ParameterError):
        cdns_of_aperiodic_fit(object(), (8, 13))


# --------------------------------------------------------------------------- 7. symbols vs audio


def _render(freqs, seconds=0.5, sr=22050):
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * sr)) / sr
    f, a = expand_harmonics(freqs, np.ones(len(freqs)))
    x = (a[:, None] * np.sin(2 * np.pi * f[:, None] * t + rng.uniform(0, 6.3, (f.size, 1)))).sum(0)
    return Audio(0.5 * x / np.abs(x).max(), sr)


@pytest.mark.parametrize(
    "semitones", [(0, 12), (0, 7), (0, 1), (0, 4, 7), (0, 3, 7), (0, 1, 2), (0, 4, 7, 10), (0, 4, 7, 11), (0, 1, 6, 11)]
)
def test_audio_and_symbols_agree(semitones):
    freqs = MIDDLE_C * 2.0 ** (np.array(semitones) / 12)
    sym = cdns(freqs, np.ones(len(freqs)))
    aud = cdns_of_audio(_render(freqs))
    assert aud.consonance.size == 1
    assert aud.consonance[0] == pytest.approx(sym.consonance, abs=0.05)
    assert aud.dissonance[0] == pytest.approx(sym.dissonance, abs=0.1)
    assert aud.valence[0] == pytest.approx(sym.valence, abs=0.1)
    if semitones == (0, 12):
        assert aud.consonance[0] == pytest.approx(1.0, abs=1e-6) and sym.consonance == pytest.approx(1.0)
