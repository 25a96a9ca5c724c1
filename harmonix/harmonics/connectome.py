"""Connectome models: cortical surface, region map, structural connectivity, leadfield.

A :class:`Connectome` bundles everything the connectome harmonics need: the
cortical :class:`~harmonix.harmonics.mesh.TriMesh`, a parcellation of its
vertices into regions, the region-level structural connectivity (weights and
tract lengths) with region centres, and optionally an EEG leadfield that maps
vertex sources to sensors.

:func:`load_default_connectome` reads the model shipped by the ``tvb-data``
package (The Virtual Brain's demonstration data set). What we found in those
files, and how it is handled:

* ``surfaceData/cortex_16384.zip``: 16,384 vertices (mm) and 32,760 triangles.
  The frame has x anterior, y **left**, z superior (the Brainstorm/CTF
  convention, not RAS), with the origin at the surface centroid. Vertices
  0-8191 are the right hemisphere (y < 0), 8192-16383 the left; the two
  hemispheres are separate connected components.
* ``connectivity/connectivity_76.zip``: 76 regions (38 per hemisphere, labels
  ``r*`` then ``l*``, all flagged cortical, including amygdala and hippocampus,
  which this surface represents too). ``weights.txt`` is in arbitrary units
  (0-3), has a non-zero diagonal and is **not symmetric** (585 of the 2,850
  region pairs differ between the two directions); it is kept as shipped and
  the graph builder symmetrises it. After symmetrising, 881 region pairs are
  connected, 19 of them homotopic inter-hemispheric pairs (which join the two
  hemispheres); ``rCC`` and ``lCC`` (the corpus-callosum patches of the medial
  wall) have no connection at all. ``tract_lengths.txt`` (mm) is symmetric.
  ``centres.txt`` holds ``label x y z`` in the surface frame; each centre is
  exactly the mean of its region's vertices (so it may lie off the surface).
* ``regionMapping/regionMapping_16k_76.txt``: one region index per vertex;
  every one of the 76 regions has vertices (29 to 683), so no connection is
  lost when region weights are mapped to the surface.
* ``projectionMatrix/projection_eeg_65_surface_16k.npy``: 65 x 16,384 gain
  matrix for sources oriented normal to the surface, in the units of the
  original TVB/Brainstorm model (not stated by tvb-data; only relative scale
  matters for a regularised inverse). Its rows for the infra-orbital EOG
  electrodes ``IO1`` and ``IO2`` are entirely NaN; the default model drops
  them and keeps **63 sensors**.
* ``sensors/eeg_brainstorm_65.txt``: ``name x y z`` in mm, same axes as the
  surface but **not co-registered** with it (the sensor centroid sits about
  67 mm above the surface centroid): use the positions for topographic plots,
  never to recompute a forward model. Names such as ``T8/T4`` (10-10 / old
  10-20) are reduced to their 10-10 form (``T8``).

References
----------
.. [1] S. Atasoy, I. Donnelly and J. Pearson, "Human brain networks function
   in connectome-specific harmonic waves", Nature Communications 7:10340, 2016.
.. [2] P. Sanz Leon et al., "The Virtual Brain: a simulator of primate brain
   network dynamics", Frontiers in Neuroinformatics 7:10, 2013.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harmonix.errors import ChannelError, InputFileError
from harmonix.harmonics.mesh import TriMesh, check_mesh

__all__ = [
    "Connectome",
    "load_connectivity",
    "load_connectome_folder",
    "load_default_connectome",
    "load_leadfield",
    "load_region_map",
    "load_surface",
    "region_centres",
    "region_indices",
]

# FreeSurfer surface files start with one of these 3-byte big-endian magics
# (triangle, quad, new quad); anything else is not a FreeSurfer surface.
_FREESURFER_MAGICS = (b"\xff\xff\xfe", b"\xff\xff\xff", b"\xff\xff\xfd")


def _readonly(array: np.ndarray | None) -> np.ndarray | None:
    if array is not None:
        array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Connectome:
    """A cortical surface with its parcellation, structural connectome and leadfield.

    All arrays are stored read-only; construct a new object to change one.

    Attributes
    ----------
    mesh : TriMesh
        Cortical surface, vertex positions in mm.
    region_map : ndarray, shape (n_vertices,), int
        Region index (0 .. n_regions - 1) of every vertex. Regions without
        vertices (e.g. subcortical nuclei) are allowed; their connections
        cannot be placed on the surface and are ignored by the graph.
    weights : ndarray, shape (n_regions, n_regions)
        Structural connection strength between regions (non-negative, any
        unit; need not be symmetric, see
        :func:`~harmonix.harmonics.graph.connectome_graph`).
    tract_lengths : ndarray, shape (n_regions, n_regions) | None
        Fibre tract lengths in mm.
    centres : ndarray, shape (n_regions, 3)
        Region centres in mm, in the frame of ``mesh``. May be NaN only for
        regions without vertices.
    region_labels : tuple of str
        One label per region.
    leadfield : ndarray, shape (n_sensors, n_vertices) | None
        Forward model: sensor potentials produced by a unit source at each
        vertex (oriented normal to the surface), finite everywhere.
    sensor_names : tuple of str | None
        One unique name per leadfield row; required with a leadfield.
    sensor_positions : ndarray, shape (n_sensors, 3) | None
        Sensor positions in mm, for display.
    name : str
        Short identifier used in messages and cache keys.
    """

    mesh: TriMesh
    region_map: np.ndarray
    weights: np.ndarray
    tract_lengths: np.ndarray | None
    centres: np.ndarray
    region_labels: tuple[str, ...]
    leadfield: np.ndarray | None = None
    sensor_names: tuple[str, ...] | None = None
    sensor_positions: np.ndarray | None = None
    name: str = "custom"

    def __post_init__(self) -> None:
        where = f"connectome {self.name!r}"
        if not isinstance(self.mesh, TriMesh):
            raise InputFileError(f"{where}: mesh must be a TriMesh, got {type(self.mesh).__name__}")
        n_vertices = self.mesh.n_vertices

        weights = _square_matrix(self.weights, f"{where}: weights")
        n_regions = weights.shape[0]
        region_map = _region_map_array(self.region_map, f"{where}: region map", n_vertices, n_regions)

        tract_lengths = None
        if self.tract_lengths is not None:
            tract_lengths = _square_matrix(self.tract_lengths, f"{where}: tract lengths")
            if tract_lengths.shape != weights.shape:
                raise InputFileError(
                    f"{where}: tract lengths have shape {tract_lengths.shape}, weights {weights.shape}; they must match"
                )

        centres = np.array(self.centres, dtype=float)
        if centres.shape != (n_regions, 3):
            raise InputFileError(f"{where}: centres must have shape ({n_regions}, 3), one row per region, got {centres.shape}")
        has_vertices = np.bincount(region_map, minlength=n_regions) > 0
        bad = has_vertices & ~np.isfinite(centres).all(axis=1)
        if bad.any():
            raise InputFileError(f"{where}: centre of region {int(np.flatnonzero(bad)[0])} is not finite although it has vertices")

        labels = tuple(str(label) for label in self.region_labels)
        if len(labels) != n_regions:
            raise InputFileError(f"{where}: {len(labels)} region labels for {n_regions} regions")

        leadfield, sensor_names, sensor_positions = _check_sensors(
            self.leadfield, self.sensor_names, self.sensor_positions, n_vertices, where
        )

        for field, value in (
            ("region_map", region_map),
            ("weights", weights),
            ("tract_lengths", tract_lengths),
            ("centres", centres),
            ("region_labels", labels),
            ("leadfield", leadfield),
            ("sensor_names", sensor_names),
            ("sensor_positions", sensor_positions),
        ):
            object.__setattr__(self, field, _readonly(value) if isinstance(value, np.ndarray) else value)

    @property
    def n_vertices(self) -> int:
        """Number of surface vertices."""
        return self.mesh.n_vertices

    @property
    def n_regions(self) -> int:
        """Number of regions of the structural connectome."""
        return self.weights.shape[0]

    @property
    def n_sensors(self) -> int:
        """Number of leadfield sensors (0 without a leadfield)."""
        return 0 if self.leadfield is None else self.leadfield.shape[0]

    def __repr__(self) -> str:
        sensors = f", {self.n_sensors} sensors" if self.leadfield is not None else ""
        return f"<Connectome {self.name!r}: {self.n_vertices} vertices, {self.n_regions} regions{sensors}>"


def _square_matrix(values: np.ndarray, what: str) -> np.ndarray:
    matrix = np.array(values, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InputFileError(f"{what} must be a square (n_regions, n_regions) matrix, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise InputFileError(f"{what} contain {int((~np.isfinite(matrix)).sum())} NaN/Inf value(s)")
    if (matrix < 0).any():
        raise InputFileError(f"{what} contain negative values (min {matrix.min():g}); structural connectivity is non-negative")
    return matrix


def _region_map_array(values: np.ndarray, what: str, n_vertices: int, n_regions: int | None) -> np.ndarray:
    region_map = np.asarray(values)
    if region_map.ndim != 1 or region_map.shape[0] != n_vertices:
        raise InputFileError(f"{what} must have one entry per vertex ({n_vertices}), got shape {region_map.shape}")
    if not np.issubdtype(region_map.dtype, np.integer):
        if not np.all(np.isfinite(region_map)) or np.any(region_map != np.round(region_map)):
            raise InputFileError(f"{what} must hold integer region indices")
    region_map = region_map.astype(np.int64)
    if region_map.size and region_map.min() < 0:
        raise InputFileError(f"{what} holds negative region indices (min {region_map.min()}); regions are numbered from 0")
    if n_regions is not None and region_map.size and region_map.max() >= n_regions:
        raise InputFileError(
            f"{what} holds region indices up to {region_map.max()}, "
            f"but the connectivity matrix has {n_regions} regions (valid 0..{n_regions - 1})"
        )
    return region_map


def _check_sensors(
    leadfield: np.ndarray | None,
    sensor_names: Sequence[str] | None,
    sensor_positions: np.ndarray | None,
    n_vertices: int,
    where: str,
) -> tuple[np.ndarray | None, tuple[str, ...] | None, np.ndarray | None]:
    if leadfield is None:
        if sensor_names is not None or sensor_positions is not None:
            raise ChannelError(f"{where}: sensor names or positions were given without a leadfield")
        return None, None, None
    gain = np.array(leadfield, dtype=float)
    if gain.ndim != 2 or gain.shape[1] != n_vertices:
        raise InputFileError(
            f"{where}: leadfield must have shape (n_sensors, {n_vertices}), one column per vertex, got {gain.shape}"
        )
    if sensor_names is None:
        raise ChannelError(f"{where}: a leadfield needs sensor names (one per row)")
    names = tuple(str(name) for name in sensor_names)
    if len(names) != gain.shape[0]:
        raise ChannelError(f"{where}: {len(names)} sensor names for a leadfield with {gain.shape[0]} rows")
    if len(set(names)) != len(names):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ChannelError(f"{where}: duplicate sensor names {duplicates}")
    bad_rows = ~np.isfinite(gain).all(axis=1)
    if bad_rows.any():
        raise InputFileError(
            f"{where}: leadfield rows of sensors {[names[i] for i in np.flatnonzero(bad_rows)][:10]} contain NaN/Inf; "
            "drop those sensors"
        )
    positions = None
    if sensor_positions is not None:
        positions = np.array(sensor_positions, dtype=float)
        if positions.shape != (len(names), 3):
            raise ChannelError(f"{where}: sensor positions must have shape ({len(names)}, 3), got {positions.shape}")
    return gain, names, positions


def region_centres(mesh: TriMesh, region_map: np.ndarray, n_regions: int | None = None) -> np.ndarray:
    """Mean position of each region's vertices (mm), NaN for regions without vertices.

    This is how the tvb-data ``connectivity_76`` centres were made, so it is
    the natural default for user parcellations that come without centres.

    Examples
    --------
    >>> mesh = TriMesh(np.array([[0., 0, 0], [2, 0, 0], [0, 2, 0]]), np.array([[0, 1, 2]]))
    >>> region_centres(mesh, np.array([0, 0, 1]), 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [nan, nan, nan]]
    """
    region_map = _region_map_array(region_map, "region map", mesh.n_vertices, n_regions)
    n = int(region_map.max()) + 1 if n_regions is None else n_regions
    counts = np.bincount(region_map, minlength=n).astype(float)
    sums = np.stack([np.bincount(region_map, weights=mesh.vertices[:, axis], minlength=n) for axis in range(3)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


# --------------------------------------------------------------------------- default model


def _tvb_data_folder() -> Path:
    try:
        import tvb_data
    except ImportError as error:
        raise InputFileError(
            "the default connectome needs the 'tvb-data' package, which is not installed; "
            "install it (pip install tvb-data) or pass your own surface, connectivity and region map"
        ) from error
    return Path(os.path.dirname(tvb_data.__file__))


def _read_zip_member(archive: Path, member: str, **loadtxt_kwargs) -> np.ndarray:
    try:
        with zipfile.ZipFile(archive) as bundle, bundle.open(member) as handle:
            return np.loadtxt(handle, **loadtxt_kwargs)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise InputFileError(f"{archive}: cannot read {member!r} ({error}); reinstall tvb-data") from error


@functools.lru_cache(maxsize=1)
def load_default_connectome() -> Connectome:
    """The default model from ``tvb-data``: 16k cortex, 76 regions, 63-sensor EEG leadfield.

    Returns
    -------
    connectome : Connectome
        ``cortex_16384`` surface (16,384 vertices, mm), ``connectivity_76``
        weights (arbitrary units, as shipped: asymmetric, with self-connections),
        tract lengths (mm) and centres (mm), ``regionMapping_16k_76``, and the
        ``projection_eeg_65_surface_16k`` leadfield restricted to the 63 sensors
        whose rows are finite (``IO1`` and ``IO2`` are NaN in the file), with
        ``eeg_brainstorm_65`` positions. See the module docstring for the
        coordinate frames. Parsed once per process and cached; the arrays are
        read-only.

    Raises
    ------
    InputFileError
        If ``tvb-data`` is not installed or one of its files cannot be read.
    """
    root = _tvb_data_folder()
    surface_zip = root / "surfaceData" / "cortex_16384.zip"
    vertices = _read_zip_member(surface_zip, "vertices.txt", dtype=float)
    triangles = _read_zip_member(surface_zip, "triangles.txt", dtype=np.int64)
    mesh = TriMesh(vertices, triangles)

    connectivity_zip = root / "connectivity" / "connectivity_76.zip"
    weights = _read_zip_member(connectivity_zip, "weights.txt", dtype=float)
    tract_lengths = _read_zip_member(connectivity_zip, "tract_lengths.txt", dtype=float)
    labels = _read_zip_member(connectivity_zip, "centres.txt", dtype=str, usecols=0)
    centres = _read_zip_member(connectivity_zip, "centres.txt", dtype=float, usecols=(1, 2, 3))

    region_map = load_region_map(root / "regionMapping" / "regionMapping_16k_76.txt", n_vertices=mesh.n_vertices)

    sensor_file = root / "sensors" / "eeg_brainstorm_65.txt"
    try:
        names = np.loadtxt(sensor_file, dtype=str, usecols=0)
        positions = np.loadtxt(sensor_file, dtype=float, usecols=(1, 2, 3))
    except (OSError, ValueError) as error:
        raise InputFileError(f"{sensor_file}: cannot read sensors ({error}); reinstall tvb-data") from error
    # 'T8/T4' lists the 10-10 name first; recordings use the 10-10 name.
    names = [name.split("/")[0] for name in names]
    leadfield = load_leadfield(root / "projectionMatrix" / "projection_eeg_65_surface_16k.npy", n_vertices=mesh.n_vertices)
    if leadfield.shape[0] != len(names):
        raise InputFileError(f"tvb-data: leadfield has {leadfield.shape[0]} rows but {sensor_file} lists {len(names)} sensors")
    # The shipped file has all-NaN rows for the infra-orbital EOG electrodes.
    finite = np.isfinite(leadfield).all(axis=1)

    return Connectome(
        mesh=mesh,
        region_map=region_map,
        weights=weights,
        tract_lengths=tract_lengths,
        centres=centres,
        region_labels=tuple(labels),
        leadfield=leadfield[finite],
        sensor_names=tuple(name for name, keep in zip(names, finite) if keep),
        sensor_positions=positions[finite],
        name="tvb-default-16k-76",
    )


# --------------------------------------------------------------------------- user data


def load_surface(path: str | os.PathLike, *, check: bool = True) -> TriMesh:
    """Read a cortical surface from a GIfTI (``.gii``) or FreeSurfer surface file.

    Parameters
    ----------
    path : path-like
        A GIfTI surface (``*.surf.gii``, read with nibabel), or a FreeSurfer
        binary surface such as ``lh.pial`` or ``rh.white`` (read with
        :func:`mne.read_surface`). Coordinates are returned as stored: mm in
        the file's own frame (surface RAS for FreeSurfer).
    check : bool
        Run :func:`~harmonix.harmonics.mesh.check_mesh` (degenerate triangles,
        non-manifold edges, unused vertices). Several connected components are
        allowed here; the connectome graph must join them.

    Returns
    -------
    mesh : TriMesh

    Raises
    ------
    InputFileError
        The file is missing, not a surface of either format, or not a valid mesh.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: surface file not found")
    if path.name.lower().endswith(".gii"):
        vertices, triangles = _read_gifti(path)
    else:
        vertices, triangles = _read_freesurfer(path)
    try:
        mesh = TriMesh(vertices, np.asarray(triangles, dtype=np.int64))
    except InputFileError as error:
        raise InputFileError(f"{path}: {error}") from error
    if check:
        check_mesh(mesh, source=str(path))
    return mesh


