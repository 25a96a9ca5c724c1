"""Compare pre/post sessions: paired and unpaired statistics, window tests, FDR.

The statistics live in four modules of one idea each —
:mod:`harmonix.compare.effect_sizes` (Cohen's d_z, Hedges' g),
:mod:`harmonix.compare.bootstrap` (percentile and BCa intervals),
:mod:`harmonix.compare.permutation` (sign-flip, label and window permutation
tests) and :mod:`harmonix.compare.stats` (all tests of one metric at once,
and FDR) — and the comparison tables built from them in
:mod:`harmonix.compare.tables`; the most used names are re-exported here::

    from harmonix.compare import compare_tables, paired_tests, fdr_bh

See :mod:`harmonix.compare.stats` for the designs and conventions
(difference = post - pre, seeded randomness), and each module for its
formulas and references.
"""

from harmonix.compare.bootstrap import bootstrap_ci_mean, bootstrap_ci_mean_difference
from harmonix.compare.effect_sizes import cohens_dz, hedges_correction, hedges_g, hedges_g_paired
from harmonix.compare.permutation import (
    PermutationTestResult,
    WindowResult,
    paired_permutation_test,
    unpaired_permutation_test,
    window_permutation_test,
)
from harmonix.compare.stats import PairedResult, UnpairedResult, fdr_bh, paired_tests, unpaired_tests
from harmonix.compare.tables import COMPARISON_COLUMNS, compare_tables, unmatched_subjects

__all__ = [
    "COMPARISON_COLUMNS",
    "PairedResult",
    "PermutationTestResult",
    "UnpairedResult",
    "WindowResult",
    "bootstrap_ci_mean",
    "bootstrap_ci_mean_difference",
    "cohens_dz",
    "compare_tables",
    "fdr_bh",
    "hedges_correction",
    "hedges_g",
    "hedges_g_paired",
    "paired_permutation_test",
    "paired_tests",
    "unmatched_subjects",
    "unpaired_permutation_test",
    "unpaired_tests",
    "window_permutation_test",
]
