"""Benchmarks of the library: estimator accuracy against ground truth, and speed."""
