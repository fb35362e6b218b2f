"""Extraction: replay the weight trajectory of a run into per-layer activations."""

from .replay import activations, load_epoch, write_activations
from .runs import RunToExtract, extract_run, extract_runs

__all__ = ["RunToExtract", "activations", "extract_run", "extract_runs", "load_epoch", "write_activations"]
