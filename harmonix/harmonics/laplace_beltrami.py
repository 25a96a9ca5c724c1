"""Cotangent finite-element Laplace–Beltrami operator of a triangle mesh.

The Laplace–Beltrami eigenproblem ``-Δ ψ = λ ψ`` on a surface is discretised
with linear (P1) finite elements on the triangles. Its weak form gives the
generalised symmetric eigenproblem

.. math:: A \\psi = \\lambda B \\psi

with the *stiffness* matrix ``A`` (cotangent weights) and the *mass* matrix
``B`` (inner product of the hat functions). Eigenvalues are in units of
1 / length² of the vertex coordinates (mm⁻² for a cortical surface) and the
eigenvectors are B-orthonormal: ``ψ_i^T B ψ_j = δ_ij``. These are the
"geometric eigenmodes" of Pang et al. (2023).

References
----------
.. [1] U. Pinkall and K. Polthier, "Computing discrete minimal surfaces and
   their conjugates", Experimental Mathematics 2(1):15–36, 1993.
.. [2] M. Reuter, F.-E. Wolter and N. Peinecke, "Laplace–Beltrami spectra as
   'Shape-DNA' of surfaces and solids", Computer-Aided Design 38(4):342–366,
   2006 (implemented in LaPy, https://github.com/Deep-MI/LaPy).
.. [3] J. C. Pang et al., "Geometric constraints on human brain function",
   Nature 618:566–574, 2023.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from harmonix.errors import InputFileError, ParameterError
from harmonix.harmonics.mesh import TriMesh, mesh_edges

# Triangles whose area falls below this fraction of the mean area make the
# cotangent weights blow up (cot -> inf); such meshes need repair first.
_MIN_RELATIVE_AREA = 1e-12


def _triangle_geometry(mesh: TriMesh) -> tuple[np.ndarray, np.ndarray]:
    """Cotangents of the three corner angles and the area of every triangle.

    Returns
    -------
    cot : ndarray, shape (n_triangles, 3)
        ``cot[t, i]`` is the cotangent of the angle at corner ``i`` of triangle
        ``t`` (the corner opposite the side ``(i+1, i+2)``).
    area : ndarray, shape (n_triangles,)
        Triangle areas, in squared units of the vertex coordinates.
    """
    p = mesh.vertices[mesh.triangles]  # (n_triangles, 3 corners, 3 xyz)
    # Side i is opposite corner i: from corner i+1 to corner i+2.
    sides = np.roll(p, -2, axis=1) - np.roll(p, -1, axis=1)
    double_area = np.linalg.norm(np.cross(sides[:, 1], sides[:, 2]), axis=1)
    area = 0.5 * double_area
    if area.size and area.min() <= _MIN_RELATIVE_AREA * area.mean():
        bad = int(np.argmin(area))
        raise InputFileError(
            f"mesh has {int((area <= _MIN_RELATIVE_AREA * area.mean()).sum())} triangle(s) of (nearly) zero area "
            f"(first #{bad}, vertices {mesh.triangles[bad].tolist()}); the cotangent Laplacian is undefined there, "
            "remove or repair degenerate triangles"
        )
    # The angle at corner i lies between sides i+1 and i+2, which point into
    # and out of that corner, hence the minus sign: cot = u.w / |u x w|.
    dots = np.einsum("tij,tij->ti", np.roll(sides, -1, axis=1), np.roll(sides, -2, axis=1))
    cot = -dots / double_area[:, None]
    return cot, area


def cotangent_laplacian(
    mesh: TriMesh, *, lump: bool = False
) -> tuple[scipy.sparse.csr_matrix, scipy.sparse.csr_matrix]:
    """Cotangent stiffness matrix and P1 mass matrix of a triangle mesh.

    For an interior edge ``(i, j)`` with opposite angles ``α_ij`` and ``β_ij``
    in its two triangles,

    .. math::

        A_{ij} = -\\tfrac12 (\\cot\\alpha_{ij} + \\cot\\beta_{ij}), \\qquad
        A_{ii} = -\\sum_{j \\ne i} A_{ij},

    (a boundary edge has one term only: natural / Neumann boundary
    conditions). ``A`` is symmetric positive semi-definite with rows summing to
    zero. The consistent mass matrix is

    .. math::

        B_{ij} = \\sum_{T \\ni i, j} \\frac{|T|}{12}, \\qquad
        B_{ii} = \\sum_{T \\ni i} \\frac{|T|}{6},

    and the lumped mass matrix is diagonal with ``B_ii = Σ_{T∋i} |T| / 3``
    (one third of the area of the triangles around ``i``). Both sum to the
    total surface area. Same matrices as LaPy's ``Solver(mesh, lump=...)``
    [2]_, whose default is also the consistent mass (``lump=False``).

    Parameters
    ----------
    mesh : TriMesh
        Triangle mesh; triangles must have non-zero area.
    lump : bool
        Use the diagonal lumped mass matrix instead of the consistent one.
        The consistent matrix is more accurate (eigenvalue error of the same
        order, but from above and smaller); lumping makes ``B`` trivial to invert.

    Returns
    -------
    stiffness : scipy.sparse.csr_matrix, shape (n_vertices, n_vertices)
        ``A`` (dimensionless: cotangents).
    mass : scipy.sparse.csr_matrix, shape (n_vertices, n_vertices)
        ``B``, in squared units of the vertex coordinates (mm² for a cortex).

    Raises
    ------
    InputFileError
        If a triangle has (nearly) zero area.

    References
    ----------
    .. [1] Pinkall & Polthier (1993), Experimental Mathematics 2(1):15–36.
    .. [2] Reuter, Wolter & Peinecke (2006), Computer-Aided Design 38(4):342–366.
    .. [3] Pang et al. (2023), Nature 618:566–574.

    Examples
    --------
    >>> A, B = cotangent_laplacian(icosphere(1))
    >>> bool(abs(A.sum(axis=1)).max() < 1e-12), round(float(B.sum()), 2)  # area < 4 pi
    (True, 11.67)
    """
    n = mesh.n_vertices
    cot, area = _triangle_geometry(mesh)
    tri = mesh.triangles
    # The side opposite corner i joins corners i+1 and i+2.
    rows = np.roll(tri, -1, axis=1).ravel()
    cols = np.roll(tri, -2, axis=1).ravel()
    weights = -0.5 * cot.ravel()
    off = scipy.sparse.coo_matrix((weights, (rows, cols)), shape=(n, n))
    off = (off + off.T).tocsr()  # duplicate entries of a shared edge add up: α + β
    stiffness = (off - scipy.sparse.diags(np.asarray(off.sum(axis=1)).ravel())).tocsr()
    stiffness.sum_duplicates()

    vertex_area = np.bincount(tri.ravel(), weights=np.repeat(area, 3), minlength=n)
    if lump:
        mass = scipy.sparse.diags(vertex_area / 3.0).tocsr()
    else:
        off_mass = scipy.sparse.coo_matrix((np.repeat(area / 12.0, 3), (rows, cols)), shape=(n, n))
        mass = (off_mass + off_mass.T + scipy.sparse.diags(vertex_area / 6.0)).tocsr()
        mass.sum_duplicates()
    return stiffness, mass


_ICOSAHEDRON_TRIANGLES = np.array(
    [
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ]
)  # fmt: skip


def _icosahedron() -> tuple[np.ndarray, np.ndarray]:
    phi = (1.0 + np.sqrt(5.0)) / 2.0
    vertices = np.array(
        [
            [-1, phi, 0], [1, phi, 0], [-1, -phi, 0], [1, -phi, 0],
            [0, -1, phi], [0, 1, phi], [0, -1, -phi], [0, 1, -phi],
            [phi, 0, -1], [phi, 0, 1], [-phi, 0, -1], [-phi, 0, 1],
        ],
        dtype=float,
    )  # fmt: skip
    return vertices / np.linalg.norm(vertices, axis=1, keepdims=True), _ICOSAHEDRON_TRIANGLES.copy()


def _subdivide(vertices: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split every triangle into four at its side midpoints, projected onto the unit sphere."""
    edges, _ = mesh_edges(triangles)
    midpoints = vertices[edges[:, 0]] + vertices[edges[:, 1]]
    midpoints /= np.linalg.norm(midpoints, axis=1, keepdims=True)
    n = len(vertices)
    # Index of the midpoint vertex of each triangle side (sorted pair -> row of edges).
    key = edges[:, 0] * n + edges[:, 1]

    def midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return n + np.searchsorted(key, np.minimum(a, b) * n + np.maximum(a, b))

    a, b, c = triangles.T
    ab, bc, ca = midpoint(a, b), midpoint(b, c), midpoint(c, a)
    # Corner triangles keep the parent's orientation, so an outward mesh stays outward.
    new = np.stack(
        [np.stack([a, ab, ca], 1), np.stack([b, bc, ab], 1), np.stack([c, ca, bc], 1), np.stack([ab, bc, ca], 1)],
        axis=1,
    ).reshape(-1, 3)
    return np.concatenate([vertices, midpoints]), new


def icosphere(subdivisions: int = 5) -> TriMesh:
    """Unit sphere triangulated by recursive subdivision of an icosahedron.

    ``s`` subdivisions give ``10 * 4**s + 2`` vertices (``s = 5``: 10,242) and
    ``20 * 4**s`` triangles, outward-oriented. The continuous Laplace–Beltrami
    spectrum of the unit sphere is ``l (l + 1)`` with multiplicity ``2 l + 1``,
    which makes this the standard check of an eigenmode solver.

    Parameters
    ----------
    subdivisions : int
        Number of subdivision steps, 0 (the icosahedron) to 8.

    Examples
    --------
    >>> icosphere(2).n_vertices
    162
    """
    if isinstance(subdivisions, bool) or not isinstance(subdivisions, (int, np.integer)) or not 0 <= subdivisions <= 8:
        raise ParameterError(f"icosphere subdivisions must be an integer in 0..8, got {subdivisions!r}")
    vertices, triangles = _icosahedron()
    for _ in range(int(subdivisions)):
        vertices, triangles = _subdivide(vertices, triangles)
    return TriMesh(vertices, triangles)
