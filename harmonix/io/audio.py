"""Audio input: read WAV, FLAC, OGG and MP3 files into an :class:`Audio`.

Samples are floating point in ``[-1, 1]`` (full scale) and shaped
``(n_channels, n_samples)``, the same layout as MNE's ``(n_channels, n_times)``.
Files are decoded with `soundfile` (libsndfile); MP3 files that the installed
libsndfile cannot decode fall back to librosa's audioread backend.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from harmonix.errors import DataQualityError, InputFileError, ParameterError

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")
"""File name extensions :func:`load_audio` accepts (case-insensitive)."""

SILENCE_DBFS: float = -90.0
"""Peak level in dBFS below which a recording is rejected as silent.

-90 dBFS is below the noise floor of 16-bit PCM dither (about -96 dBFS at
the LSB), so only digital silence or near-empty placeholders fall under it.
"""


@dataclass(frozen=True)
class Audio:
    """An audio signal: samples, sampling rate and where it came from.

    Parameters
    ----------
    samples : ndarray, shape (n_channels, n_samples) or (n_samples,)
        Floating-point samples, nominally in ``[-1, 1]`` (0 dBFS = 1.0). A 1-D
        array is taken as one channel. The samples are copied into a
        read-only array owned by the :class:`Audio`, so changing the caller's
        array afterwards does not change the :class:`Audio`, and the
        :class:`Audio`'s samples cannot be written to.
    sfreq : float
        Sampling rate in Hz.
    source : str
        File name or a label such as ``'<array>'``; used in error messages.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(44100) / 44100
    >>> audio = Audio(np.sin(2 * np.pi * 440 * t), sfreq=44100.0)
    >>> audio.n_channels, audio.duration
    (1, 1.0)
    """

    samples: np.ndarray
    sfreq: float
    source: str = "<array>"

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim == 1:
            samples = samples[np.newaxis, :]
        if samples.ndim != 2:
            raise ParameterError(
                f"{self.source}: audio samples must be shaped (n_channels, n_samples), got shape {samples.shape}"
            )
        if not np.issubdtype(samples.dtype, np.floating):
            raise ParameterError(
                f"{self.source}: audio samples must be floating point in [-1, 1], got dtype {samples.dtype}; "
                "scale integer PCM first (e.g. int16 / 32768)"
            )
        sfreq = float(self.sfreq)
        if not (math.isfinite(sfreq) and sfreq > 0):
            raise ParameterError(f"{self.source}: sampling rate must be a positive number of Hz, got {self.sfreq!r}")
        # A private read-only copy: results computed from this object stay valid
        # whatever the caller later does to its own array.
        owned = np.array(samples, dtype=samples.dtype, copy=True)
        owned.flags.writeable = False
        object.__setattr__(self, "samples", owned)
        object.__setattr__(self, "sfreq", sfreq)
        object.__setattr__(self, "source", str(self.source))

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Duration in seconds, ``n_samples / sfreq``."""
        return self.n_samples / self.sfreq

    def to_mono(self) -> Audio:
        """Return the mean of the channels as a one-channel :class:`Audio`.

        The mean (not the sum) keeps a full-scale signal inside ``[-1, 1]``.
        A one-channel signal is returned unchanged.
        """
        if self.n_channels == 1:
            return self
        return Audio(self.samples.mean(axis=0, keepdims=True), self.sfreq, self.source)


