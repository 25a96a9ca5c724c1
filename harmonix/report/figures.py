"""Figures as functions returning :class:`matplotlib.figure.Figure` (for notebooks and reports).

Surfaces are drawn in 2-D projections with the painter's algorithm (triangles
sorted by depth), which is fast for 16k-vertex meshes. Figures are built with
:class:`matplotlib.figure.Figure` directly, not pyplot, so they need no display
and leave no global state behind; ``fig.savefig`` writes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from harmonix.harmonics.basis import HarmonicBasis
from harmonix.harmonics.mesh import TriMesh

# (horizontal axis, vertical axis, depth axis, depth sign) of each view in the
# surface frame x anterior, y left, z superior.
VIEWS = {"dorsal": (1, 0, 2, 1.0), "left": (0, 2, 1, 1.0), "right": (0, 2, 1, -1.0)}


def draw_surface(ax: Axes, mesh: TriMesh, values: np.ndarray, *, view: str = "dorsal", cmap: str = "RdBu_r",
                 limit: float | None = None) -> PolyCollection:
    """Draw ``values`` (one per vertex) on ``mesh`` seen from ``view`` into ``ax``."""
    h, v, depth, sign = VIEWS[view]
    triangles = mesh.triangles[np.argsort(sign * mesh.vertices[mesh.triangles, depth].mean(axis=1))]
    polygons = mesh.vertices[triangles][:, :, [h, v]]
    if view in ("dorsal", "left"):
        # dorsal: left hemisphere on the left (neurological); left: the nose points left
        polygons = polygons * np.array([-1.0, 1.0])
    face_values = np.asarray(values)[triangles].mean(axis=1)
    limit = float(np.abs(values).max()) if limit is None else limit
    collection = PolyCollection(polygons, array=face_values, cmap=cmap, edgecolors="none")
    collection.set_clim(-limit, limit)
    ax.add_collection(collection)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.axis("off")
    return collection


def plot_harmonics(mesh: TriMesh, basis: HarmonicBasis, indices: Sequence[int] = (1, 2, 3, 4, 5, 6),
                   *, views: Sequence[str] = ("dorsal", "left")) -> Figure:
    """Harmonics ``indices`` of ``basis`` on the cortex, one column per harmonic.

    Each map is scaled symmetrically to its own largest absolute value (the
    sign of a harmonic is a convention, see :mod:`harmonix.harmonics.basis`).
    """
    fig = Figure(figsize=(2.2 * len(indices), 2.2 * len(views)))
    axes = fig.subplots(len(views), len(indices), squeeze=False)
    for column, k in enumerate(indices):
        values = basis.eigenvectors[:, k]
        for row, view in enumerate(views):
            draw_surface(axes[row, column], mesh, values, view=view)
        axes[0, column].set_title(f"ψ{k}  λ={basis.eigenvalues[k]:.3g}", fontsize=8)
    fig.suptitle(f"{basis.kind} harmonics", fontsize=10)
    fig.tight_layout()
    return fig


def plot_harmonic_spectrum(eigenvalues: np.ndarray, figsize: tuple[float, float] = (5, 3)) -> Figure:
    """Eigenvalue (spatial frequency) against harmonic index."""
    fig = Figure(figsize=figsize)
    ax = fig.subplots()
    ax.plot(np.arange(len(eigenvalues)), eigenvalues, ".-", ms=3)
    ax.set_xlabel("harmonic index k")
    ax.set_ylabel("eigenvalue λ_k")
    fig.tight_layout()
    return fig
