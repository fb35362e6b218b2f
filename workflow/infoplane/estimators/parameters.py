"""What values estimator parameters take, checked before anything runs (config validation).

A parameter name means the same thing in every estimator that takes it (``k`` is a number of
neighbours wherever it appears, ``noise_variance`` a variance), so one rule per name covers every
method, estimators added later included. A name without a rule is not checked here: the
estimator checks it when it runs. A method whose parameter shares a name but not its meaning
gets its own rule, or None for none, in ``METHOD_RULES``.

    >>> parameter_errors("kde", {"noise_variance": -0.1})
    [('noise_variance', 'must be a number > 0, got -0.1')]
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from ..measures.cauchy_schwarz import WIDTHS as CS_WIDTHS
from .base import ESTIMATORS
from .binning import RANGES
from .kde import BOUNDS
from .kde import PRECISIONS as KDE_PRECISIONS
from .knn import METRICS
from .knn import PRECISIONS as KNN_PRECISIONS
from .prepare import MARGINALS
from .variational import CRITICS


@dataclasses.dataclass(frozen=True)
class Rule:
    """A parameter's valid values: ``ok(value)`` (value is never None), described as ``text``."""

    text: str
    ok: Callable[[Any], bool]
    nullable: bool = False

    def problem(self, value) -> str | None:
        if value is None and self.nullable:
            return None
        if value is not None and self.ok(value):
            return None
        return f"must be {self.text}{' or null' if self.nullable else ''}, got {value!r}"


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def integer(minimum: int, *, nullable: bool = False) -> Rule:
    return Rule(f"an integer >= {minimum}", lambda v: _is_number(v) and int(v) == v and v >= minimum, nullable)


def number(*, above=None, at_least=None, below=None, at_most=None, nullable: bool = False) -> Rule:
    """A finite number within the bounds given (above/below: strict; at_least/at_most: inclusive)."""
    bounds = [(above, ">", lambda v, b: v > b), (at_least, ">=", lambda v, b: v >= b)]
    bounds += [(below, "<", lambda v, b: v < b), (at_most, "<=", lambda v, b: v <= b)]
    bounds = [(b, sign, test) for b, sign, test in bounds if b is not None]
    text = "a number" + "".join(f" {'and ' if i else ''}{sign} {b}" for i, (b, sign, _) in enumerate(bounds))
    return Rule(text, lambda v: _is_number(v) and all(test(v, b) for b, _, test in bounds), nullable)


def choice(values) -> Rule:
    values = tuple(values)
    return Rule(f"one of {list(values)}", lambda v: not isinstance(v, bool) and v in values)


BOOLEAN = Rule("true or false", lambda v: isinstance(v, bool))
FRACTION = number(above=0, below=1)

