"""Studies: many recordings in, one output per recording, resumable and robust to bad files.

* :mod:`harmonix.study.inputs` — files, globs, folders and BIDS roots (with
  entity filters) into :class:`~harmonix.study.inputs.Recording` objects;
* :mod:`harmonix.study.provenance` — is an existing output this run's result
  (input SHA-256, parameters, harmonix version)?
* :mod:`harmonix.study.layouts` — where outputs go (plain folders or a
  BIDS-derivatives dataset) and ``index.tsv``;
* :mod:`harmonix.study.batch` — the keep-going runner, ``failures.tsv``,
  resume, exit statuses;
* :mod:`harmonix.study.cluster` — where the recordings run: this process, a
  local Dask cluster (``--jobs``) or an existing one (``--scheduler``);
* :mod:`harmonix.study.derivatives` — the BIDS-derivatives writer and reader.
"""

from __future__ import annotations
