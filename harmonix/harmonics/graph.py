"""The connectome graph on cortical vertices and its Laplacian.

Atasoy, Donnelly & Pearson (2016) build a graph whose nodes are the cortical
surface vertices, with adjacency

.. math::

    A_{ij} = \\begin{cases} 1 & i, j \\text{ neighbours on the mesh, or the two
    ends of a white-matter fibre} \\\\ 0 & \\text{otherwise,} \\end{cases}

and take the eigenvectors of its symmetric-normalised Laplacian as the
connectome harmonics. Their fibres came from vertex-level tractography; a
region-level connectome (``weights[i, j]`` between parcels) has no fibre
endpoints, so :func:`long_range_edges` places each region-to-region
connection on the surface by an explicit, documented rule.

References
----------
.. [1] S. Atasoy, I. Donnelly and J. Pearson, "Human brain networks function
   in connectome-specific harmonic waves", Nature Communications 7:10340, 2016.
.. [2] F. R. K. Chung, "Spectral Graph Theory", CBMS Regional Conference
   Series in Mathematics 92, AMS, 1997.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from harmonix.errors import ParameterError
from harmonix.harmonics.connectome import Connectome
from harmonix.harmonics.mesh import connected_components, mesh_edges

__all__ = ["LONG_RANGE_RULES", "connectome_graph", "graph_laplacian", "long_range_edges"]

LONG_RANGE_RULES = ("centroid-nearest", "facing")


def long_range_edges(
    connectome: Connectome,
    *,
    rule: str = "centroid-nearest",
    weight_threshold: float = 0.0,
    n_endpoints: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Vertex pairs that carry the region-level structural connections.

    The region weights are first symmetrised, ``W = max(weights, weights.T)``
    (a tract is undirected; asymmetry in tractography counts is estimation
    noise, and the maximum keeps a connection that either direction found),
    and the diagonal is ignored (within-region wiring is already local, i.e.
    carried by the mesh). Every pair ``i < j`` with ``W[i, j] > weight_threshold``
    whose regions both have vertices becomes ``n_endpoints`` vertex edges:

    ``"centroid-nearest"``
        Region ``r`` has ``n_endpoints`` endpoint vertices: the vertex nearest
        to its centre, then further vertices of ``r`` chosen by farthest-point
        sampling (each the vertex of ``r`` farthest from those already chosen),
        so they spread over the region. The k-th endpoint of ``i`` is joined to
        the k-th endpoint of ``j``. With ``n_endpoints=1`` each region is one
        hub vertex and the long-range edges form the region graph itself.
    ``"facing"``
        The fibre is assumed to leave region ``i`` where ``i`` faces ``j``:
        the k-th edge joins the k-th vertex of ``i`` nearest to ``j``'s centre
        and the k-th vertex of ``j`` nearest to ``i``'s centre. Endpoints are
        spread over a region according to where its partners lie, closer to
        tractography, whose fibres end all over a parcel.

    Parameters
    ----------
    connectome : Connectome
    rule : {"centroid-nearest", "facing"}
    weight_threshold : float
        Region pairs with symmetrised weight at or below this (in the units of
        ``connectome.weights``) get no edge.
    n_endpoints : int
        Edges per region pair (>= 1). Regions with fewer vertices reuse them.

    Returns
    -------
    edges : ndarray, shape (n_edges, 2), int
        Vertex pairs with ``edges[:, 0] < edges[:, 1]``, without duplicates.
    weights : ndarray, shape (n_edges,)
        Symmetrised region weight of each edge; where several region pairs
        land on the same vertex pair, the largest.
    """
    if rule not in LONG_RANGE_RULES:
        raise ParameterError(f"long-range rule must be one of {LONG_RANGE_RULES}, got {rule!r}")
    if int(n_endpoints) != n_endpoints or n_endpoints < 1:
        raise ParameterError(f"n_endpoints must be a positive integer, got {n_endpoints!r}")
    if not np.isfinite(weight_threshold) or weight_threshold < 0:
        raise ParameterError(f"weight_threshold must be a finite number >= 0, got {weight_threshold!r}")
    n_endpoints = int(n_endpoints)

    region_weights = np.maximum(connectome.weights, connectome.weights.T)
    members = _region_members(connectome.region_map, connectome.n_regions)
    populated = np.array([len(m) > 0 for m in members])
    upper = np.triu(region_weights > weight_threshold, k=1) & populated[:, None] & populated[None, :]
    first, second = np.nonzero(upper)
    if len(first) == 0:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)

    vertices = connectome.mesh.vertices
    if rule == "centroid-nearest":
        endpoints = {r: _spread_endpoints(vertices, members[r], connectome.centres[r], n_endpoints) for r in np.flatnonzero(populated)}
        tails = np.stack([endpoints[i] for i in first])
        heads = np.stack([endpoints[j] for j in second])
    else:
        tails = np.stack([_nearest_members(vertices, members[i], connectome.centres[j], n_endpoints) for i, j in zip(first, second)])
        heads = np.stack([_nearest_members(vertices, members[j], connectome.centres[i], n_endpoints) for i, j in zip(first, second)])

    pair_weights = np.repeat(region_weights[first, second], n_endpoints)
    edges = np.sort(np.stack([tails.ravel(), heads.ravel()], axis=1), axis=1)
    return _unique_edges_max(edges, pair_weights)


