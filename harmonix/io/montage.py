"""The standard 10-05 montage under its current MNE name."""

from __future__ import annotations

import mne


def standard_montage() -> mne.channels.DigMontage:
    """Return the 10-05 template montage (Colin27 head).

    MNE 1.13 renamed ``'standard_1005'`` to ``'colin27_1005'`` (same
    positions); ask for the new name first so newer MNE raises no deprecation.
    """
    builtin = mne.channels.get_builtin_montages()
    name = "colin27_1005" if "colin27_1005" in builtin else "standard_1005"
    return mne.channels.make_standard_montage(name)
