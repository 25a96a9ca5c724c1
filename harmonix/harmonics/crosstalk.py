"""Cross-talk of the sensor-to-region estimate: how much of each region's activity shows up elsewhere.

Region activity is estimated from the sensors in three linear steps: the
regularised inverse :math:`W` (sensors to the lowest harmonics,
:func:`harmonix.harmonics.decompose.sensor_inverse`), the harmonics
:math:`\\Psi` (harmonics to vertices) and the region average :math:`A`
(:func:`region_modes`). Activity of unit norm spread
evenly over region :math:`j`'s vertices, :math:`p_j = \\mathbf 1_j/\\sqrt{n_j}`,
reaches the sensors through the leadfield :math:`L`, so the *resolution
matrix* (Hauk et al. 2019)

.. math:: R = A\\,\\Psi\\,W\\,L\\,P, \\qquad R_{ij} = \\text{estimate of region } i
          \\text{ for unit activity in region } j,

holds in row :math:`i` the cross-talk function of region :math:`i`. With
every region active with equal power and independently, the share of region
:math:`i`'s estimated power that comes from region :math:`j` is

.. math:: C_{ij} = R_{ij}^2 \\Big/ \\sum_k R_{ik}^2 \\qquad (\\textstyle\\sum_j C_{ij} = 1).

For coupling between a left/right pair :math:`a = (a_l, a_r)`: if pair
:math:`b` is perfectly coupled and everything else independent, the
coherence that the estimates of pair :math:`a` show is

.. math:: \\Lambda_{ab} = \\sqrt{C_{a_l b_l}\\, C_{a_r b_r}},

the *pair leakage*; :math:`\\Lambda_{aa}` is how much of pair :math:`a`'s own
coupling its estimates can show. When :math:`\\Lambda_{ab} \\ge \\Lambda_{aa}`,
a change of coupling in pair :math:`b` moves pair :math:`a`'s zero-lag
locking at least as much as a change in :math:`a` itself: a result in row
:math:`a` is then one cross-talk can explain (:func:`explained_by`).

References
----------
Hauk, O., Stenroos, M. & Treder, M. (2019). Towards an objective evaluation
of EEG/MEG source estimation methods: the linear approach. NeuroImage
198:1-15.

Palva, J. M. et al. (2018). Ghost interactions in MEG/EEG source space.
NeuroImage 173:632-643.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harmonix.errors import ParameterError

__all__ = ["region_modes", "region_crosstalk", "crosstalk_shares", "region_responses", "pair_leakage", "explained_by", "lagged_pair_fit", "DEFINITION"]

DEFINITION = ("C[i, j]: share of region i's estimated power that comes from region j when every region is active "
              "with equal power (rows of the resolution matrix A Psi W L P, squared and normalised; Hauk et al. "
              "2019); pair leakage sqrt(C[a_l, b_l] C[a_r, b_r]): the coherence pair a shows when pair b is "
              "perfectly coupled")


def region_modes(eigenvectors: np.ndarray, region_map: np.ndarray, n_modes: int) -> np.ndarray:
    """Region means of the first ``n_modes`` harmonics: ``R Ψ`` (n_regions, n_modes)."""
    regions = np.unique(region_map)
    averaging = np.zeros((regions.size, region_map.size))
    for i, region in enumerate(regions):
        members = region_map == region
        averaging[i, members] = 1.0 / members.sum()
    return averaging @ eigenvectors[:, :n_modes]


def region_responses(leadfield: np.ndarray, region_map: np.ndarray, operator: np.ndarray) -> np.ndarray:
    """Harmonic coefficients estimated for unit activity in each region, :math:`G = W L P` (n_modes, n_regions).

    Columns in the order of ``np.unique(region_map)``; ``leadfield`` holds the
    rows of the sensors the inverse ``operator`` uses, in its column order.
    """
    leadfield, operator, region_map = np.asarray(leadfield, float), np.asarray(operator, float), np.asarray(region_map)
    if leadfield.shape[0] != operator.shape[1] or region_map.size != leadfield.shape[1]:
        raise ParameterError(f"region responses need leadfield (sensors, vertices) {leadfield.shape}, operator "
                             f"(modes, sensors) {operator.shape} and one region per vertex ({region_map.size})")
    members = region_map[np.newaxis, :] == np.unique(region_map)[:, np.newaxis]
    spread = (members / np.sqrt(members.sum(axis=1))[:, np.newaxis]).T  # unit-norm activity of each region
    return operator @ (leadfield @ spread)


def lagged_pair_fit(cross_spectrum: np.ndarray, responses: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    r"""Share of the imaginary cross-spectrum that a lagged link in each region pair explains.

    Instantaneous mixing (field spread, cross-talk) is real, so the
    imaginary part of the estimated coefficients' cross-spectrum
    :math:`S = E[a a^H]` holds only lagged interactions, seen through the
    estimate: a lagged link between regions :math:`j` and :math:`k` adds
    :math:`c\,(g_j g_k^T - g_k g_j^T)` to :math:`\operatorname{Im} S`, with
    :math:`g_j` the coefficients estimated for unit activity in region
    :math:`j` (:func:`region_responses`). For each pair the best such
    pattern explains the share

    .. math:: \rho_{jk} = \frac{\langle \operatorname{Im} S, B_{jk}\rangle_F^2}
              {\|\operatorname{Im} S\|_F^2\, \|B_{jk}\|_F^2},
              \qquad B_{jk} = g_j g_k^T - g_k g_j^T,

    in [0, 1]. A ghost of the true link in neighbouring pairs (the
    estimate's cross-talk, Palva et al. 2018) fits less well than the link
    itself (Cauchy-Schwarz: only the true pattern reaches 1 without noise),
    so the pair with the largest share is the one the data point to. The
    fit is scale-free: with no lagged interaction at all the share is that
    of noise, about :math:`2 / (n_{modes}(n_{modes} - 1))` per pattern.

    Parameters
    ----------
    cross_spectrum : ndarray, shape (..., n_modes, n_modes)
        Complex cross-spectrum of the coefficients (per band).
    responses : ndarray, shape (n_modes, n_regions)
    pairs : ndarray of int, shape (n_pairs, 2)

    Returns
    -------
    share : ndarray, shape (..., n_pairs)

    Examples
    --------
    >>> g = np.eye(3)
    >>> s = 1j * (np.outer(g[:, 0], g[:, 1]) - np.outer(g[:, 1], g[:, 0]))
    >>> lagged_pair_fit(s, g, np.array([[0, 1], [0, 2]])).round(6).tolist()
    [1.0, 0.0]
    """
    imag = np.imag(np.asarray(cross_spectrum))
    g = np.asarray(responses, float)
    pairs = np.asarray(pairs, dtype=np.intp).reshape(-1, 2)
    patterns = (np.einsum("mp,np->pmn", g[:, pairs[:, 0]], g[:, pairs[:, 1]])
                - np.einsum("mp,np->pmn", g[:, pairs[:, 1]], g[:, pairs[:, 0]]))
    inner = np.einsum("...mn,pmn->...p", imag, patterns)
    norm = np.einsum("pmn,pmn->p", patterns, patterns) * np.einsum("...mn,...mn->...", imag, imag)[..., np.newaxis]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, inner**2 / np.where(norm > 0, norm, 1.0), np.nan)


def region_crosstalk(leadfield: np.ndarray, region_map: np.ndarray, eigenvectors: np.ndarray,
                     operator: np.ndarray) -> np.ndarray:
    """Cross-talk shares :math:`C` of the region estimate (see the module docstring).

    Parameters
    ----------
    leadfield : ndarray, shape (n_sensors, n_vertices)
        Rows of the sensors the inverse uses, in its column order.
    region_map : ndarray of int, shape (n_vertices,)
        Region of each vertex.
    eigenvectors : ndarray, shape (n_vertices, n_modes or more)
        The harmonics; the first ``operator.shape[0]`` are used.
    operator : ndarray, shape (n_modes, n_sensors)
        The sensor inverse :math:`W`.

    Returns
    -------
    crosstalk : ndarray, shape (n_regions, n_regions)
        Rows and columns in the order of ``np.unique(region_map)``; rows sum to 1.

    Examples
    --------
    >>> region_map = np.repeat([0, 1], 2)
    >>> leadfield = np.eye(4)
    >>> psi = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    >>> c = region_crosstalk(leadfield, region_map, psi, np.linalg.pinv(leadfield @ psi))
    >>> np.round(c, 6).tolist()  # an exact inverse has no cross-talk
    [[1.0, 0.0], [0.0, 1.0]]
    """
    operator = np.asarray(operator, float)
    if np.shape(eigenvectors)[0] != np.shape(leadfield)[1]:
        raise ParameterError(f"cross-talk needs harmonics on the leadfield's {np.shape(leadfield)[1]} vertices, got "
                             f"{np.shape(eigenvectors)}")
    # R = (A Psi) G: the region means of the harmonics times the coefficients each region's activity produces
    resolution = region_modes(np.asarray(eigenvectors, float), np.asarray(region_map), operator.shape[0]) @ \
        region_responses(leadfield, region_map, operator)
    return crosstalk_shares(resolution)


def crosstalk_shares(resolution: np.ndarray) -> np.ndarray:
    """:math:`C_{ij} = R_{ij}^2 / \\sum_k R_{ik}^2` from a resolution matrix ``R`` (rows: estimates, columns: sources)."""
    power = np.square(np.asarray(resolution, float))
    total = power.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, power / np.where(total > 0, total, 1.0), 0.0)


def pair_leakage(crosstalk: np.ndarray, pairs: Sequence[tuple[str, int, int]]) -> np.ndarray:
    """:math:`\\Lambda_{ab} = \\sqrt{C_{a_l b_l} C_{a_r b_r}}` for the given ``(name, left, right)`` pairs.

    Returns
    -------
    leakage : ndarray, shape (n_pairs, n_pairs)
        Row ``a``, column ``b``: how much of pair ``b``'s coupling pair ``a``'s
        estimates show; the diagonal is each pair's own.

    Examples
    --------
    >>> c = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 1.0]])
    >>> pair_leakage(c, [("A", 0, 2), ("B", 1, 3)]).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
    """
    left = np.array([p[1] for p in pairs], dtype=np.intp)
    right = np.array([p[2] for p in pairs], dtype=np.intp)
    crosstalk = np.asarray(crosstalk, float)
    return np.sqrt(crosstalk[np.ix_(left, left)] * crosstalk[np.ix_(right, right)])


def explained_by(leakage: np.ndarray, names: Sequence[str], row: str, candidates: Sequence[str]) -> list[tuple[str, float]]:
    """Pairs among ``candidates`` whose coupling leaks into ``row`` at least as much as ``row``'s own.

    Returns ``[(name, leakage), ...]``, strongest first; empty when none.

    Examples
    --------
    >>> leak = np.array([[0.1, 0.3], [0.0, 0.6]])
    >>> explained_by(leak, ["A", "B"], "A", ["B"])
    [('B', 0.3)]
    >>> explained_by(leak, ["A", "B"], "B", ["A"])
    []
    """
    names = list(names)
    if row not in names:
        return []
    a = names.index(row)
    found = [(b, float(leakage[a, names.index(b)])) for b in candidates
             if b != row and b in names and leakage[a, names.index(b)] >= leakage[a, a]]
    return sorted(found, key=lambda item: -item[1])
