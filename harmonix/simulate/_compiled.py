"""numba's ``njit`` when numba is there (it ships with librosa), else a decorator that leaves Python as it is."""

from __future__ import annotations

try:  # numba ships with librosa; fall back to plain Python loops without it
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda function: function


__all__ = ["HAVE_NUMBA", "njit"]
