"""Estimator preset values are checked when the config is read, with one message naming the key, and
the check agrees with the estimators' own: what the config rejects, the estimator rejects when it runs."""

from __future__ import annotations

import copy
import inspect
import re
import subprocess

import numpy as np
import pytest
import yaml
from conftest import REPO, snakemake_cmd
from infoplane.config import ConfigError, validate_config
from infoplane.estimators import ESTIMATORS, estimate
from infoplane.estimators.base import EstimatorSpec

TINY = yaml.safe_load((REPO / ".test/config.yaml").read_text())

# (method, bad parameters, the key the message names, what it says), each one mistake in one preset.
BAD = [
    ("kde", {"noise_variance": -0.1}, "noise_variance", "must be a number > 0, got -0.1"),
    ("kde", {"noise_variance": 0}, "noise_variance", "must be a number > 0, got 0"),
    ("kde", {"noise_variance": "1e-1"}, "noise_variance", "must be a number > 0, got '1e-1'"),  # YAML 1.1: a string
    ("kde", {"adaptive": True, "relative_noise_variance": -1.0}, "relative_noise_variance", "must be a number > 0"),
    ("kde", {"bound": "middle"}, "bound", "must be one of ['upper', 'lower'], got 'middle'"),
    ("kde", {"n_query": 0}, "n_query", "must be an integer >= 1 or null, got 0"),
    ("kde", {"precision": "float16"}, "precision", "must be one of ['float32', 'float64']"),
    ("binning", {"range": "fixd"}, "range", "must be one of ['fixed', 'observed', 'adaptive'], got 'fixd'"),
    ("binning", {"range": "fixed", "low": 1.0}, "low", "needs low < high, got low=1.0, high=1.0"),
    ("ksg", {"k": 2.5}, "k", "2.5 is not of type 'integer'"),  # k and bins: the schema says so first
    ("ksg", {"chunk_size": 2.5}, "chunk_size", "must be an integer >= 1 or null, got 2.5"),
    ("ksg", {"algorithm": 3}, "algorithm", "must be one of [1, 2], got 3"),
    ("ksg", {"metric": "manhattan"}, "metric", "must be one of ['chebyshev', 'euclidean']"),
    ("ksg", {"noise": -0.01}, "noise", "must be a number >= 0, got -0.01"),
    ("mixed_ksg", {"standardize": 1}, "standardize", "must be true or false, got 1"),
    ("ksg", {"seed": True}, "seed", "must be an integer >= 0, got True"),
    ("pca_ksg", {"components": 0}, "components", "must be an integer >= 1 or null, got 0"),
    ("pca_wkl", {"max_components": 0}, "max_components", "must be an integer >= 1, got 0"),
    ("pca_wkl", {"variance_fraction": 0.0}, "variance_fraction", "must be a number > 0 and <= 1, got 0.0"),
    ("renyi", {"alpha": -2.0}, "alpha", "must be a number > 0, got -2.0"),
    ("infonce", {"train_fraction": 1.0}, "train_fraction", "must be a number > 0 and < 1, got 1.0"),
    ("mine", {"steps": 0}, "steps", "must be an integer >= 1, got 0"),
    ("smile", {"critic": "bilinear"}, "critic", "must be one of ['separable', 'concat'], got 'bilinear'"),
    ("nwj", {"batch_size": 1}, "batch_size", "must be an integer >= 2, got 1"),
    ("binning", {"ci_fraction": 1.0}, "ci_fraction", "must be a number > 0 and < 1, got 1.0"),
    ("ksg", {"ci_resamples": 1}, "ci_resamples", "must be an integer >= 2, got 1"),
    ("gaussian", {"ci_level": 95}, "ci_level", "must be a number > 0 and < 1, got 95"),
    ("dsmi", {"t": 0}, "t", "must be a number > 0, got 0"),
    ("dsmi", {"n_clusters": 1}, "n_clusters", "must be an integer >= 2, got 1"),
    ("cs_qmi", {"width": "scott"}, "width", "must be one of ['silverman', 'median'], got 'scott'"),
    ("cs_qmi", {"sigma_x": -1.0}, "sigma_x", "must be a number > 0 or null, got -1.0"),
    # values the estimators take without complaint, but that mean nothing
    ("mine", {"ma_rate": 0.0}, "ma_rate", "must be a number > 0 and <= 1, got 0.0"),
    ("mine", {"lr": -0.001}, "lr", "must be a number > 0, got -0.001"),
    ("kde", {"ci": "no"}, "ci", "must be true or false, got 'no'"),
]
# The estimators accept these at run time (no check of their own); every other case above they reject.
NOT_CHECKED_AT_RUN_TIME = {"ma_rate", "lr", "ci", "ci_level", "standardize", "seed"}


