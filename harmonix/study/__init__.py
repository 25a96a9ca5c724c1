"""Studies: many recordings in, one output per recording, resumable and robust to bad files.

* :mod:`harmonix.study.inputs` — files, globs, folders and BIDS roots (with
  entity filters) into :class:`~harmonix.study.inputs.Recording` objects;
* :mod:`harmonix.study.provenance` — is an existing output this run's result
  (input SHA-256, parameters, harmonix version)?
* :mod:`harmonix.study.batch` — the keep-going runner, ``failures.tsv``,
  resume, exit statuses, and the two output layouts;
* :mod:`harmonix.study.derivatives` — the BIDS-derivatives writer and reader.
"""

from __future__ import annotations
