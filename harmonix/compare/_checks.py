"""Input checks, seeding and sizes shared by the statistics of :mod:`harmonix.compare`.

The private helpers here are the one place where the comparison statistics
(:mod:`~harmonix.compare.effect_sizes`, :mod:`~harmonix.compare.bootstrap`,
:mod:`~harmonix.compare.permutation`, :mod:`~harmonix.compare.stats`) and the
tables built on them (:mod:`~harmonix.compare.tables`,
:mod:`~harmonix.compare.windows`) validate their input and turn a ``seed``
into random streams:

- values: a 1-D sequence of finite numbers with at least 2 entries
  (``_vector``), two of them of equal length for a paired design (``_pair``);
- parameters: ``alternative``, the bootstrap's ``ci_level`` / ``ci_method`` /
  ``n_bootstrap`` and ``n_permutations``;
- randomness only through ``seed`` (an ``int``, a
  :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`):
  one generator (``_rng``), independent streams for a permutation test and a
  bootstrap (``_split_seed``), or a sequence to spawn one stream per table
  row from (``_seed_sequence``); the same seed gives the same result.

Bad input (NaN/Inf, mismatched lengths, fewer than 2 observations, unknown
options) raises :class:`harmonix.errors.ParameterError` with a message that
says what to change.
"""

from __future__ import annotations

import numpy as np

from harmonix.errors import ParameterError

_ALTERNATIVES = ("two-sided", "greater", "less")
_CI_METHODS = ("bca", "percentile")
_CHUNK_ELEMENTS = 1 << 21  # entries of one permutation / bootstrap matrix chunk


# ---------------------------------------------------------------------------
# validation


def _vector(values, name: str, *, min_n: int = 2) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name}: expected a sequence of numbers ({err})") from err
    if arr.ndim != 1:
        raise ParameterError(f"{name}: expected a 1-D sequence of values, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ParameterError(
            f"{name}: {int(bad.sum())} of {arr.size} values are NaN or infinite "
            f"(first at index {int(np.flatnonzero(bad)[0])}); drop or impute them first"
        )
    if arr.size < min_n:
        raise ParameterError(f"{name}: needs at least {min_n} values, got {arr.size}")
    return arr


def _pair(pre, post) -> tuple[np.ndarray, np.ndarray]:
    x = _vector(pre, "pre")
    y = _vector(post, "post")
    if x.shape != y.shape:
        raise ParameterError(
            f"pre and post must have the same length for a paired design (got {x.size} and {y.size}); "
            "match them by subject, or use an unpaired test"
        )
    return x, y


def _check_alternative(alternative: str) -> str:
    if alternative not in _ALTERNATIVES:
        raise ParameterError(f"alternative={alternative!r}: use one of {', '.join(_ALTERNATIVES)}")
    return alternative


def _check_ci(ci_level: float, ci_method: str, n_bootstrap: int) -> None:
    if not 0.0 < float(ci_level) < 1.0:
        raise ParameterError(f"ci_level={ci_level!r}: must lie strictly between 0 and 1 (e.g. 0.95)")
    if ci_method not in _CI_METHODS:
        raise ParameterError(f"ci_method={ci_method!r}: use 'bca' or 'percentile'")
    if int(n_bootstrap) < 100:
        raise ParameterError(f"n_bootstrap={n_bootstrap!r}: use at least 100 resamples (2000 or more for a 95 % CI)")


def _check_permutations(n_permutations: int) -> int:
    if int(n_permutations) != n_permutations or int(n_permutations) < 1:
        raise ParameterError(f"n_permutations={n_permutations!r}: must be a positive integer")
    return int(n_permutations)


# ---------------------------------------------------------------------------
# seeds


def _rng(seed) -> np.random.Generator:
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"seed={seed!r}: use an int, a numpy SeedSequence or Generator ({err})") from err


def _split_seed(seed) -> tuple:
    """Independent streams for the permutation test and the bootstrap."""
    if isinstance(seed, np.random.Generator):
        return seed, seed
    try:
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"seed={seed!r}: use an int, a numpy SeedSequence or Generator ({err})") from err
    a, b = seq.spawn(2)
    return a, np.random.default_rng(b)


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    try:
        return np.random.SeedSequence(seed)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"seed={seed!r}: use an int, a numpy SeedSequence or Generator ({err})") from err
