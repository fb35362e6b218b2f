"""Extraction: replay the weight trajectory of a run into per-layer activations."""

from .replay import activations, load_epoch, write_activations

__all__ = ["activations", "load_epoch", "write_activations"]