def _region_members(region_map: np.ndarray, n_regions: int) -> list[np.ndarray]:
    order = np.argsort(region_map, kind="stable")
    bounds = np.searchsorted(region_map[order], np.arange(n_regions + 1))
    return [order[bounds[r] : bounds[r + 1]] for r in range(n_regions)]


def _nearest_members(vertices: np.ndarray, members: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` members nearest to ``target`` (cycled when the region is smaller); ties by index."""
    distances = np.linalg.norm(vertices[members] - target, axis=1)
    order = np.lexsort((members, distances))
    return members[order[np.arange(n) % len(members)]]


def _spread_endpoints(vertices: np.ndarray, members: np.ndarray, centre: np.ndarray, n: int) -> np.ndarray:
    """Farthest-point sample of ``n`` members, starting at the one nearest the centre."""
    chosen = [int(_nearest_members(vertices, members, centre, 1)[0])]
    points = vertices[members]
    gap = np.linalg.norm(points - vertices[chosen[0]], axis=1)
    for _ in range(min(n, len(members)) - 1):
        pick = int(np.argmax(gap))
        chosen.append(int(members[pick]))
        gap = np.minimum(gap, np.linalg.norm(points - points[pick], axis=1))
    return np.array(chosen)[np.arange(n) % len(chosen)]


def _unique_edges_max(edges: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop self-loops and duplicate pairs, keeping each pair's largest weight."""
    keep = edges[:, 0] != edges[:, 1]
    edges, weights = edges[keep], weights[keep]
    order = np.lexsort((weights, edges[:, 1], edges[:, 0]))
    edges, weights = edges[order], weights[order]
    last_of_pair = np.ones(len(edges), dtype=bool)
    last_of_pair[:-1] = (edges[1:] != edges[:-1]).any(axis=1)
    return edges[last_of_pair].astype(np.int64), weights[last_of_pair]


def connectome_graph(
    connectome: Connectome,
    *,
    long_range: str = "centroid-nearest",
    weight_threshold: float = 0.0,
    weighted: bool = False,
    n_endpoints: int = 1,
) -> scipy.sparse.csr_matrix:
    """Adjacency of the connectome graph: mesh neighbours plus long-range connections.

    Parameters
    ----------
    connectome : Connectome
    long_range : {"centroid-nearest", "facing"}
        How region-to-region connections become vertex edges; see
        :func:`long_range_edges`.
    weight_threshold : float
        Region pairs with symmetrised weight ``<= weight_threshold`` are not connected.
    weighted : bool
        ``False`` (Atasoy et al. 2016): ``A_ij = 1`` for every mesh or
        long-range edge. ``True``: mesh edges weigh 1 and a long-range edge
        ``W_ij / max(W)``, so the strongest tract equals one mesh edge; where
        a long-range edge coincides with a mesh edge the larger weight is kept.
    n_endpoints : int
        Vertex edges per connected region pair.

    Returns
    -------
    adjacency : scipy.sparse.csr_matrix, shape (n_vertices, n_vertices)
        Symmetric, non-negative, zero diagonal.

    Raises
    ------
    ParameterError
        The graph is not one connected component (for example a hemisphere
        without any inter-hemispheric connection above the threshold):
        harmonics of a disconnected graph are not defined uniquely.

    Examples
    --------
    Two triangles that share no vertex, joined by one long-range edge:

    >>> from harmonix.harmonics.mesh import TriMesh
    >>> mesh = TriMesh(np.array([[0., 0, 0], [1, 0, 0], [0, 1, 0], [5, 0, 0], [6, 0, 0], [5, 1, 0]]),
    ...                np.array([[0, 1, 2], [3, 4, 5]]))
    >>> model = Connectome(mesh, np.array([0, 0, 0, 1, 1, 1]), np.array([[0., 1], [1, 0]]), None,
    ...                    np.array([[0., 0, 0], [5, 0, 0]]), ("a", "b"))
    >>> adjacency = connectome_graph(model)
    >>> int(adjacency.nnz // 2), float(adjacency[0, 3])
    (7, 1.0)
    """
    mesh_pairs, _ = mesh_edges(connectome.mesh.triangles)
    far_pairs, far_weights = long_range_edges(
        connectome, rule=long_range, weight_threshold=weight_threshold, n_endpoints=n_endpoints
    )
    if weighted and len(far_weights):
        far_weights = far_weights / far_weights.max()
    else:
        far_weights = np.ones(len(far_pairs))
    pairs, values = _unique_edges_max(
        np.concatenate([mesh_pairs, far_pairs]), np.concatenate([np.ones(len(mesh_pairs)), far_weights])
    )
    n = connectome.n_vertices
    upper = scipy.sparse.coo_matrix((values, (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    adjacency = (upper + upper.T).tocsr()
    adjacency.sort_indices()
    _require_connected(adjacency, connectome, weight_threshold)
    return adjacency


def _require_connected(adjacency: scipy.sparse.csr_matrix, connectome: Connectome, weight_threshold: float) -> None:
    labels = connected_components(adjacency)
    n_components = int(labels.max()) + 1
    if n_components == 1:
        return
    sizes = np.bincount(labels)
    smallest = int(np.argmin(sizes))
    regions = np.unique(connectome.region_map[labels == smallest])
    names = [connectome.region_labels[r] for r in regions[:8]]
    raise ParameterError(
        f"connectome {connectome.name!r}: the graph has {n_components} disconnected parts "
        f"(sizes {sorted(sizes.tolist(), reverse=True)[:5]}); the smallest holds regions {names}"
        f"{' ...' if len(regions) > 8 else ''} with no connection above weight_threshold={weight_threshold:g} "
        "to the rest. Lower the threshold, or check the connectivity matrix and region map."
    )


def graph_laplacian(adjacency: scipy.sparse.spmatrix, *, normalized: bool = True) -> scipy.sparse.csr_matrix:
    """Laplacian of an undirected graph.

    With degrees ``d_i = sum_j A_ij`` and ``D = diag(d)``:

    * ``normalized=True`` (Atasoy et al. 2016; Chung 1997): the
      symmetric-normalised Laplacian

      .. math:: L = D^{-1/2} (D - A) D^{-1/2} = I - D^{-1/2} A D^{-1/2},

      with unit diagonal and eigenvalues in ``[0, 2]``; the eigenvector of
      eigenvalue 0 is proportional to ``sqrt(d)``.
    * ``normalized=False``: the combinatorial Laplacian ``L = D - A``, rows
      summing to zero, eigenvalues in ``[0, 2 max(d)]``, constant null vector.

    Self-loops (diagonal of ``A``) are ignored: they connect a vertex to
    itself and carry no spatial variation.

    Parameters
    ----------
    adjacency : sparse matrix, shape (n, n)
        Symmetric and non-negative.
    normalized : bool

    Returns
    -------
    laplacian : scipy.sparse.csr_matrix, shape (n, n)

    Raises
    ------
    ParameterError
        The adjacency is not square, not symmetric, has negative weights, or
        (normalised only) a vertex has no edges, where ``D^{-1/2}`` is undefined.

    Examples
    --------
    >>> path = scipy.sparse.csr_matrix(np.array([[0., 1, 0], [1, 0, 1], [0, 1, 0]]))
    >>> graph_laplacian(path, normalized=False).toarray().tolist()
    [[1.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 1.0]]
    """
    adjacency = scipy.sparse.csr_matrix(adjacency, dtype=float)
    if adjacency.shape[0] != adjacency.shape[1]:
        raise ParameterError(f"adjacency must be square, got shape {adjacency.shape}")
    adjacency = (adjacency - scipy.sparse.diags(adjacency.diagonal())).tocsr()
    adjacency.eliminate_zeros()
    if adjacency.nnz and adjacency.data.min() < 0:
        raise ParameterError(f"adjacency has negative weights (min {adjacency.data.min():g})")
    asymmetry = abs(adjacency - adjacency.T)
    if asymmetry.nnz and asymmetry.max() > 1e-12 * max(1.0, abs(adjacency).max()):
        raise ParameterError(f"adjacency is not symmetric (max |A - A^T| = {asymmetry.max():g})")
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    n = adjacency.shape[0]
    if not normalized:
        return (scipy.sparse.diags(degree) - adjacency).tocsr()
    isolated = np.flatnonzero(degree == 0)
    if len(isolated):
        raise ParameterError(
            f"normalised Laplacian undefined: {len(isolated)} vertex/vertices have no edges (first #{isolated[0]})"
        )
    scale = scipy.sparse.diags(1.0 / np.sqrt(degree))
    return (scipy.sparse.identity(n, format="csr") - scale @ adjacency @ scale).tocsr()