def load_audio(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    mono: bool = False,
    offset: float = 0.0,
    duration: float | None = None,
) -> Audio:
    """Read an audio file into an :class:`Audio`.

    Parameters
    ----------
    path : str | path-like
        A ``.wav``, ``.flac``, ``.ogg``/``.oga``, ``.mp3`` or ``.aif``/``.aiff``
        file. The file is only read, never modified.
    sfreq : float | None
        Resample to this rate in Hz (``librosa.resample`` with the
        ``soxr_hq`` band-limited resampler). ``None`` keeps the file's rate.
        The resampled length is ``ceil(n_samples * sfreq / file_sfreq)``.
    mono : bool
        Mix the channels down to one, as their mean.
    offset : float
        Start reading this many seconds into the file.
    duration : float | None
        Read at most this many seconds; ``None`` reads to the end.

    Returns
    -------
    audio : Audio
        ``float32`` samples shaped ``(n_channels, n_samples)`` in ``[-1, 1]``
        (decoded lossy formats can overshoot 1.0 slightly), with
        ``source`` set to the path.

    Raises
    ------
    InputFileError
        The file is missing, has an unsupported extension, or cannot be
        decoded (truncated or corrupt).
    DataQualityError
        The selected segment holds no samples, non-finite samples, or is
        silent (peak below :data:`SILENCE_DBFS`).
    ParameterError
        ``sfreq``, ``offset`` or ``duration`` is invalid, or ``offset`` lies
        beyond the end of the file.

    Examples
    --------
    >>> audio = load_audio("clip.ogg", mono=True, sfreq=22050, duration=10.0)  # doctest: +SKIP
    >>> audio.samples.shape  # doctest: +SKIP
    (1, 220500)
    """
    path = Path(path)
    _check_path(path)
    _check_read_parameters(path, sfreq=sfreq, offset=offset, duration=duration)

    samples, file_sfreq = _decode(path, offset=offset, duration=duration)
    segment = _describe_segment(path, offset, duration)
    _check_samples(samples, file_sfreq, segment)

    if mono and samples.shape[0] > 1:
        samples = samples.mean(axis=0, keepdims=True)
    if sfreq is not None and float(sfreq) != file_sfreq:
        samples = _resample(samples, file_sfreq, float(sfreq))
        file_sfreq = float(sfreq)
    return Audio(samples, file_sfreq, str(path))


def _check_path(path: Path) -> None:
    if not path.exists():
        raise InputFileError(f"{path}: no such audio file; check the path")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not an audio file")
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise InputFileError(
            f"{path}: unsupported audio file extension {path.suffix or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: the audio file is empty (0 bytes)")


def _check_read_parameters(path: Path, *, sfreq: float | None, offset: float, duration: float | None) -> None:
    if sfreq is not None and not (math.isfinite(sfreq) and sfreq > 0):
        raise ParameterError(f"{path}: sfreq must be a positive number of Hz or None, got {sfreq!r}")
    if not (math.isfinite(offset) and offset >= 0):
        raise ParameterError(f"{path}: offset must be >= 0 seconds, got {offset!r}")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise ParameterError(f"{path}: duration must be > 0 seconds or None, got {duration!r}")


@contextmanager
def decoder_messages() -> Iterator[list[str]]:
    """Keep what C decoders write straight to file descriptor 2 off the console.

    libmpg123 (inside libsndfile) and ffmpeg print lines such as
    ``[src/libmpg123/parse.c:do_readahead():1083] warning: Cannot read next
    header`` on a damaged MP3, bypassing Python. They are captured into the
    yielded list (one entry per line) instead; a failure is reported as one
    :class:`InputFileError` line. Only around decoding: whatever else writes
    to descriptor 2 meanwhile (progress lines) would be captured too.
    """
    lines: list[str] = []
    fd = 2  # C libraries write to the descriptor, whatever sys.stderr is
    try:
        os.fstat(fd)
    except OSError:  # no descriptor 2 (a daemon): nothing to guard
        yield lines
        return
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    saved = os.dup(fd)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), fd)
            try:
                yield lines
            finally:
                os.dup2(saved, fd)
                sink.seek(0)
                lines.extend(line for line in sink.read().decode("utf-8", "replace").splitlines() if line.strip())
    finally:
        os.close(saved)


def _decode(path: Path, *, offset: float, duration: float | None) -> tuple[np.ndarray, float]:
    """Return ``(samples (n_channels, n_samples) float32, sfreq)`` for a segment of the file."""
    with decoder_messages():
        return _decode_quietly(path, offset=offset, duration=duration)


