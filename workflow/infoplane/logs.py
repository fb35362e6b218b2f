"""Logging for workflow jobs: everything a job says goes to its rule's log file."""

from __future__ import annotations

import logging
import sys


def to_file(path: str) -> logging.Logger:
    """Send the root logger and warnings to ``path``; return the ``infoplane`` logger."""
    logging.basicConfig(filename=path, filemode="w", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.captureWarnings(True)
    sys.stderr = open(path, "a", buffering=1)  # tqdm progress bars and uncaught errors land in the log too
    return logging.getLogger("infoplane")
