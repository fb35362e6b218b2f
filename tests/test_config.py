"""Config validation: defaults are filled, and every kind of bad config is named before any job runs."""

import copy
from pathlib import Path

import pytest
import yaml
from infoplane.config import ConfigError, expand_runs, load_yaml, run_config, validate_config

REPO = Path(__file__).resolve().parents[1]
TINY = yaml.safe_load((REPO / ".test/config.yaml").read_text())


def test_default_and_paper_configs_are_valid():
    for path in [
        REPO / "config/config.yaml",
        *sorted((REPO / "config/paper").glob("*.yaml")),
        REPO / ".test/config.yaml",
    ]:
        validate_config(load_yaml(path))


def test_defaults_are_filled():
    cfg = validate_config(
        {
            "datasets": {"d": {"generator": "tishby12"}},
            "estimators": {"b": {"method": "binning"}},
            "experiments": {"e": {"dataset": "d", "estimators": ["b"]}},
        }
    )
    exp = cfg["experiments"]["e"]
    assert exp["training"]["lr"] == 0.0004 and exp["training"]["batch_size"] == 512
    assert exp["training"]["epochs"] == 8000 and exp["capture"]["n_points"] == 400
    assert exp["model"]["hidden"] == [10, 7, 5, 4, 3]
    assert cfg["device"] == "auto"


def test_sweep_expands_to_named_runs():
    cfg = validate_config(TINY)
    runs = expand_runs(cfg["experiments"]["tishby2017"])
    assert list(runs) == ["activation~tanh/seed~0", "activation~relu/seed~0"]
    rc = run_config(cfg["experiments"]["tishby2017"], runs["activation~relu/seed~0"])
    assert rc["model"]["activation"] == "relu" and rc["training"]["seed"] == 0


def _bad(mutate):
    cfg = copy.deepcopy(TINY)
    mutate(cfg)
    return cfg


def _set(path, value):
    def mutate(cfg):
        node = cfg
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


EXP = ["experiments", "tishby2017"]
BAD_CONFIGS = {
    "unknown top-level key": (_set(["devices"], "cpu"), "unknown key 'devices'"),
    "unknown nested key": (
        _set([*EXP, "training", "epoch"], 5),
        r"unknown key 'epoch' under experiments\.tishby2017\.training",
    ),
    "wrong type": (_set([*EXP, "training", "lr"], "fast"), r"training\.lr: 'fast' is not of type 'number'"),
    "zero epochs": (
        _set([*EXP, "training", "epochs"], 0),
        r"training\.epochs: 0 is less than the minimum of 1",
    ),
    "negative lr": (_set([*EXP, "training", "lr"], -0.1), r"training\.lr"),
    "empty sweep list": (_set([*EXP, "sweep", "seed"], []), r"sweep\.seed: \[\] should be non-empty"),
    "unknown sweep key": (_set([*EXP, "sweep", "colour"], ["red"]), "unknown sweep key 'colour'"),
    "unknown dataset generator": (
        _set(["datasets", "tishby12", "generator"], "mnist9"),
        "unknown dataset 'mnist9'",
    ),
    "undefined dataset": (
        _set([*EXP, "dataset"], "nope"),
        r"experiments\.tishby2017\.dataset: 'nope' is not defined",
    ),
    "unknown activation": (
        _set([*EXP, "sweep", "activation"], ["tanh", "gelu2"]),
        "unknown activation 'gelu2'",
    ),
    "unknown estimator preset": (_set([*EXP, "estimators"], ["ksg_99"]), "'ksg_99' is not a preset"),
    "unknown estimator method": (
        _set(["estimators", "binning_30", "method"], "magic"),
        "unknown estimator 'magic'",
    ),
    "bins below 2": (
        _set(["estimators", "binning_30", "bins"], 1),
        r"estimators\.binning_30\.bins: 1 is less than the minimum of 2",
    ),
    "unknown estimator parameter": (
        _set(["estimators", "binning_30", "bandwidth"], 2),
        "binning takes no parameter 'bandwidth'",
    ),
    "unknown figure": (_set([*EXP, "figures"], ["infoplane", "heatmap"]), "unknown figure 'heatmap'"),
    "unknown claims": (_set([*EXP, "claims", "name"], "nobody2020"), "unknown claim set 'nobody2020'"),
    "capture beyond last epoch": (
        lambda c: c["experiments"]["tishby2017"].update(capture={"schedule": "list", "epochs": [0, 10, 41]}),
        r"capture\.epochs: \[41\] are beyond the last epoch \(40\)",
    ),
    "missing data file": (
        _set(["datasets", "tishby12", "path"], "/nonexistent/var_u.mat"),
        "file '/nonexistent/var_u.mat' does not exist",
    ),
    "no experiments": (_set(["experiments"], {}), r"experiments: \{\} should be non-empty"),
    "bad device": (_set(["device"], "tpu"), r"device: 'tpu' is not one of"),
    "negative seed": (_set([*EXP, "sweep", "seed"], [-1]), r"sweep\.seed: invalid values \[-1\]"),
    "empty hidden layers": (_set([*EXP, "model", "hidden"], []), r"model\.hidden: \[\] should be non-empty"),
}


@pytest.mark.parametrize("kind", sorted(BAD_CONFIGS))
def test_bad_config_is_rejected_naming_the_key(kind):
    mutate, message = BAD_CONFIGS[kind]
    with pytest.raises(ConfigError, match=message):
        validate_config(_bad(mutate))


def test_config_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_yaml(path)
    with pytest.raises(ConfigError, match="must be a mapping"):
        validate_config(["a"])


def test_yaml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("experiments: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml.*not valid YAML"):
        load_yaml(path)
