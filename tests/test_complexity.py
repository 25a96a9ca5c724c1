"""Known answers for harmonix.estimators.complexity."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.complexity import (
    band_lempel_ziv,
    lempel_ziv_complexity,
    lz76_count,
    repertoire_entropy,
    spectral_entropy,
)
from harmonix.spectral.psd import compute_psd


def _naive_lz76(s: str) -> int:
    """Exhaustive LZ76 parsing written from the definition (Lempel & Ziv 1976)."""
    n, c, p = len(s), 0, 0
    while p < n:
        length = 1
        # Grow the component while it can be copied from text starting before it.
        while p + length <= n and s[p : p + length] in s[: p + length - 1]:
            length += 1
        c += 1
        p += length
    return c


def test_lz76_textbook_example():
    # Kaspar & Schuster (1987): 0001101001000101 parses as 0.001.10.100.1000.101
    assert lz76_count([int(ch) for ch in "0001101001000101"]) == 6
    assert _naive_lz76("0001101001000101") == 6


def test_lz76_matches_naive_reference(rng):
    for _ in range(300):
        n = int(rng.integers(1, 60))
        s = rng.integers(0, 2, size=n)
        assert lz76_count(s) == _naive_lz76("".join(map(str, s))), s
    for _ in range(50):  # larger alphabets too
        s = rng.integers(0, 4, size=40)
        assert lz76_count(s) == _naive_lz76("".join(map(str, s)))


def test_lz_low_for_constant_and_periodic_high_for_noise(rng):
    n = 10_000
    assert lz76_count(np.zeros(n, dtype=int)) == 2
    assert lempel_ziv_complexity(np.zeros(n), threshold=0.5) < 0.01
    periodic = np.sin(2 * np.pi * (np.arange(n) + 0.25) / 20.0)  # no sample exactly at the median
    assert lempel_ziv_complexity(periodic) < 0.02
    noise = lempel_ziv_complexity(rng.normal(size=(4, n)))
    assert noise.shape == (4,)
    np.testing.assert_allclose(noise, 1.0, atol=0.08)
    # Unnormalised count = normalised * n / log2(n)
    x = rng.normal(size=n)
    assert lempel_ziv_complexity(x, normalize=False) == pytest.approx(
        lempel_ziv_complexity(x) * n / np.log2(n)
    )


def test_lz_thresholds_and_shapes(rng):
    x = rng.normal(size=(2, 3, 500))
    assert lempel_ziv_complexity(x).shape == (2, 3)
    assert np.isfinite(lempel_ziv_complexity(x, threshold="mean")).all()
    assert isinstance(lempel_ziv_complexity(x[0, 0], threshold=0.0), float)
    with pytest.raises(ParameterError, match="threshold"):
        lempel_ziv_complexity(x, threshold="mode")
    with pytest.raises(DataQualityError):
        lempel_ziv_complexity(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ParameterError, match="2 samples"):
        lempel_ziv_complexity(np.ones(1))


def test_band_lempel_ziv(rng):
    sfreq = 250.0
    n = int(40 * sfreq)
    t = np.arange(n) / sfreq
    steady = np.sin(2 * np.pi * 10 * t)  # constant alpha amplitude -> envelope barely varies
    noise = rng.normal(size=n)
    bands = {"alpha": (8.0, 13.0), "beta": (13.0, 30.0)}
    lz = band_lempel_ziv(np.vstack([noise, noise + 0.0 * steady]), sfreq, bands)
    assert lz.shape == (2, 2)
    np.testing.assert_allclose(lz[0], lz[1])
    # Wider band -> faster envelope fluctuations -> higher complexity
    assert lz[0, 1] > lz[0, 0]
    # An amplitude-modulated alpha with a slow periodic envelope is less complex than noise
    am = (1 + 0.8 * np.sin(2 * np.pi * 0.5 * t)) * steady + 0.01 * noise
    lz_am = band_lempel_ziv(am[None], sfreq, {"alpha": (8.0, 13.0)})
    assert lz_am[0, 0] < 0.5 * lz[0, 0]
    with pytest.raises(ParameterError, match="signal"):
        band_lempel_ziv(noise[None], sfreq, bands, signal="phase")


def test_spectral_entropy_white_vs_sine(rng):
    sfreq = 250.0
    t = np.arange(int(60 * sfreq)) / sfreq
    data = np.vstack([rng.normal(size=t.size), np.sin(2 * np.pi * 10 * t) + 1e-3 * rng.normal(size=t.size)])
    spec = compute_psd(data, sfreq)
    h = spectral_entropy(spec, fmin=1.0, fmax=45.0)
    assert h[0] == pytest.approx(1.0, abs=0.01)
    assert h[1] < 0.2
    raw_bits = spectral_entropy(spec, fmin=1.0, fmax=45.0, normalize=False)
    n_bins = np.sum((spec.freqs >= 1.0) & (spec.freqs <= 45.0))
    assert raw_bits[0] == pytest.approx(h[0] * np.log2(n_bins))
    # Same from a plain array
    np.testing.assert_allclose(spectral_entropy(spec.psd, spec.freqs, fmin=1.0, fmax=45.0), h)
    with pytest.raises(ParameterError, match="at least 2 bins"):
        spectral_entropy(spec, fmin=200.0, fmax=300.0)
    with pytest.raises(ParameterError, match="freqs"):
        spectral_entropy(spec.psd)


def test_repertoire_entropy():
    for n in (2, 7, 200):
        assert repertoire_entropy(np.full(n, 3.0)) == pytest.approx(np.log2(n))
        assert repertoire_entropy(np.full(n, 3.0), normalize=True) == pytest.approx(1.0)
    delta = np.zeros(50)
    delta[3] = 2.5
    assert repertoire_entropy(delta) == 0.0
    assert repertoire_entropy([1.0, 1.0, 2.0]) == pytest.approx(1.5)
    rows = repertoire_entropy(np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(rows, [2.0, 0.0])
    assert np.isnan(repertoire_entropy(np.zeros(4)))
    with pytest.raises(ParameterError, match="non-negative"):
        repertoire_entropy([1.0, -0.5])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=0, max_size=400), st.integers(1, 9))
def test_linear_time_lz76_counts_exactly_as_kaspar_schuster(symbols, run):
    """The suffix-automaton count equals the Kaspar-Schuster scan, on random and on run-heavy sequences."""
    from harmonix.estimators.complexity import _lz76_py, _lz76_rows

    sequence = np.repeat(np.array(symbols, dtype=np.uint8), run)
    expected = _lz76_py(sequence)
    assert lz76_count(sequence) == expected
    if sequence.size:
        assert _lz76_rows(sequence[np.newaxis])[0] == expected
