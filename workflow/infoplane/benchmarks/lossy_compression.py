"""The lossy-compression benchmark of Butakov et al. (2024): estimated against true MI on images
whose MI is known (:mod:`infoplane.tasks.images`), for kNN estimators on raw pixels and on
compressed codes.

A pipeline is named by what it does: ``ksg_raw`` (KSG on the raw pixels), ``pca4_wkl`` (PCA of
every side to 4 dimensions, then weighted Kozachenko-Leonenko), ``ae2_ksg`` (the autoencoder to
2 dimensions, then KSG)... The compressors are fitted once per (family, source) on images of one
side drawn at MI 0 with their own seed: the marginal law of a side does not depend on the MI (a
rotated N(0, I) is N(0, I); the circular-uniform source is uniform whatever the arc), so one fit
serves every MI of the grid and every seed, and it never sees the pairs it will compress.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pandas as pd

from ..compressors import fit_compressor
from ..compressors.autoencoder import image_side
from ..estimators import estimate
from ..tasks import make_task
from ..tasks.images import FAMILIES, MAX_NATS_PER_COORDINATE

LN2 = math.log(2.0)
COMPRESSOR_PREFIX = {"pca": "pca", "autoencoder": "ae"}
FIT_SEED_OFFSET = 10_000  # the compressors' training images come from seeds no pair is drawn with

log = logging.getLogger("infoplane")


def task_params(settings: dict, family: str) -> dict:
    """The image parameters of ``family`` from the benchmark settings (size, width, min_size)."""
    params = {"size": int(settings["sizes"][family])}
    if family == "gaussian_bumps":
        params["width"] = float(settings["bump_width"])
    else:
        params["min_size"] = float(settings["min_size"])
    return params


def settings_errors(settings: dict, key: str = "lossy_compression") -> list[str]:
    """Problems of the benchmark settings, each naming its config key; [] when it can run."""
    errors = []
    for i, mi in enumerate(settings["mi_nats"]):
        for family in settings["families"]:
            top = MAX_NATS_PER_COORDINATE * FAMILIES[family]
            if not 0 <= mi <= top:
                errors.append(f"{key}.mi_nats[{i}]={mi}: {family} images support MI from 0 to {top:g} nats")
    for family in settings["families"]:
        try:
            task = make_task(family, mi_bits=0.0, source=settings["sources"][0], **task_params(settings, family))
        except (ValueError, KeyError) as err:
            errors.append(f"{key}: {family}: {err}")
            continue
        dim = settings["latent_dims"].get(family)
        if dim is None:
            errors.append(f"{key}.latent_dims.{family}: missing (the compressed dimension of {family})")
        elif not 1 <= dim <= task.dim_x:
            errors.append(f"{key}.latent_dims.{family}={dim}: a compressor's latent dimension must lie in "
                          f"[1, {task.dim_x}], the pixels of a {task.size}x{task.size} image")  # fmt: skip
        if "autoencoder" in settings["compressors"]:
            try:
                image_side(task.dim_x, task.image_shape, key=f"{key}.sizes.{family}")
            except ValueError as err:
                errors.append(str(err))
    for group in ("estimators", "raw_estimators"):
        for name in settings[group]:
            if name not in settings["presets"]:
                errors.append(
                    f"{key}.{group}: {name!r} is not a preset of {key}.presets ({sorted(settings['presets'])})"
                )
    from ..estimators import ESTIMATORS
    from ..estimators.parameters import parameter_errors

    for name, spec in settings["presets"].items():
        if spec["method"] not in ESTIMATORS:
            errors.append(f"{key}.presets.{name}.method: unknown method {spec['method']!r}")
            continue
        params = {k: v for k, v in spec.items() if k != "method"}
        errors += [f"{key}.presets.{name}.{p}: {why}" for p, why in parameter_errors(spec["method"], params)]
    return errors


def pipelines(settings: dict, family: str) -> list[tuple[str, str | None, str]]:
    """[(pipeline name, compressor kind or None, estimator preset)] of one family."""
    dim = settings["latent_dims"][family]
    out = [(f"{e}_raw", None, e) for e in settings["raw_estimators"]]
    for kind in settings["compressors"]:
        out += [(f"{COMPRESSOR_PREFIX[kind]}{dim}_{e}", kind, e) for e in settings["estimators"]]
    return out


def fit_family_compressor(kind: str, family: str, source: str, settings: dict, logger=None):
    """Fit compressor ``kind`` for (family, source) on ``n_fit`` images of one side (see the module docstring)."""
    task = make_task(family, mi_bits=0.0, source=source, **task_params(settings, family))
    x, _ = task.sample(int(settings["n_fit"]), seed=FIT_SEED_OFFSET + int(settings["fit_seed"]))
    params = {}
    if kind == "autoencoder":
        params = {k: settings["autoencoder"][k] for k in ("epochs", "lr", "batch_size", "max_relative_error")}
        params["channels"] = settings["autoencoder"]["channels"]
        params["image_shape"] = task.image_shape
        params["log"] = (logger or log).info
    return fit_compressor(kind, x, int(settings["latent_dims"][family]), seed=int(settings["fit_seed"]), **params)


def run_point(family: str, source: str, mi_nats: float, seed: int, compressors: dict, settings: dict) -> pd.DataFrame:
    """Every pipeline on one draw of n pairs: one row each (true and estimated MI in bits, with the interval).

    compressors: {kind: a fitted compressor} for the kinds in ``settings["compressors"]``.
    """
    task = make_task(family, mi_bits=mi_nats / LN2, source=source, **task_params(settings, family))
    x, y = task.sample(int(settings["n_samples"]), seed=int(seed))
    rows = []
    codes = {None: (x, y)}
    for kind, comp in compressors.items():
        codes[kind] = (comp.encode(x), comp.encode(y))
    for name, kind, preset in pipelines(settings, family):
        spec = dict(settings["presets"][preset])
        method = spec.pop("method")
        a, b = codes[kind]
        start = time.perf_counter()
        n_sub = int(settings["ci_resamples"])
        r = estimate(method, a, b, device=settings["device"], ci_resamples=n_sub, seed=int(seed), **spec)
        report = compressors[kind].report if kind else {}
        rows.append({
            "family": family, "source": source, "pipeline": name, "compressor": kind or "none",
            "latent_dim": int(report.get("latent_dim", task.dim_x)), "estimator": preset, "method": method,
            "seed": int(seed), "true_mi_nats": float(mi_nats), "true_mi_bits": float(mi_nats) / LN2,
            "mi_bits": r.mi_bits, "ci_low_bits": r.ci_low_bits, "ci_high_bits": r.ci_high_bits,
            "n_samples": r.n_samples, "seconds": time.perf_counter() - start,
            "compressor_relative_error": float(report.get("relative_error", 0.0)),
            "compressor_converged": bool(report.get("converged", True)),
        })  # fmt: skip
        log.info("%s %s I=%.2f nats seed %d %s: %.3f bits [%.3f, %.3f] (truth %.3f) in %.1f s", family, source, mi_nats,
                 seed, name, r.mi_bits, r.ci_low_bits, r.ci_high_bits, mi_nats / LN2, rows[-1]["seconds"])  # fmt: skip
    return pd.DataFrame(rows)


def within_tolerance(estimate_bits, truth_bits, abs_bits: float = 0.25, rel: float = 0.15):
    """|estimate - truth| <= max(abs_bits, rel x truth), elementwise."""
    return np.abs(np.asarray(estimate_bits) - np.asarray(truth_bits)) <= np.maximum(
        abs_bits, rel * np.asarray(truth_bits)
    )
