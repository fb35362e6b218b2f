"""Logging for workflow jobs: everything a job says goes to its rule's log file."""

from __future__ import annotations

import logging
import sys


def to_file(path: str) -> logging.Logger:
    """Send the root logger and warnings to ``path``; return the ``infoplane`` logger."""
    open(path, "w").close()  # a fresh log for this job
    # Both writers append (O_APPEND: every write goes to the end). A handler opened with "w" keeps its own
    # offset and overwrote what stderr had appended, cutting tqdm's multi-byte bar characters in two.
    logging.basicConfig(filename=path, filemode="a", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.captureWarnings(True)
    sys.stderr = open(path, "a", buffering=1)  # tqdm progress bars and uncaught errors land in the log too
    return logging.getLogger("infoplane")
