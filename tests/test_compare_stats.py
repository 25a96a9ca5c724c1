"""Statistics of harmonix.compare: known answers, agreement with scipy, calibration under the null."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harmonix.compare import (
    COMPARISON_COLUMNS,
    bootstrap_ci_mean,
    bootstrap_ci_mean_difference,
    cohens_dz,
    compare_tables,
    fdr_bh,
    hedges_correction,
    hedges_g,
    hedges_g_paired,
    paired_permutation_test,
    paired_tests,
    unmatched_subjects,
    unpaired_permutation_test,
    unpaired_tests,
    window_permutation_test,
)
from harmonix.errors import ParameterError


def _mean_diff(x, y, axis):
    return np.mean(y - x, axis=axis)


def _diff_of_means(x, y, axis):
    return np.mean(y, axis=axis) - np.mean(x, axis=axis)


def _scipy_permutation(data, statistic, permutation_type, n_resamples, alternative, seed=0):
    kwargs = dict(
        permutation_type=permutation_type, n_resamples=n_resamples, vectorized=True, alternative=alternative
    )
    try:
        return stats.permutation_test(data, statistic, rng=seed, **kwargs)
    except TypeError:  # scipy < 1.15 names the generator random_state
        return stats.permutation_test(data, statistic, random_state=seed, **kwargs)


# ---------------------------------------------------------------------------
# permutation tests against scipy.stats.permutation_test


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_paired_permutation_exact_equals_scipy(alternative):
    rng = np.random.default_rng(11)
    pre = rng.normal(10.0, 2.0, size=12)
    post = pre + rng.normal(0.7, 1.0, size=12)  # known effect: +0.7
    ours = paired_permutation_test(pre, post, n_permutations=4096, alternative=alternative)
    ref = _scipy_permutation((pre, post), _mean_diff, "samples", 4096, alternative)
    assert ours.exact and ours.n_permutations == 2**12
    assert ours.statistic == pytest.approx(float(np.mean(post - pre)), rel=1e-12)
    assert ours.pvalue == pytest.approx(float(ref.pvalue), rel=1e-12, abs=0)


def test_paired_permutation_monte_carlo_matches_scipy_within_mc_error():
    rng = np.random.default_rng(7)
    pre = rng.normal(0.0, 1.0, size=24)
    post = pre + rng.normal(0.6, 1.0, size=24)  # 2**24 sign vectors: Monte Carlo
    n_resamples = 20000
    ours = paired_permutation_test(pre, post, n_permutations=n_resamples, seed=1)
    ref = _scipy_permutation((pre, post), _mean_diff, "samples", n_resamples, "two-sided", seed=2)
    assert not ours.exact and ours.n_permutations == n_resamples
    p = float(ref.pvalue)
    assert 0.001 < p < 0.2, "the dataset should carry a moderate, known effect"
    mc_se = math.sqrt(2 * p * (1 - p) / n_resamples) * 2  # two independent two-sided estimates
    assert abs(ours.pvalue - p) < 4 * mc_se
    # the t-test on the same data agrees in order of magnitude
    assert 0.2 < ours.pvalue / stats.ttest_rel(post, pre).pvalue < 5


def test_monte_carlo_p_value_is_never_zero():
    """Phipson & Smyth: with B random permutations the smallest two-sided p is 2 / (B + 1)."""
    rng = np.random.default_rng(3)
    pre = rng.normal(size=40)
    post = pre + 5.0 + rng.normal(scale=0.1, size=40)
    res = paired_permutation_test(pre, post, n_permutations=999, seed=0)
    assert res.pvalue == pytest.approx(2 / 1000)
    assert paired_permutation_test(pre, post, n_permutations=999, seed=0, alternative="greater").pvalue == 1 / 1000


def test_paired_permutation_is_reproducible_from_seed():
    rng = np.random.default_rng(4)
    pre, post = rng.normal(size=30), rng.normal(0.3, 1, size=30)
    a = paired_permutation_test(pre, post, n_permutations=2000, seed=123)
    b = paired_permutation_test(pre, post, n_permutations=2000, seed=123)
    c = paired_permutation_test(pre, post, n_permutations=2000, seed=np.random.default_rng(123))
    assert a == b
    assert c.pvalue == pytest.approx(a.pvalue, abs=0.05)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_unpaired_permutation_exact_equals_scipy(alternative):
    rng = np.random.default_rng(21)
    x = rng.normal(0.0, 1.0, size=7)
    y = rng.normal(1.0, 1.5, size=8)
    ours = unpaired_permutation_test(x, y, n_permutations=10000, alternative=alternative)
    ref = _scipy_permutation((x, y), _diff_of_means, "independent", 10000, alternative)
    assert ours.exact and ours.n_permutations == math.comb(15, 7)
    assert ours.pvalue == pytest.approx(float(ref.pvalue), rel=1e-12, abs=0)


def test_unpaired_permutation_monte_carlo_matches_scipy():
    rng = np.random.default_rng(22)
    x = rng.normal(0.0, 1.0, size=25)
    y = rng.normal(0.6, 1.0, size=30)
    ours = unpaired_permutation_test(x, y, n_permutations=20000, seed=5)
    ref = _scipy_permutation((x, y), _diff_of_means, "independent", 20000, "two-sided", seed=6)
    p = float(ref.pvalue)
    assert not ours.exact
    assert abs(ours.pvalue - p) < 4 * math.sqrt(2 * p * (1 - p) / 20000) * 2 + 1e-4


# ---------------------------------------------------------------------------
# effect sizes


def test_effect_sizes_on_constructed_data():
    pre = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    post = 2 * pre  # differences 1..5: mean 3, sd sqrt(2.5)
    dz = 3 / math.sqrt(2.5)
    j4 = 2 / math.sqrt(2 * math.pi)  # Gamma(2) / (sqrt(2) Gamma(3/2))
    assert cohens_dz(pre, post) == pytest.approx(dz, rel=1e-12)
    assert hedges_correction(4) == pytest.approx(j4, rel=1e-12)
    assert hedges_g_paired(pre, post) == pytest.approx(dz * j4, rel=1e-12)
    # d_z is the paired t statistic over sqrt(n)
    assert cohens_dz(pre, post) == pytest.approx(stats.ttest_rel(post, pre).statistic / math.sqrt(5), rel=1e-12)

    x, y = np.array([1.0, 2, 3, 4, 5]), np.array([3.0, 4, 5, 6, 7])
    j8 = 1.6 / math.sqrt(math.pi)  # Gamma(4) / (2 Gamma(7/2))
    assert hedges_g(x, y) == pytest.approx(2 / math.sqrt(2.5) * j8, rel=1e-12)
    assert hedges_g(y, x) == pytest.approx(-hedges_g(x, y))
    res = unpaired_tests(x, y, n_bootstrap=500)
    assert res.cohens_d == pytest.approx(2 / math.sqrt(2.5))
    assert res.sd_pooled == pytest.approx(math.sqrt(2.5))

    for df in (10, 30, 100):  # the exact J is close to Hedges' approximation
        assert hedges_correction(df) == pytest.approx(1 - 3 / (4 * df - 1), abs=5e-4)
    assert math.isnan(hedges_correction(1))


def test_hedges_g_paired_removes_the_small_sample_bias():
    """E[d_z] = delta / J(n-1) for normal differences; g_z = J d_z is unbiased."""
    rng = np.random.default_rng(8)
    n, delta, reps = 6, 0.8, 4000
    diffs = rng.normal(delta, 1.0, size=(reps, n))
    pre = np.zeros(n)
    dz = np.array([cohens_dz(pre, d) for d in diffs])
    gz = np.array([hedges_g_paired(pre, d) for d in diffs])
    se = gz.std() / math.sqrt(reps)
    assert abs(gz.mean() - delta) < 4 * se
    assert dz.mean() == pytest.approx(delta / hedges_correction(n - 1), abs=4 * dz.std() / math.sqrt(reps))
    assert dz.mean() - delta > 0.1  # the uncorrected d_z is visibly biased at n = 6


def test_paired_tests_bundle_agrees_with_scipy():
    rng = np.random.default_rng(12)
    pre = rng.normal(5, 1, size=15)
    post = pre + rng.normal(0.8, 1, size=15)
    res = paired_tests(pre, post, n_bootstrap=2000, seed=3)
    d = post - pre
    assert res.n == 15
    assert res.mean_pre == pytest.approx(pre.mean()) and res.mean_post == pytest.approx(post.mean())
    assert res.difference == pytest.approx(d.mean())
    assert res.cohens_dz == pytest.approx(d.mean() / d.std(ddof=1))
    assert res.hedges_g == pytest.approx(res.cohens_dz * hedges_correction(14))
    assert res.p_ttest == pytest.approx(stats.ttest_rel(post, pre).pvalue, rel=1e-12)
    assert res.p_wilcoxon == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-12)
    assert res.ci_low < res.difference < res.ci_high
    assert res.exact is False and res.n_permutations == 10000
    assert res == paired_tests(pre, post, n_bootstrap=2000, seed=3)
    assert set(res.to_dict()) >= {"p_permutation", "p_wilcoxon", "p_ttest", "cohens_dz", "hedges_g", "ci_low"}
    for alternative in ("greater", "less"):
        one = paired_tests(pre, post, n_bootstrap=500, seed=3, alternative=alternative)
        assert one.p_ttest == pytest.approx(stats.ttest_rel(post, pre, alternative=alternative).pvalue, rel=1e-10)
        assert one.p_wilcoxon == pytest.approx(stats.wilcoxon(d, alternative=alternative).pvalue, rel=1e-10)
    greater = paired_tests(pre, post, n_bootstrap=500, seed=3, alternative="greater")
    assert res.p_permutation == pytest.approx(min(1.0, 2 * greater.p_permutation))  # same seed, same sign flips


def test_unpaired_tests_bundle_agrees_with_scipy():
    rng = np.random.default_rng(13)
    x = rng.normal(0, 1, size=12)
    y = rng.normal(1, 2, size=17)
    res = unpaired_tests(x, y, n_bootstrap=1000, seed=1)
    assert (res.n_pre, res.n_post) == (12, 17)
    assert res.difference == pytest.approx(y.mean() - x.mean())
    assert res.p_welch == pytest.approx(stats.ttest_ind(y, x, equal_var=False).pvalue, rel=1e-10)
    for alternative in ("greater", "less"):
        one = unpaired_tests(x, y, n_bootstrap=200, alternative=alternative)
        ref = stats.ttest_ind(y, x, equal_var=False, alternative=alternative).pvalue
        assert one.p_welch == pytest.approx(ref, rel=1e-10)
        assert one.p_mannwhitney == pytest.approx(stats.mannwhitneyu(y, x, alternative=alternative).pvalue)
    assert res.p_mannwhitney == pytest.approx(stats.mannwhitneyu(y, x).pvalue, rel=1e-12)
    assert res.hedges_g == pytest.approx(hedges_g(x, y))
    assert res.ci_low < res.difference < res.ci_high


# ---------------------------------------------------------------------------
# bootstrap


def test_bca_interval_matches_scipy_bootstrap():
    rng = np.random.default_rng(31)
    d = rng.exponential(size=15)  # skewed: acceleration and bias correction matter
    se = d.std(ddof=1) / math.sqrt(d.size)
    try:
        ref = stats.bootstrap((d,), np.mean, n_resamples=40000, method="BCa", rng=1).confidence_interval
    except TypeError:  # scipy < 1.15
        ref = stats.bootstrap((d,), np.mean, n_resamples=40000, method="BCa", random_state=1).confidence_interval
    lo, hi = bootstrap_ci_mean(d, n_bootstrap=40000, seed=2)
    assert lo == pytest.approx(ref.low, abs=0.1 * se)
    assert hi == pytest.approx(ref.high, abs=0.1 * se)
    plo, phi = bootstrap_ci_mean(d, n_bootstrap=40000, ci_method="percentile", seed=2)
    assert plo == pytest.approx(np.quantile(d, 0.5), abs=10)  # sanity: finite numbers
    assert (lo, hi) != (plo, phi)


def test_bootstrap_ci_coverage_near_nominal():
    rng = np.random.default_rng(41)
    reps = 300
    hits_paired = hits_skewed = hits_unpaired = 0
    for i in range(reps):
        d = rng.normal(0.5, 1.0, size=40)
        lo, hi = bootstrap_ci_mean(d, n_bootstrap=1000, seed=i)
        hits_paired += lo <= 0.5 <= hi
        e = rng.exponential(size=40)
        lo, hi = bootstrap_ci_mean(e, n_bootstrap=1000, seed=i)
        hits_skewed += lo <= 1.0 <= hi
        x, y = rng.normal(0, 1, size=30), rng.normal(1, 2, size=40)
        lo, hi = bootstrap_ci_mean_difference(x, y, n_bootstrap=1000, seed=i)
        hits_unpaired += lo <= 1.0 <= hi
    for hits in (hits_paired, hits_skewed, hits_unpaired):
        assert 0.90 <= hits / reps <= 0.99


def test_paired_tests_ci_covers_true_difference_at_nominal_rate():
    rng = np.random.default_rng(42)
    reps, true = 200, 0.7
    hits = 0
    for i in range(reps):
        pre = rng.normal(3, 1, size=40)
        post = pre + rng.normal(true, 0.8, size=40)
        res = paired_tests(pre, post, n_permutations=500, n_bootstrap=1000, seed=i)
        hits += res.ci_low <= true <= res.ci_high
    assert 0.90 <= hits / reps <= 0.99


# ---------------------------------------------------------------------------
# FDR


def test_fdr_bh_hand_computation():
    p = [0.01, 0.04, 0.03, 0.2, np.nan]
    # m = 4 finite; sorted .01 .03 .04 .2 -> .01*4/1, .03*4/2, .04*4/3, .2*4/4 -> .04 .06 .0533 .2 -> step-up min
    expected_bh = [0.04, 0.16 / 3, 0.16 / 3, 0.2, np.nan]
    np.testing.assert_allclose(fdr_bh(p), expected_bh, rtol=1e-12)
    c4 = 1 + 1 / 2 + 1 / 3 + 1 / 4
    expected_by = [0.04 * c4, 0.16 / 3 * c4, 0.16 / 3 * c4, 0.2 * c4, np.nan]
    np.testing.assert_allclose(fdr_bh(p, method="by"), expected_by, rtol=1e-12)
    assert fdr_bh([0.9, 0.95]).tolist() == [0.95, 0.95]
    assert fdr_bh([]).shape == (0,)
    assert np.isnan(fdr_bh([np.nan, np.nan])).all()


@pytest.mark.parametrize("method", ["bh", "by"])
def test_fdr_bh_agrees_with_scipy(method):
    rng = np.random.default_rng(51)
    p = np.concatenate([rng.uniform(size=80), rng.uniform(0, 0.01, size=20), [0.0, 1.0, 0.5, 0.5]])
    np.testing.assert_allclose(fdr_bh(p, method=method), stats.false_discovery_control(p, method=method), rtol=1e-12)
    grid = p[:100].reshape(10, 10)
    q = fdr_bh(grid, method=method)
    assert q.shape == (10, 10)
    np.testing.assert_allclose(q.ravel(), stats.false_discovery_control(grid.ravel(), method=method), rtol=1e-12)
    # NaN entries pass through and do not count in m
    with_nan = p.copy()
    with_nan[::7] = np.nan
    q = fdr_bh(with_nan, method=method)
    keep = ~np.isnan(with_nan)
    assert np.isnan(q[~keep]).all()
    np.testing.assert_allclose(q[keep], stats.false_discovery_control(with_nan[keep], method=method), rtol=1e-12)


def test_fdr_bh_rejects_values_outside_unit_interval():
    with pytest.raises(ParameterError, match="outside"):
        fdr_bh([0.1, 1.5])
    with pytest.raises(ParameterError, match="method"):
        fdr_bh([0.1], method="holm")


# ---------------------------------------------------------------------------
# calibration under the null


def _tidy(values: np.ndarray, session: str, *, metric_names=None, subjects=None) -> pd.DataFrame:
    """``values`` (n_subjects, n_metrics) -> tidy metric rows with a subject column."""
    n_sub, n_met = values.shape
    subjects = subjects or [f"sub-{i:02d}" for i in range(n_sub)]
    metric_names = metric_names or [f"m{j:02d}" for j in range(n_met)]
    sub, met = np.meshgrid(np.arange(n_sub), np.arange(n_met), indexing="ij")
    return pd.DataFrame(
        {
            "session": [f"{subjects[i]}_{session}" for i in sub.ravel()],
            "subject": [subjects[i] for i in sub.ravel()],
            "metric": [metric_names[j] for j in met.ravel()],
            "band": "alpha",
            "component": "Cz",
            "value": values.ravel(),
            "unit": "a.u.",
        }
    )


@pytest.mark.slow
def test_compare_tables_null_family_wise_rate_at_most_nominal():
    """Complete null: 200 datasets x 30 metrics, pre and post from the same distribution.

    Under the complete null the FDR equals the family-wise error rate, so the
    fraction of datasets with any q < 0.05 must be about <= 0.05. Tolerance:
    0.08 (= 16/200; for a true rate of 0.05, P(X > 16) ~ 0.02 under Binomial(200, 0.05)).
    Without the correction, most datasets would show some p < 0.05.
    """
    rng = np.random.default_rng(61)
    n_datasets, n_sub, n_met = 200, 12, 30
    any_q = any_p = 0
    rejected = tested = 0
    for k in range(n_datasets):
        subject_level = rng.normal(size=(n_sub, n_met))
        pre = subject_level + rng.normal(size=(n_sub, n_met))
        post = subject_level + rng.normal(size=(n_sub, n_met))
        out = compare_tables(_tidy(pre, "pre"), _tidy(post, "post"), n_permutations=4096, n_bootstrap=100, seed=k)
        assert len(out) == n_met and out["q"].notna().all()
        any_q += bool((out["q"] < 0.05).any())
        any_p += bool((out["p"] < 0.05).any())
        rejected += int((out["q"] < 0.05).sum())
        tested += len(out)
    assert any_q / n_datasets <= 0.08
    assert rejected / tested <= 0.05
    assert any_p / n_datasets > 0.5  # the check has teeth: uncorrected p-values do flag most datasets


def test_shuffled_labels_keep_false_discoveries_at_nominal_rate():
    """Shuffle pre/post labels within subjects of a dataset with real effects: the planted effects vanish."""
    rng = np.random.default_rng(62)
    n_sub, n_met = 14, 30
    base = rng.normal(size=(n_sub, n_met))
    pre = base + rng.normal(scale=0.5, size=(n_sub, n_met))
    post = base + rng.normal(scale=0.5, size=(n_sub, n_met))
    post[:, :10] += 1.0  # real effects in a third of the metrics
    p_orig = np.array([paired_permutation_test(pre[:, j], post[:, j], n_permutations=2000).pvalue for j in range(n_met)])
    assert (fdr_bh(p_orig)[:10] < 0.05).all()
    n_datasets = 200
    any_q = 0
    for k in range(n_datasets):
        swap = rng.random(n_sub) < 0.5  # one coin per subject, all metrics together (dependence kept)
        a = np.where(swap[:, None], post, pre)
        b = np.where(swap[:, None], pre, post)
        p = [paired_permutation_test(a[:, j], b[:, j], n_permutations=2000, seed=k * 100 + j).pvalue for j in range(n_met)]
        any_q += bool((fdr_bh(p) < 0.05).any())
    assert any_q / n_datasets <= 0.08


def test_window_test_block_permutation_controls_autocorrelated_null():
    """AR(1) windows (rho = 0.8), no change: single-window permutation is badly anti-conservative.

    Blocks of 25 windows (~3 integrated autocorrelation times, (1 + rho)/(1 - rho) = 9) bring the
    false-positive rate back near 5 % (tolerance 0.1 over 150 series); single windows give > 30 %.
    """
    rng = np.random.default_rng(71)
    reps, n, phi = 150, 200, 0.8
    false_window = false_block = 0
    for i in range(reps):
        e = rng.normal(size=n)
        s = np.empty(n)
        s[0] = e[0] / math.sqrt(1 - phi**2)
        for t in range(1, n):
            s[t] = phi * s[t - 1] + e[t]
        single = window_permutation_test(s[:100], s[100:], n_permutations=999, n_bootstrap=100, seed=i)
        block = window_permutation_test(s[:100], s[100:], block_size=25, n_permutations=999, n_bootstrap=100, seed=i)
        false_window += single.pvalue < 0.05
        false_block += block.pvalue < 0.05
        assert single.autocorrelation > 0.5
    assert false_window / reps > 0.3
    assert false_block / reps <= 0.10
    assert block.exact and block.n_permutations == math.comb(8, 4)
    assert (block.n_blocks_pre, block.n_blocks_post, block.block_size) == (4, 4, 25)


def test_window_test_finds_a_real_shift():
    rng = np.random.default_rng(72)
    pre = rng.normal(0, 1, size=60)
    post = rng.normal(1, 1, size=50)
    res = window_permutation_test(pre, post, n_bootstrap=2000, seed=0)
    ref = unpaired_permutation_test(pre, post, seed=0)
    assert res.pvalue < 0.001 and abs(res.pvalue - ref.pvalue) < 0.002
    assert res.hedges_g == pytest.approx(hedges_g(pre, post))
    assert res.ci_low < res.difference < res.ci_high and res.ci_low > 0
    assert abs(res.autocorrelation) < 0.3
    blocked = window_permutation_test(pre, post, block_size=7, n_bootstrap=2000, seed=0)  # uneven last blocks
    assert blocked.pvalue < 0.01 and blocked.difference == pytest.approx(res.difference)
    assert (blocked.n_blocks_pre, blocked.n_blocks_post) == (9, 8)


# ---------------------------------------------------------------------------
# compare_tables end to end


def _planted_tables(rng, n_sub=10):
    metrics = ["band_power", "plv", "harmonic_energy", "entropy"]
    bands = ["theta", "alpha"]
    comps = ["Fz", "Pz"]
    rows_pre, rows_post = [], []
    for s in range(n_sub):
        subject = f"sub-{s:02d}"
        for m in metrics:
            for b in bands:
                for c in comps:
                    base = rng.normal(10, 2)
                    before = base + rng.normal(0, 0.5)
                    after = base + rng.normal(0, 0.5)
                    if m == "harmonic_energy":
                        after += 1.5  # the planted increase (3 SD of the noise of the differences ~0.7)
                    rows_pre.append((f"{subject}_pre", subject, m, b, c, before, "a.u."))
                    rows_post.append((f"{subject}_post", subject, m, b, c, after, "a.u."))
    cols = ["session", "subject", "metric", "band", "component", "value", "unit"]
    return pd.DataFrame(rows_pre, columns=cols), pd.DataFrame(rows_post, columns=cols)


def test_compare_tables_finds_planted_change_only():
    pre, post = _planted_tables(np.random.default_rng(81))
    # a pre without a post, a metric measured in only one subject, a constant metric
    pre = pd.concat(
        [
            pre,
            pd.DataFrame(
                [
                    ("sub-99_pre", "sub-99", "plv", "alpha", "Fz", 3.0, "a.u."),
                    ("sub-00_pre", "sub-00", "rare", "", "", 1.0, ""),
                    *[(f"sub-0{i}_pre", f"sub-0{i}", "n_channels", "", "", 64.0, "") for i in range(5)],
                ],
                columns=pre.columns,
            ),
        ],
        ignore_index=True,
    )
    post = pd.concat(
        [
            post,
            pd.DataFrame(
                [
                    ("sub-00_post", "sub-00", "rare", "", "", 2.0, ""),
                    *[(f"sub-0{i}_post", f"sub-0{i}", "n_channels", "", "", 64.0, "") for i in range(5)],
                ],
                columns=post.columns,
            ),
        ],
        ignore_index=True,
    )
    out = compare_tables(pre, post, n_permutations=5000, n_bootstrap=2000, seed=0)

    assert list(out.columns[: len(COMPARISON_COLUMNS)]) == list(COMPARISON_COLUMNS)
    assert len(out) == 4 * 2 * 2 + 2
    planted = out[out["metric"] == "harmonic_energy"]
    others = out[(out["metric"] != "harmonic_energy") & out["q"].notna()]
    assert len(planted) == 4 and len(others) == 12
    assert (planted["q"] < 0.05).all()
    assert (planted["difference"] > 0).all() and (planted["ci_low"] > 0).all() and (planted["effect_size"] > 1).all()
    assert (planted["p_ttest"] < 0.05).all() and (planted["p_wilcoxon"] < 0.05).all()
    assert (others["q"] >= 0.05).all()
    assert (out["effect_size_kind"] == "d_z").all()
    np.testing.assert_allclose(out["q"].dropna(), fdr_bh(out["p"].dropna()))

    # reported, not dropped
    rare = out[out["metric"] == "rare"].iloc[0]
    assert rare["n"] == 1 and np.isnan(rare["q"]) and "fewer than 2" in rare["note"]
    const = out[out["metric"] == "n_channels"].iloc[0]
    assert const["n"] == 5 and np.isnan(const["p"]) and "zero variance" in const["note"]
    plv = out[(out["metric"] == "plv") & (out["band"] == "alpha") & (out["component"] == "Fz")].iloc[0]
    assert plv["n"] == 10 and "1 subject(s) without post" in plv["note"]
    assert out.attrs["unpaired_subjects"] == {"pre_only": ["sub-99"], "post_only": []}
    listing = unmatched_subjects(pre, post)
    assert listing[["subject", "metric", "present_in"]].values.tolist() == [["sub-99", "plv", "pre"]]

    # deterministic given the seed
    again = compare_tables(pre, post, n_permutations=5000, n_bootstrap=2000, seed=0)
    pd.testing.assert_frame_equal(out, again)


def test_compare_tables_unpaired_groups():
    rng = np.random.default_rng(82)
    control = _tidy(rng.normal(0, 1, size=(14, 6)), "ctrl", subjects=[f"c{i}" for i in range(14)])
    treated_values = rng.normal(0, 1, size=(16, 6))
    treated_values[:, 2] += 2.0
    treated = _tidy(treated_values, "trt", subjects=[f"t{i}" for i in range(16)])
    out = compare_tables(control, treated, design="unpaired", n_permutations=5000, n_bootstrap=1000, seed=1)
    assert (out["effect_size_kind"] == "hedges_g").all()
    assert (out["n_pre"] == 14).all() and (out["n_post"] == 16).all() and (out["n"] == 30).all()
    hit = out[out["metric"] == "m02"].iloc[0]
    assert hit["q"] < 0.05 and hit["difference"] > 0 and hit["effect_size"] > 1
    assert (out.loc[out["metric"] != "m02", "q"] >= 0.05).all()
    x = control.loc[control["metric"] == "m02", "value"].to_numpy()
    y = treated.loc[treated["metric"] == "m02", "value"].to_numpy()
    assert hit["p_ttest"] == pytest.approx(stats.ttest_ind(y, x, equal_var=False).pvalue)
    assert hit["p_wilcoxon"] == pytest.approx(stats.mannwhitneyu(y, x).pvalue)
    assert hit["effect_size"] == pytest.approx(hedges_g(x, y))
    assert out.attrs["parameters"]["design"] == "unpaired"


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: paired_permutation_test([1, np.nan, 3], [1, 2, 3]), "NaN"),
        (lambda: paired_permutation_test([1, 2, 3], [1, 2]), "same length"),
        (lambda: paired_permutation_test([1], [2]), "at least 2"),
        (lambda: paired_permutation_test([1, 2, 3], [1, 2, 3]), "zero"),
        (lambda: paired_tests([1, 2, 3], [2, 3, 4]), "zero variance"),
        (lambda: paired_tests([1, 2, 3], [2, 4, 5], alternative="bigger"), "alternative"),
        (lambda: paired_tests([1, 2, 3], [2, 4, 5], ci_level=95), "ci_level"),
        (lambda: paired_tests([1, 2, 3], [2, 4, 5], ci_method="student"), "ci_method"),
        (lambda: paired_permutation_test([1, 2, 3], [2, 4, 5], n_permutations=0), "n_permutations"),
        (lambda: cohens_dz([[1, 2], [3, 4]], [[1, 2], [3, 4]]), "1-D"),
        (lambda: hedges_g([1, 1, 1], [1, 1]), "pooled SD"),
        (lambda: unpaired_tests([1.0], [1.0, 2.0]), "at least 2"),
        (lambda: unpaired_permutation_test([2, 2], [2, 2]), "equal"),
        (lambda: window_permutation_test(np.arange(10.0), np.arange(10.0) + 1, block_size=10), "at least 2 blocks"),
        (lambda: window_permutation_test(np.arange(10.0), np.arange(10.0) + 1, block_size=0), "block_size"),
        (lambda: bootstrap_ci_mean([1, 2, 3], n_bootstrap=10), "n_bootstrap"),
        (lambda: paired_permutation_test(["a", "b"], [1, 2]), "numbers"),
    ],
)
def test_bad_input_raises_parameter_error(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_compare_tables_bad_input():
    pre, post = _planted_tables(np.random.default_rng(83), n_sub=3)
    with pytest.raises(ParameterError, match="subject"):
        compare_tables(pre.drop(columns="subject"), post)
    with pytest.raises(ParameterError, match="design"):
        compare_tables(pre, post, design="crossover")
    with pytest.raises(ParameterError, match="repeat"):
        compare_tables(pd.concat([pre, pre.iloc[:1]]), post)
    with pytest.raises(ParameterError, match="DataFrame"):
        compare_tables(pre.to_dict(), post)
    bad = pre.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[0, "value"] = "high"
    with pytest.raises(ParameterError, match="non-numeric"):
        compare_tables(bad, post)


@pytest.mark.parametrize("n_subjects, p_min, warns", [(3, 0.25, True), (4, 0.125, True), (5, 0.0625, True),
                                                      (6, 0.03125, False), (12, 2 / 4096, False)])
def test_smallest_attainable_p_and_the_warning(n_subjects, p_min, warns):
    """Acceptance (issue 16): the exact sign-flip test's floor, and a warning exactly when q < 0.05 is impossible."""
    from harmonix.compare.tables import significance_warning

    rng = np.random.default_rng(n_subjects)
    rows = []
    for s in range(n_subjects):
        for label, shift in (("pre", 0.0), ("post", 1.0)):
            for metric in ("a", "b"):
                rows.append({"subject": f"{s:02d}", "session": label, "metric": metric, "band": "alpha",
                             "component": "all", "value": rng.normal() + 5 * shift, "unit": "1"})
    table = pd.DataFrame(rows)
    out = compare_tables(table[table.session == "pre"], table[table.session == "post"], n_permutations=10000)
    assert np.allclose(out["p_min"], p_min)
    # every difference is positive: the test reaches its floor
    assert np.allclose(out["p"], p_min)
    warning = significance_warning(out)
    assert bool(warning) == warns and ((out["q"] < 0.05).any() != warns)
    if warns:
        assert f"{n_subjects} paired subjects" in warning and f"{p_min:.3g}" in warning
        assert out["note"].str.contains("impossible with this design").all()
    else:
        assert not out["note"].str.contains("impossible").any()