def _with_preset(preset: dict) -> dict:
    cfg = copy.deepcopy(TINY)
    cfg["estimators"]["p"] = preset
    return cfg


@pytest.mark.parametrize(("method", "params", "key", "says"), BAD, ids=[f"{m}-{k}" for m, _, k, _ in BAD])
def test_a_bad_preset_value_fails_with_one_message_naming_the_key(method, params, key, says):
    with pytest.raises(ConfigError) as err:
        validate_config(_with_preset({"method": method, **params}))
    lines = str(err.value).splitlines()[1:]
    assert len(lines) == 1, lines
    assert re.match(rf"\s*(config key )?estimators\.p\.{key}: ", lines[0]) and says in lines[0], lines[0]


@pytest.mark.parametrize(
    ("method", "params", "key"),
    [(m, p, k) for m, p, k, _ in BAD if k not in NOT_CHECKED_AT_RUN_TIME],
    ids=[f"{m}-{k}" for m, _, k, _ in BAD if k not in NOT_CHECKED_AT_RUN_TIME],
)
def test_the_estimator_itself_rejects_what_the_config_rejects(method, params, key):
    """The truth for each rule: the estimator, run on a small input, fails on the same value."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    y = x[:, :2] + rng.standard_normal((40, 2))
    labels = (x[:, 0] > 0).astype(np.int64)  # the kernel bound's I(T;Y) and the mixed estimator take labels
    b = labels if method in ("kde", "mixed_ksg") else y
    quick = {"steps": 2} if ESTIMATORS[method].ci == "seeds" else {}  # critics: rejected before training anyway
    assert np.isfinite(estimate(method, x, b, device="cpu", ci=False, **quick).mi_bits)  # good values run
    with pytest.raises((ValueError, TypeError)) as err:
        estimate(method, x, b, device="cpu", **{**quick, **params})
    if err.type is ValueError:  # a TypeError (a string for a number) comes from Python and names no key
        assert key in str(err.value), str(err.value)


def test_every_estimators_defaults_pass():
    """No rule rejects a registered estimator's own defaults (a new estimator that gives a known name
    another meaning fails here, and gets its own rule in parameters.METHOD_RULES)."""
    for method, spec in ESTIMATORS.items():
        params = inspect.signature(spec.fn).parameters.values()
        defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        validate_config(_with_preset({"method": method, **defaults}))


def test_good_values_pass():
    validate_config(_with_preset({"method": "kde", "noise_variance": 1e-3, "bound": "lower", "n_query": None}))
    validate_config(_with_preset({"method": "ksg", "k": 3.0, "metric": "euclidean", "chunk_size": None, "noise": 0}))
    validate_config(_with_preset({"method": "mine", "ma_rate": 1, "layers": 0, "train_fraction": 0.5}))


def test_several_bad_values_are_named_together_and_unknown_keys_pass(monkeypatch):
    # A method that takes any keyword: keys without a rule (another engineer's new options) pass.
    def open_fn(x, y, **params):
        return 0.0

    monkeypatch.setitem(ESTIMATORS, "open", EstimatorSpec("open", open_fn, ci="none", labels_ok=True))
    cfg = _with_preset({"method": "open", "marginals": "copula", "reliable": {"fractions": [0.5]}, "n_query": 0})
    cfg["estimators"]["q"] = {"method": "kde", "noise_variance": -1, "bound": "upper", "alpha": -1}
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    lines = [line.strip() for line in str(err.value).splitlines()[1:]]
    # kde takes no alpha: named once, for its name (checked first); then the values
    assert re.match(r"estimators\.q\.alpha: kde takes no parameter 'alpha'", lines[0])
    assert lines[1:] == [
        "estimators.p.n_query: must be an integer >= 1 or null, got 0",
        "estimators.q.noise_variance: must be a number > 0, got -1",
    ]
    # (marginals is now a key of every preset, named in the list of what kde takes: match the key paths)
    assert not any(line.startswith(("estimators.p.marginals", "estimators.p.reliable")) for line in lines)


def test_snakemake_dry_run_stops_on_a_bad_preset_value(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_with_preset({"method": "kde", "noise_variance": -0.1})))
    out = subprocess.run([*snakemake_cmd(), "-n", "--configfile", str(bad)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode != 0
    assert "estimators.p.noise_variance: must be a number > 0, got -0.1" in out.stderr
    assert "Traceback" not in out.stderr