RULES: dict[str, Rule] = {
    # infoplane.estimators.estimate, for every method
    "ci": BOOLEAN,
    "ci_resamples": integer(2),
    "ci_fraction": FRACTION,
    "ci_level": FRACTION,
    "seed": integer(0),
    "marginals": choice(MARGINALS),
    "protocol": BOOLEAN,
    "protocol_max_gamma": integer(4),
    # binning
    "bins": integer(2),
    "range": choice(RANGES),
    "low": number(),
    "high": number(),
    # kNN (KSG, mixed), PCA then kNN
    "k": integer(1),
    "algorithm": choice((1, 2)),
    "metric": choice(METRICS),
    "standardize": BOOLEAN,
    "bias_correction": BOOLEAN,
    "noise": number(at_least=0),
    "precision": choice({**KNN_PRECISIONS, **KDE_PRECISIONS}),
    "chunk_size": integer(1, nullable=True),
    "components": integer(1, nullable=True),
    "components_y": integer(1, nullable=True),
    "max_components": integer(1),
    "only_filled": BOOLEAN,
    "variance_fraction": number(above=0, at_most=1),
    # t copula: the largest finite degrees of freedom searched (the smallest is 0.5)
    "max_dof": number(above=0.5),
    # weighted Kozachenko-Leonenko
    "whitened": BOOLEAN,
    # the estimate job: X uniform over all, the training or the test rows of the dataset
    "rows": choice(("all", "train", "test")),
    # the estimate job: X replaced by the codes of a compressor fitted once (infoplane.compressors)
    "x_compressor": Rule(
        "a mapping with kind (pca or autoencoder) and latent_dim (an integer >= 1), and autoencoder settings",
        lambda v: (
            isinstance(v, dict)
            and v.get("kind") in ("pca", "autoencoder")
            and isinstance(v.get("latent_dim"), int)
            and not isinstance(v.get("latent_dim"), bool)
            and v["latent_dim"] >= 1
            and set(v) <= {"kind", "latent_dim", "epochs", "lr", "batch_size", "channels", "max_relative_error", "seed"}
        ),
    ),
    # kernel-density bounds
    "noise_variance": number(above=0),
    "relative_noise_variance": number(above=0),
    "bound": choice(BOUNDS),
    "adaptive": BOOLEAN,
    "n_query": integer(1, nullable=True),
    # Gaussian, matrix-based Renyi
    "ridge": number(at_least=0),
    "alpha": number(above=0),
    "sigma_x": number(above=0, nullable=True),
    "sigma_y": number(above=0, nullable=True),
    "sigma_scale": number(above=0),
    # variational critics
    "critic": choice(CRITICS),
    "hidden": integer(1),
    "layers": integer(0),
    "embed": integer(1),
    "steps": integer(1),
    "batch_size": integer(2),
    "lr": number(above=0),
    "train_fraction": FRACTION,
    "clip": number(above=0),
    "ma_rate": number(above=0, at_most=1),
    "grad_clip": number(above=0),
    "patience": integer(1),
    "retries": integer(0),
    # learned compression (latent_ksg): the codes' sizes (null: from the intrinsic dimension), the rows that
    # fit the compressor, its epochs, and the reconstruction error above which it says it did not converge
    "latent_dim": integer(1, nullable=True),
    "latent_dim_y": integer(1, nullable=True),
    "fit_fraction": FRACTION,
    "epochs": integer(1),
    "max_relative_error": number(above=0),
    # normalising flows (mienf): MAF layers per side
    "blocks": integer(1),
    # diffusion spectral MI (dsmi): Gaussian bandwidth, diffusion time, subsets per class, groups of a continuous y
    "sigma": number(above=0),
    "t": number(above=0),
    "n_repetitions": integer(1),
    "n_clusters": integer(2),
    # Cauchy-Schwarz QMI (cs_qmi): the kernel-width rule where sigma_x / sigma_y are not given
    "width": choice(CS_WIDTHS),
}

# (method, parameter) -> the rule where a method means something else by a shared name; None: unchecked.
METHOD_RULES: dict[tuple[str, str], Rule | None] = {}


def _defaults(method: str) -> dict[str, Any]:
    if method not in ESTIMATORS:
        return {}
    params = inspect.signature(ESTIMATORS[method].fn).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def parameter_errors(method: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """[(parameter, problem)] for the values of ``params`` that ``method`` cannot take; [] when all can.

    Only parameters with a rule are checked; any other key passes (its name is checked elsewhere).
    """
    errors = []
    for key, value in params.items():
        rule = METHOD_RULES.get((method, key), RULES.get(key))
        problem = rule.problem(value) if rule is not None else None
        if problem:
            errors.append((key, problem))
    if method == "binning" and {"low", "high"} & set(params) and not {"low", "high"} & {key for key, _ in errors}:
        low, high = ({**_defaults(method), **params}[k] for k in ("low", "high"))
        if not low < high:
            errors.append(("high" if "high" in params else "low", f"needs low < high, got low={low!r}, high={high!r}"))
    return errors
