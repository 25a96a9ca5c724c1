"""Compare pre/post sessions: paired and unpaired statistics, window tests, FDR.

The statistics live in :mod:`harmonix.compare.stats`, the comparison tables
built from them in :mod:`harmonix.compare.tables`; the most used names are
re-exported here::

    from harmonix.compare import compare_tables, paired_tests, fdr_bh

See :mod:`harmonix.compare.stats` for the formulas, conventions (difference =
post - pre, permutation p-values with the +1 correction, seeded randomness)
and references.
"""

from harmonix.compare.stats import (
    PairedResult,
    PermutationTestResult,
    UnpairedResult,
    WindowResult,
    bootstrap_ci_mean,
    bootstrap_ci_mean_difference,
    cohens_dz,
    fdr_bh,
    hedges_correction,
    hedges_g,
    hedges_g_paired,
    paired_permutation_test,
    paired_tests,
    unpaired_permutation_test,
    unpaired_tests,
    window_permutation_test,
)
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
