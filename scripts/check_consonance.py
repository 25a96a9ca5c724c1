"""Acceptance figures of the CDNS consonance model (issue 14, part 1).

Prints: the Hutchinson-Knopoff curve's peak and cut-off; Gill & Purves dyad
values for just-tuned harmonic tones; the twelve 12-TET dyads on middle C and
their tiers; Spearman rho with the Schwartz et al. (2003) consensus ranks;
Pearson r with the Lahdelma & Eerola (2016) chord means; and, for every 12-TET
dyad, triad and tetrad within an octave, the agreement of valence computed
from synthesised audio with valence from the chord symbols. Nothing here is
fitted: the model's parameters are the published ones.

The listener ratings are read from ``../shared/data/consonance`` (or
``$HARMONIX_DATA/consonance``). ``--quick`` uses the dyads and triads only for
the audio sweep. The last line is ``key=value`` pairs.

Usage: ``python scripts/check_consonance.py [--quick]``
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
from pathlib import Path

import numpy as np
from scipy import stats

from harmonix.estimators.consonance import MIDDLE_C, cdns, cdns_of_audio, expand_harmonics, harmonicity
from harmonix.estimators.roughness import HK_CUTOFF, hk_dissonance_factor
from harmonix.io.audio import Audio

INTERVALS = dict(zip(["m2", "M2", "m3", "M3", "P4", "TT", "P5", "m6", "M6", "m7", "M7", "P8"], range(1, 13)))
TIERS = [("P8", "P5"), ("P4", "M3", "M6", "m3", "m6"), ("TT", "M2", "m7", "M7"), ("m2",)]
JUST = {"P8": (2, 1), "P5": (3, 2), "P4": (4, 3), "M6": (5, 3), "M3": (5, 4), "m3": (6, 5), "m6": (8, 5),
        "TT": (7, 5), "m7": (9, 5), "M2": (9, 8), "M7": (15, 8), "m2": (16, 15)}
SR = 22050


def data_dir() -> Path:
    root = Path(os.environ.get("HARMONIX_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    return root / "consonance"


def midi_hz(midi) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def tier_margin(score: dict[str, float]) -> float:
    """Smallest gap between the lowest member of a tier and the highest of the next (negative: violated)."""
    return min(min(score[k] for k in hi) - max(score[k] for k in lo) for hi, lo in itertools.pairwise(TIERS))


def render(freqs: np.ndarray, seconds: float) -> Audio:
    """Sum of 11-harmonic, 1/k tones (random phases, fixed seed), peak 0.5 full scale."""
    rng = np.random.default_rng(1)
    t = np.arange(int(round(seconds * SR))) / SR
    f, a = expand_harmonics(freqs, np.ones(len(freqs)))
    keep = f < SR / 2
    x = (a[keep, None] * np.sin(2 * np.pi * f[keep, None] * t + rng.uniform(0, 2 * np.pi, (keep.sum(), 1)))).sum(0)
    return Audio(0.5 * x / np.abs(x).max(), SR)


def audio_sweep(max_notes: int, root: float = MIDDLE_C) -> dict[str, float]:
    """Valence from audio (one 0.5-s frame) vs symbols for every chord of 2..max_notes notes within an octave."""
    sym, aud, names = [], [], []
    for n in range(2, max_notes + 1):
        for upper in itertools.combinations(range(1, 13), n - 1):
            freqs = root * 2.0 ** (np.array((0, *upper)) / 12.0)
            sym.append(cdns(freqs, np.ones(n)).valence)
            aud.append(float(cdns_of_audio(render(freqs, 0.5)).valence[0]))
            names.append("-".join(map(str, (0, *upper))))
    sym_v, aud_v = np.array(sym), np.array(aud)
    diff = np.abs(aud_v - sym_v)
    worst = int(np.argmax(diff))
    return {"n_chords": len(sym), "r": float(stats.pearsonr(sym_v, aud_v)[0]), "max_abs": float(diff.max()),
            "median_abs": float(np.median(diff)), "worst": names[worst]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="audio sweep over dyads and triads only")
    args = parser.parse_args()

    y = np.linspace(0.0, 2.0, 20001)
    g = hk_dissonance_factor(y)
    peak_y = float(y[np.argmax(g)])
    beyond = float(np.max(g[y > HK_CUTOFF]))
    print(f"Hutchinson-Knopoff g(y): peak at y = {peak_y:.4f} CBW (g = {g.max():.4f}); max beyond 1.2 CBW = {beyond}")

    print("Gill & Purves, just-tuned 11-harmonic dyads: harmonicity vs (p+q-1)/pq")
    gp_err = 0.0
    for name, (p, q) in JUST.items():
        f, a = expand_harmonics([200.0, 200.0 * p / q], [1.0, 1.0])
        h = harmonicity(f, a).harmonicity
        gp_err = max(gp_err, abs(h - (p + q - 1) / (p * q)))
        print(f"  {name:3s} {p}:{q:<3d} {h:.6f}  {(p + q - 1) / (p * q):.6f}")

    dyads = {k: cdns([MIDDLE_C, MIDDLE_C * 2 ** (st / 12)], [1.0, 1.0]) for k, st in INTERVALS.items()}
    print("12-TET dyads on middle C (11 harmonics, 1/k):   C      D      V")
    for k, s in sorted(dyads.items(), key=lambda kv: -kv[1].valence):
        print(f"  {k:3s} {s.consonance:7.3f} {s.dissonance:6.3f} {s.valence:6.3f}")
    margin = tier_margin({k: s.valence for k, s in dyads.items()})
    print(f"tiers {{P8,P5}} > {{P4,M3,M6,m3,m6}} > {{TT,M2,m7,M7}} > m2: smallest margin {margin:+.4f}")

    folder = data_dir()
    with open(folder / "schwartz2003_dyad_ranks.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    val = [cdns(midi_hz(60 + np.array(r["interval"].split(), dtype=float)), [1.0, 1.0]).valence for r in rows]
    rho = float(stats.spearmanr(val, [-float(r["consonance_rank"]) for r in rows])[0])
    print(f"Schwartz et al. 2003 consensus ranks (12 dyads, root C4): Spearman rho = {rho:.3f}")

    with open(folder / "lahdelma2016_chords.csv", newline="") as fh:
        chords = list(csv.DictReader(fh))
    ratings = [float(c["consonance_mean"]) for c in chords]
    le = {}
    for label, bass in (("G4", 67), ("C4", 60), ("C5", 72)):
        sigs = [cdns(midi_hz(bass + np.array(c["semitones_above_bass"].split(), dtype=float)),
                     np.ones(len(c["semitones_above_bass"].split()))) for c in chords]
        le[label] = {t: float(stats.pearsonr([getattr(s, t) for s in sigs], ratings)[0])
                     for t in ("valence", "consonance", "dissonance")}
        print(f"Lahdelma & Eerola 2016 (15 chords, bass {label}): r(V) = {le[label]['valence']:.3f}, "
              f"r(C) = {le[label]['consonance']:.3f}, r(D) = {le[label]['dissonance']:.3f}")

    sweep = audio_sweep(3 if args.quick else 4)
    print(f"audio vs symbols, {sweep['n_chords']} chords on C4: valence r = {sweep['r']:.4f}, "
          f"max |diff| = {sweep['max_abs']:.4f} ({sweep['worst']}), median |diff| = {sweep['median_abs']:.4f}")
    octave = cdns_of_audio(render(np.array([MIDDLE_C, 2 * MIDDLE_C]), 0.5)).consonance[0]
    print(f"octave C: symbols {dyads['P8'].consonance:.3f}, audio {octave:.3f}")

    print(
        f"hk_peak_y={peak_y:.4f} hk_max_beyond_1.2={beyond:g} gp_max_err={gp_err:.2e} tier_margin={margin:.4f} "
        f"schwartz_rho={rho:.4f} le_r_G4={le['G4']['valence']:.4f} le_r_C4={le['C4']['valence']:.4f} "
        f"le_r_C5={le['C5']['valence']:.4f} audio_n={sweep['n_chords']} audio_r={sweep['r']:.4f} "
        f"audio_max_abs={sweep['max_abs']:.4f} audio_median_abs={sweep['median_abs']:.4f} octave_audio_C={octave:.4f}"
    )


if __name__ == "__main__":
    main()