def _read_gifti(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        import nibabel
    except ImportError as error:
        raise InputFileError(f"{path}: reading GIfTI needs nibabel (pip install nibabel)") from error
    try:
        image = nibabel.load(path)
        points = image.get_arrays_from_intent("NIFTI_INTENT_POINTSET")
        triangles = image.get_arrays_from_intent("NIFTI_INTENT_TRIANGLE")
    except Exception as error:  # nibabel raises XML, value and attribute errors alike on bad files
        raise InputFileError(f"{path}: not a readable GIfTI surface ({type(error).__name__}: {error})") from error
    if len(points) != 1 or len(triangles) != 1:
        raise InputFileError(
            f"{path}: a GIfTI surface needs exactly one POINTSET and one TRIANGLE array, "
            f"found {len(points)} and {len(triangles)}"
        )
    return np.asarray(points[0].data, dtype=float), np.asarray(triangles[0].data)


def _read_freesurfer(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as handle:
        magic = handle.read(3)
    if magic not in _FREESURFER_MAGICS:
        raise InputFileError(
            f"{path}: not a FreeSurfer surface (bad magic number {magic.hex() or 'empty file'}); "
            "surfaces must be FreeSurfer binary files (lh.pial, rh.white, ...) or GIfTI (.gii)"
        )
    import mne

    try:
        vertices, triangles = mne.read_surface(path, verbose="error")
    except Exception as error:  # truncated files surface as ValueError, EOFError, struct.error, ...
        raise InputFileError(f"{path}: unreadable FreeSurfer surface ({type(error).__name__}: {error})") from error
    return np.asarray(vertices, dtype=float), np.asarray(triangles)


def _read_matrix(path: Path, what: str) -> np.ndarray:
    """A 2-D numeric array from ``.npy``, ``.csv`` (comma) or whitespace-separated text."""
    if not path.is_file():
        raise InputFileError(f"{path}: {what} file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        delimiter = "," if suffix == ".csv" else None
        return np.loadtxt(path, delimiter=delimiter, ndmin=2)
    except (OSError, ValueError, EOFError) as error:
        raise InputFileError(
            f"{path}: cannot read the {what} as a numeric matrix ({error}); "
            "use .npy, comma-separated .csv or whitespace-separated .txt without header"
        ) from error


def load_region_map(path: str | os.PathLike, *, n_vertices: int | None = None) -> np.ndarray:
    """Read a region map: one integer region index per vertex (``.npy`` or text).

    Parameters
    ----------
    path : path-like
        ``.npy`` array, or text with the indices separated by whitespace, commas or newlines.
    n_vertices : int | None
        Expected length (the surface's vertex count), checked when given.

    Returns
    -------
    region_map : ndarray, shape (n_vertices,), int64
    """
    path = Path(path)
    values = _read_matrix(path, "region map")
    if values.ndim == 2 and 1 in values.shape:
        values = values.ravel()
    if values.ndim != 1:
        raise InputFileError(f"{path}: region map must be one index per vertex, got an array of shape {values.shape}")
    expected = len(values) if n_vertices is None else n_vertices
    return _region_map_array(values, f"{path}: region map", expected, None)


def load_connectivity(path: str | os.PathLike, region_map: np.ndarray) -> np.ndarray:
    """Read a region-level structural connectivity matrix and check it against a region map.

    Parameters
    ----------
    path : path-like
        ``.npy``, comma-separated ``.csv`` or whitespace-separated text; a
        square, finite, non-negative (n_regions, n_regions) matrix without header.
    region_map : ndarray, shape (n_vertices,), int
        Region index of every vertex; every index must be a row of the matrix.
        Rows for regions without vertices are allowed (their connections
        cannot be placed on the surface).

    Returns
    -------
    weights : ndarray, shape (n_regions, n_regions)

    Raises
    ------
    InputFileError
        Unreadable file, matrix not square, NaN/negative entries, or the region
        map uses indices the matrix does not have.
    """
    path = Path(path)
    weights = _square_matrix(_read_matrix(path, "connectivity"), f"{path}: connectivity")
    region_map = np.asarray(region_map)
    _region_map_array(region_map, f"{path}: region map", len(region_map), None)
    if region_map.size and region_map.max() >= weights.shape[0]:
        raise InputFileError(
            f"{path}: connectivity has {weights.shape[0]} regions but the region map uses indices up to "
            f"{int(region_map.max())}; the matrix must have one row and column per region"
        )
    return weights


def load_leadfield(
    path: str | os.PathLike,
    sensor_names: Sequence[str] | None = None,
    *,
    n_vertices: int | None = None,
) -> np.ndarray:
    """Read an EEG leadfield (gain matrix) from ``.npy``.

    Parameters
    ----------
    path : path-like
        ``.npy`` array of shape (n_sensors, n_vertices): the potential at each
        sensor for a unit dipole normal to the surface at each vertex.
    sensor_names : sequence of str | None
        Names of the rows; their count must equal the number of rows.
    n_vertices : int | None
        Expected column count (the surface's vertex count), checked when given.

    Returns
    -------
    leadfield : ndarray, shape (n_sensors, n_vertices)
        As stored; rows with NaN are kept here and rejected by :class:`Connectome`.

    Raises
    ------
    InputFileError
        Unreadable file, not 2-D, or the wrong number of columns.
    ChannelError
        The number of sensor names does not match the rows.
    """
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise InputFileError(f"{path}: leadfields are read from .npy files (numpy.save), got {path.suffix or 'no suffix'}")
    leadfield = _read_matrix(path, "leadfield")
    if leadfield.ndim != 2 or not np.issubdtype(leadfield.dtype, np.number):
        raise InputFileError(f"{path}: leadfield must be a numeric (n_sensors, n_vertices) array, got {leadfield.dtype} {leadfield.shape}")
    if n_vertices is not None and leadfield.shape[1] != n_vertices:
        hint = " (it looks transposed)" if leadfield.shape[0] == n_vertices else ""
        raise InputFileError(
            f"{path}: leadfield has {leadfield.shape[1]} columns but the surface has {n_vertices} vertices{hint}; "
            "expected shape (n_sensors, n_vertices)"
        )
    if sensor_names is not None and len(sensor_names) != leadfield.shape[0]:
        raise ChannelError(f"{path}: leadfield has {leadfield.shape[0]} rows but {len(sensor_names)} sensor names were given")
    return leadfield.astype(float, copy=False)


def _one_file(folder: Path, stem: str, required: bool) -> Path | None:
    matches = sorted(p for p in folder.glob(f"{stem}.*") if p.is_file())
    if len(matches) > 1:
        raise InputFileError(f"{folder}: several files named {stem}.* ({', '.join(p.name for p in matches)}); keep one")
    if not matches and required:
        raise InputFileError(f"{folder}: no {stem}.* file; a connectome folder needs {', '.join(CONNECTOME_FOLDER_FILES)}")
    return matches[0] if matches else None


CONNECTOME_FOLDER_FILES = ("surface.<gii|pial|white|...>", "region_map.<txt|csv|npy>", "weights.<csv|txt|npy>")
"""Files a user connectome folder must hold (plus optional ``tract_lengths.*``,
``region_labels.txt``, ``leadfield.npy`` with ``sensors.txt``)."""


def load_connectome_folder(path: str | os.PathLike) -> Connectome:
    """Read a user connectome from a folder of conventionally named files.

    The folder holds ``surface.*`` (GIfTI or FreeSurfer surface, see
    :func:`load_surface`), ``region_map.*`` (one region index per vertex),
    ``weights.*`` (region x region structural connectivity), and optionally
    ``tract_lengths.*`` (mm), ``region_labels.txt`` (one label per line),
    ``leadfield.npy`` (sensors x vertices) with ``sensors.txt`` (one sensor
    name per line, optionally followed by x y z in mm). Region centres are the
    mean position of each region's vertices.

    Raises
    ------
    InputFileError, ChannelError
        A missing or ambiguous file, or sizes that do not agree, named in the message.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InputFileError(f"{folder}: a user connectome is a folder holding {', '.join(CONNECTOME_FOLDER_FILES)}")
    mesh = load_surface(_one_file(folder, "surface", True))
    region_map = load_region_map(_one_file(folder, "region_map", True), n_vertices=mesh.n_vertices)
    weights = load_connectivity(_one_file(folder, "weights", True), region_map)
    lengths_path = _one_file(folder, "tract_lengths", False)
    tract_lengths = load_connectivity(lengths_path, region_map) if lengths_path else None
    n_regions = weights.shape[0]
    labels_path = folder / "region_labels.txt"
    labels = (tuple(line.strip() for line in labels_path.read_text().splitlines() if line.strip())
              if labels_path.is_file() else tuple(f"region{i}" for i in range(n_regions)))
    leadfield = sensor_names = positions = None
    leadfield_path = folder / "leadfield.npy"
    if leadfield_path.is_file():
        sensors_path = folder / "sensors.txt"
        if not sensors_path.is_file():
            raise InputFileError(f"{folder}: leadfield.npy needs sensors.txt with one sensor name per line")
        rows = [line.split() for line in sensors_path.read_text().splitlines() if line.strip()]
        sensor_names = tuple(row[0] for row in rows)
        if all(len(row) >= 4 for row in rows):
            positions = np.array([[float(v) for v in row[1:4]] for row in rows])
        leadfield = load_leadfield(leadfield_path, sensor_names, n_vertices=mesh.n_vertices)
    return Connectome(
        mesh=mesh, region_map=region_map, weights=weights, tract_lengths=tract_lengths,
        centres=region_centres(mesh, region_map, n_regions), region_labels=labels,
        leadfield=leadfield, sensor_names=sensor_names, sensor_positions=positions, name=str(folder),
    )


def region_indices(connectome: Connectome, regions) -> list[int]:
    """Indices of ``regions`` given as labels (e.g. ``'rV1'``) or integer indices.

    Raises
    ------
    ParameterError
        An unknown label or an index out of range.
    """
    from harmonix.errors import ParameterError

    if isinstance(regions, (str, int, np.integer)):
        regions = [regions]
    indices = []
    for region in regions:
        if isinstance(region, str):
            if region not in connectome.region_labels:
                raise ParameterError(
                    f"unknown region {region!r}; labels are e.g. {', '.join(connectome.region_labels[:6])}"
                )
            indices.append(connectome.region_labels.index(region))
        else:
            index = int(region)
            if not 0 <= index < connectome.n_regions:
                raise ParameterError(f"region index {index} outside 0..{connectome.n_regions - 1}")
            indices.append(index)
    return indices


def homotopic_pairs(labels: Sequence[str]) -> list[tuple[str, int, int]]:
    """Left/right pairs of homologous regions, from labels prefixed ``l``/``r`` (as in tvb-data's connectomes).

    Returns
    -------
    list of (name, left_index, right_index)
        ``name`` is the label without its hemisphere prefix, in the order of
        the left labels; regions without a partner are left out.

    Examples
    --------
    >>> homotopic_pairs(["rV1", "rA1", "lV1", "lA1", "lCC2"])
    [('V1', 2, 0), ('A1', 3, 1)]
    """
    index = {label: i for i, label in enumerate(labels)}
    return [(label[1:], i, index["r" + label[1:]]) for i, label in enumerate(labels)
            if label.startswith("l") and "r" + label[1:] in index]
