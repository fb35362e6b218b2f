"""Learned compression that keeps the shared information, then KSG: ``latent_ksg``.

High-dimensional data near a low-dimensional curved manifold (layers, images) defeat kNN estimators
in the ambient space and linear compression (PCA) alike. Following latentmi (Gowri, Lun, Klein & Yin
2024, "Approximating mutual information of high-dimensional variables using learned
representations", NeurIPS), a cross-predictive autoencoder
(:mod:`infoplane.compressors.cross_predictive`) is fitted on one part of the rows, and KSG estimates
I(zx; zy) on the codes of the *other* part, so that nothing the encoders memorised about individual
pairs enters the estimate. By data processing I(zx; zy) <= I(X; Y): the estimate targets the MI of
the codes, equal to I(X; Y) when they keep what X and Y share.

Steps (every choice is made on the fit rows only):

1. a seeded split: ``fit_fraction`` of the rows fit the compressor (a fifth of them held out for its
   early stopping), the rest are encoded and estimated on;
2. ``latent_dim`` per side, unless given: ceil(TwoNN intrinsic dimension of the side's fit rows -
   ``ID_TOLERANCE``) + ``LATENT_MARGIN``, within [1, ``LATENT_CAP``] (the tolerance absorbs TwoNN's
   scatter around an integer; the margin gives a circle its second coordinate and a d-torus room to
   embed: TwoNN cannot tell a torus from a plane);
3. the compressor fit; its held-out reconstruction and cross-prediction errors go in the diagnostics,
   and a reconstruction error above ``max_relative_error`` warns (converged: false);
4. KSG (k neighbours, max-norm, standardised columns) on the held-out codes.

The interval (``estimate(..., ci=True)``, carried as the function's ``interval`` attribute, the
registry's ``"parametric"`` hook; and ``latent_ksg_estimate(ci=True)``) is KSG's subsampling
interval on the held-out codes, with the compressor fixed: ``ci_resamples`` half-subsets of the
estimation rows (:func:`.intervals.subsample_interval`). It covers the sampling spread of KSG on those
rows given this compressor. It does NOT cover (a) the compressor's own variability (another seed
draws another split and initialisation: refit with other ``seed`` values to see it; measured on four
manifold tasks, seeds 0-2, sd 0.02-0.05 bits, below the interval's half-width of 0.05-0.1), (b) what
the codes lose (a bias downwards, by data processing), (c) KSG's own bias in the code space,
downwards at high MI and made larger by estimating on part of the rows. The fit is not repeated for
the interval: the point estimate's codes are reused.

Measured on :func:`infoplane.tasks.manifold.manifold_tasks` (seed 0, defaults) against KSG on the
true low-dimensional sources of the same held-out rows (the best KSG on any code can do): within 0.06
bits on 16 of the 17 tanh, dead-unit and bump-image tasks (0.17 below at 4 + 4 dimensions and 8
bits), within 0.03 on two of the five MLP-embedded tasks and 0.09-0.15 below on three; far below on
32x32 rectangle images (0.51 of the sources' 0.81 bits, 1.18 of 2.41; reconstruction error
0.10-0.12). What separates that from the truth is KSG's own bias at that n (at 8 + 8 dimensions and
4 bits: 2.37 on the sources themselves). On these noise-free manifolds KSG on the raw data after
``marginals="copula"`` (all n rows, no fit) is as close or closer on most tasks (the copula undoes
the tanh maps coordinate by coordinate); latent_ksg is ahead on the 4-d dead-unit task (3.17 vs
3.00 of 4) and never came out more than 0.02 bits above the truth, where raw KSG gives 1.31 bits of
1 on rectangle images and 2.13 of 2 on a dead-unit task. A smaller ``fit_fraction`` (0.3) gained
0.01-0.12 bits on five tasks.

Cost: the TwoNN choice (about 1 s at 2500 x 500 fit rows), the fit (20-130 epochs of 0.1-0.2 s at
2000 training rows), KSG and its interval (under 1 s at 2500 held-out rows). Measured at n = 5000
on one free thread: 6 s at 500 + 500 coordinates of a 2-d source, 8-13 s at 600 + 600 of a 4-d one,
11-17 s on 256- and 1024-pixel images; 30-35 s at n = 10,000. Two threads do not help (small
layers: per-step overhead dominates). The cost grows with n and the epochs, hardly with the ambient
dimension (each side is first projected on at most ``pca_dim`` principal components).
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
import weakref

import torch

from .base import as_tensor, check_positive_int, cpu_generator, is_labels, register, resolve_device
from .geometry import intrinsic_dimension
from .intervals import subsample_interval
from .knn import ksg_mi_bits

# Measured: a margin of 2 rather than 1 lifts a 2-torus (dead_units_uniform_2in150) from 3.32 to 3.52 bits of 4 (KSG on
# the true circle coordinates: 3.52); on Gaussian sources it changes nothing (0.97 vs 0.97, 3.18 vs 3.21 bits).
LATENT_MARGIN = 2
LATENT_CAP = 12
ID_TOLERANCE = 0.25  # TwoNN scatters around an integer dimension (2.02 for a plane at n = 1000): ceil(ID - 0.25)
MIN_ROWS = 100  # below this, neither the fit nor the held-out KSG has rows to work with
FIT_DEFAULTS = dict(hidden=256, pca_dim=64, dropout=0.5, cross_weight=1.0, batch_size=512, lr=3e-3)


def choose_latent_dim(a: torch.Tensor, seed: int = 0) -> tuple[int, float]:
    """(latent dimension, TwoNN intrinsic dimension) for the rows of a: ceil(ID - 0.25) + margin, in [1, cap]."""
    d_id = intrinsic_dimension(a, "twonn", seed=seed)
    if not math.isfinite(d_id):
        return LATENT_CAP, d_id
    return int(min(max(math.ceil(d_id - ID_TOLERANCE) + LATENT_MARGIN, 1), LATENT_CAP, a.shape[1])), d_id


def _check_input(x: torch.Tensor, y: torch.Tensor, fit_fraction: float, k: int) -> tuple[int, int]:
    if is_labels(y) or is_labels(x):
        raise ValueError("latent_ksg needs continuous x and y (floats), not class labels: use ksg (mixed estimator)")
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x and y must have the same number of samples, got {n} and {y.shape[0]}")
    if n < MIN_ROWS:
        raise ValueError(f"latent_ksg needs at least {MIN_ROWS} samples (a fit and a held-out part), got n={n}")
    if not 0.0 < fit_fraction < 1.0:
        raise ValueError(f"fit_fraction must lie strictly between 0 and 1, got {fit_fraction}")
    n_fit = int(round(fit_fraction * n))
    if n_fit < MIN_ROWS // 2 or n - n_fit < max(MIN_ROWS // 2, 2 * k + 2):
        raise ValueError(f"fit_fraction={fit_fraction} leaves {n_fit} fit and {n - n_fit} held-out rows of n={n}; "
                         f"both need at least {MIN_ROWS // 2}")  # fmt: skip
    for name, a in (("x", x), ("y", y)):
        if bool((a == a[:1]).all()):
            raise ValueError(f"{name} is constant (every row equal): its MI with anything is 0, nothing to compress")
    return n, n_fit


def latent_ksg_estimate(
    x,
    y,
    *,
    latent_dim: int | None = None,
    latent_dim_y: int | None = None,
    k: int = 3,
    fit_fraction: float = 0.5,
    epochs: int = 200,
    patience: int = 10,
    max_relative_error: float = 0.2,
    seed: int = 0,
    device="auto",
    ci: bool = True,
    ci_resamples: int = 20,
    ci_level: float = 0.95,
    log=None,
    **fit_params,
) -> tuple[float, dict]:
    """latent_ksg with its diagnostics: (I in bits, info). See the module docstring.

    x: (n, dx), y: (n, dy) floats (numpy or torch, any device); latent_dim, latent_dim_y: the codes'
    sizes (None: chosen from the fit rows; latent_dim_y defaults to its own choice, not latent_dim);
    k: KSG's neighbours; fit_fraction: the rows that fit the compressor; epochs, patience: its training
    (early stopping on a held-out fifth of the fit rows); max_relative_error: the reconstruction error
    above which it warns; seed: the split, the compressor, the interval's subsets; device: where the
    compressor trains (``"auto"``: CUDA when present); fit_params: hidden, pca_dim, dropout,
    cross_weight, batch_size, lr of :func:`infoplane.compressors.cross_predictive.fit_cross_predictive`.

    info: n_fit, n_estimate, intrinsic_dim_x/y (None when latent dims were given), latent_dim_x/y,
    the compressor's report (reconstruction_error_x/y, cross_error_x/y, converged, epochs_run,
    best_epoch, stopped_early), ci_low_bits/ci_high_bits (None without ci), ci_covers, seconds
    (choose, fit, ksg, interval, total); and two objects: compressor (the fitted
    :class:`~infoplane.compressors.cross_predictive.CrossPredictiveCompressor`) and codes (zx, zy of
    the held-out rows).
    """
    from ..compressors.cross_predictive import fit_cross_predictive

    start = time.perf_counter()
    dev = resolve_device(device)
    xt, yt = as_tensor(x, "x", dev, labels_ok=True), as_tensor(y, "y", dev, labels_ok=True)
    k = check_positive_int(k, "k")
    n, n_fit = _check_input(xt, yt, fit_fraction, k)
    unknown = set(fit_params) - set(FIT_DEFAULTS)
    if unknown:
        raise TypeError(f"latent_ksg takes no parameter(s) {sorted(unknown)}; known: {sorted(FIT_DEFAULTS)}")
    perm = torch.randperm(n, generator=cpu_generator(seed)).to(dev)
    fit_rows, est_rows = perm[:n_fit].sort().values, perm[n_fit:].sort().values
    xf, yf = xt[fit_rows], yt[fit_rows]
    id_x = id_y = None
    if latent_dim is None:
        latent_dim, id_x = choose_latent_dim(xf, seed)
    if latent_dim_y is None:
        latent_dim_y, id_y = choose_latent_dim(yf, seed)
    t_choose = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comp = fit_cross_predictive(xf, yf, latent_dim, latent_dim_y, seed=seed, epochs=epochs, patience=patience,
                                    max_relative_error=max_relative_error, device=dev, log=log,
                                    **{**FIT_DEFAULTS, **fit_params})  # fmt: skip
    for w in caught:  # re-raised here, so that the warning points at the caller's estimate
        warnings.warn(f"latent_ksg: {w.message}", type(w.message) if isinstance(w.message, Warning) else UserWarning,
                      stacklevel=3)  # fmt: skip
    t_fit = time.perf_counter()
    zx, zy = comp.encode(xt[est_rows], yt[est_rows])
    mi = float(ksg_mi_bits(zx, zy, k=k, seed=seed))
    t_ksg = time.perf_counter()
    low = high = None
    if ci:
        low, high, _ = subsample_interval(ksg_mi_bits, zx, zy, mi, n_resamples=ci_resamples, fraction=0.5,
                                          level=ci_level, subset_seed=seed, k=k, seed=seed)  # fmt: skip
    t_end = time.perf_counter()
    report = {key: v for key, v in comp.report.items() if key not in ("history", "n_fit", "n_val", "seconds")}
    info = {
        "n_fit": n_fit,  # the rows of the fit split: n_train of them train the compressor, n_val stop it
        "n_train": comp.report["n_fit"],
        "n_val": comp.report["n_val"],
        "n_estimate": n - n_fit,
        "intrinsic_dim_x": id_x,
        "intrinsic_dim_y": id_y,
        **report,
        "ci_low_bits": low,
        "ci_high_bits": high,
        "ci_covers": "KSG's sampling spread on the held-out codes, the compressor fixed; not the compressor's "
        "seed or split, nor what the codes lose, nor KSG's bias",
        "seconds_choose": t_choose - start,
        "seconds_fit": t_fit - t_choose,
        "seconds_ksg": t_ksg - t_fit,
        "seconds_interval": t_end - t_ksg,
        "seconds": t_end - start,
        "compressor": comp,
        "codes": (zx, zy),
    }
    return mi, info


# The registry's interval hook gets the same tensors right after the point estimate: the fit is reused.
_LAST: dict = {}


def _key(x: torch.Tensor, y: torch.Tensor, params: dict) -> tuple:
    return (x._version, y._version, tuple(sorted((k, repr(v)) for k, v in params.items())))


def _cached(x, y, params):
    hit = _LAST.get("refs")
    if hit and hit[0]() is x and hit[1]() is y and _LAST.get("key") == _key(x, y, params):
        return _LAST["info"]
    return None


def last_diagnostics() -> dict | None:
    """The info of the latest ``latent_ksg`` run through the registry (``estimate("latent_ksg", ...)``), or None."""
    info = _LAST.get("info")
    return None if info is None else {k: v for k, v in info.items() if k not in ("codes", "compressor")}


@register("latent_ksg", ci="parametric", labels_ok=False)
def latent_ksg_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    latent_dim: int | None = None,
    latent_dim_y: int | None = None,
    k: int = 3,
    fit_fraction: float = 0.5,
    epochs: int = 200,
    patience: int = 10,
    max_relative_error: float = 0.2,
    seed: int = 0,
) -> float:
    """KSG on the held-out codes of a cross-predictive autoencoder, in bits (module docstring).

    x: (n, dx), y: (n, dy) floats; the compressor trains on their device. Parameters:
    :func:`latent_ksg_estimate`; its diagnostics: :func:`last_diagnostics`. ``ci=True`` attaches KSG's
    subsampling interval on the held-out codes (compressor fixed; see the module docstring).
    """
    params = dict(latent_dim=latent_dim, latent_dim_y=latent_dim_y, k=k, fit_fraction=fit_fraction, epochs=epochs,
                  patience=patience, max_relative_error=max_relative_error, seed=seed)  # fmt: skip
    mi, info = latent_ksg_estimate(x, y, device=x.device, ci=False, **params)
    info["mi_bits"] = mi
    _LAST.clear()
    _LAST.update(refs=(weakref.ref(x), weakref.ref(y)), key=_key(x, y, params), info=info)
    return mi


def _interval(x, y, *, n_resamples: int = 20, level: float = 0.95, seed: int = 0, **params):
    """The registry's interval for latent_ksg: KSG's subsampling interval on the held-out codes, (low, high) bits."""
    defaults = inspect.signature(latent_ksg_mi_bits).parameters.values()
    full = {p.name: p.default for p in defaults if p.default is not inspect.Parameter.empty}
    full.update(params, seed=seed)
    info = _cached(x, y, full)
    if info is None:  # called on its own: fit first
        latent_ksg_mi_bits(x, y, **full)
        info = _LAST["info"]
    zx, zy = info["codes"]
    low, high, _ = subsample_interval(ksg_mi_bits, zx, zy, info["mi_bits"], n_resamples=n_resamples, fraction=0.5,
                                      level=level, subset_seed=seed, k=full["k"], seed=seed)  # fmt: skip
    info.update(ci_low_bits=low, ci_high_bits=high)
    return low, high


latent_ksg_mi_bits.interval = _interval

__all__ = ["LATENT_CAP", "LATENT_MARGIN", "choose_latent_dim", "last_diagnostics", "latent_ksg_estimate",
           "latent_ksg_mi_bits"]  # fmt: skip
