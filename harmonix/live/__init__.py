"""Real time: an EEG stream from Lab Streaming Layer, online estimators, phase-locked or protocol stimulation.

:func:`run_live` runs a session (``harmonix live``); :func:`stream_file`
plays a recording as an LSL stream (``harmonix stream``). The online
estimators (:mod:`harmonix.live.online`) are the offline ones applied to the
window ending at the newest sample.
"""

from harmonix.live.online import OnlineEstimators, OnlineSettings
from harmonix.live.phase_lock import PhaseLockController, PhaseLockSettings, next_crossing
from harmonix.live.player import stream_file
from harmonix.live.run import LiveConfig, LiveSummary, run_live
from harmonix.live.sound import EventSound

__all__ = ["EventSound", "LiveConfig", "LiveSummary", "OnlineEstimators", "OnlineSettings", "PhaseLockController",
           "PhaseLockSettings", "next_crossing", "run_live", "stream_file"]