def _decode_quietly(path: Path, *, offset: float, duration: float | None) -> tuple[np.ndarray, float]:
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            file_sfreq = float(f.samplerate)
            start = int(round(offset * file_sfreq))
            if f.frames > 0 and start >= f.frames:
                raise ParameterError(
                    f"{path}: offset {offset:g} s is at or beyond the end of the file ({f.frames / file_sfreq:.3f} s)"
                )
            n_frames = -1 if duration is None else int(round(duration * file_sfreq))
            if start > 0:
                f.seek(start)
            data = f.read(frames=n_frames, dtype="float32", always_2d=True)
    except RuntimeError as err:  # soundfile.LibsndfileError and its kin
        if path.suffix.lower() == ".mp3":
            return _decode_with_audioread(path, offset=offset, duration=duration, first_error=err)
        raise InputFileError(
            f"{path}: cannot decode as {path.suffix.lower()} audio ({_sndfile_problem(err)}); "
            "the file may be truncated or corrupt"
        ) from err
    except OSError as err:
        raise InputFileError(f"{path}: cannot read audio file ({err.strerror or err})") from err
    return np.ascontiguousarray(data.T), file_sfreq


def _decode_with_audioread(
    path: Path, *, offset: float, duration: float | None, first_error: Exception
) -> tuple[np.ndarray, float]:
    """Decode an MP3 through librosa's audioread backend (ffmpeg, GStreamer, ...)."""
    import librosa

    try:
        with warnings.catch_warnings():
            # librosa announces the deprecated audioread path; here it is the deliberate fallback.
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=UserWarning)
            data, file_sfreq = librosa.load(
                str(path), sr=None, mono=False, offset=offset, duration=duration, dtype=np.float32
            )
    except Exception as err:  # audioread raises backend-specific exception types
        if type(err).__name__ == "NoBackendError":
            fallback = "no audioread backend (ffmpeg, GStreamer) is installed to try it another way"
        else:
            fallback = f"audioread: {' '.join((str(err) or type(err).__name__).split())}"
        raise InputFileError(
            f"{path}: cannot decode as MP3 audio (libsndfile: {_sndfile_problem(first_error)}; {fallback}); "
            "the file may be truncated or corrupt"
        ) from err
    return np.atleast_2d(data), float(file_sfreq)


def _sndfile_problem(err: Exception) -> str:
    """libsndfile's complaint without the path it repeats; its 'does not exist or is not a regular file'
    is what libsndfile says of any MP3 stream it cannot parse (the path was checked before)."""
    text = " ".join(str(err).split())
    if ": " in text and text.startswith("Error opening"):
        text = text.split(": ", 1)[1]
    if "does not exist or is not a regular file" in text:
        return "not a stream it can parse"
    return text.rstrip(".")


def _describe_segment(path: Path, offset: float, duration: float | None) -> str:
    if offset == 0 and duration is None:
        return str(path)
    end = "end" if duration is None else f"{offset + duration:g} s"
    return f"{path} (segment {offset:g} s to {end})"


def _check_samples(samples: np.ndarray, sfreq: float, label: str) -> None:
    if samples.size == 0:
        raise DataQualityError(f"{label}: the audio holds no samples; the file is empty")
    finite = np.isfinite(samples)
    if not finite.all():
        n_bad = int(samples.size - np.count_nonzero(finite))
        first = int(np.argwhere(~finite)[0, 1])
        raise DataQualityError(
            f"{label}: {n_bad} NaN/Inf samples (the first is sample {first}, at {first / sfreq:.3f} s); "
            "the file is damaged or was written from invalid data"
        )
    peak = float(np.max(np.abs(samples)))
    peak_dbfs = 20 * math.log10(peak) if peak > 0 else -math.inf
    if peak_dbfs < SILENCE_DBFS:
        raise DataQualityError(
            f"{label}: the audio is silent (peak {peak_dbfs:.1f} dBFS, below {SILENCE_DBFS:g} dBFS); "
            "nothing to analyse"
        )


def _resample(samples: np.ndarray, orig_sfreq: float, target_sfreq: float) -> np.ndarray:
    import librosa

    out = librosa.resample(samples, orig_sr=orig_sfreq, target_sr=target_sfreq, res_type="soxr_hq", axis=-1)
    return np.ascontiguousarray(out, dtype=samples.dtype)


__all__ = ["Audio", "SILENCE_DBFS", "SUPPORTED_EXTENSIONS", "load_audio"]
