"""Loading and validating the workflow config; expanding sweeps into runs.

The schema (``workflow/schemas/config.schema.yaml``) gives every key a type, a default and a
description and rejects unknown keys. :func:`validate_config` fills the defaults, then checks
what a schema cannot: that names refer to registered datasets, activations, estimators, figures
and claims, and that files named in the config exist. Every problem raises :class:`ConfigError`
with one message naming the key and what was expected.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import math
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"

# sweep key -> (section, key) of the experiment config it sets
SWEEP_KEYS = {
    "seed": ("training", "seed"),
    "activation": ("model", "activation"),
    "lr": ("training", "lr"),
    "batch_size": ("training", "batch_size"),
    "l2": ("training", "l2"),
    "optimizer": ("training", "optimizer"),
    "epochs": ("training", "epochs"),
    "weight_decay": ("training", "weight_decay"),
    "width_factor": ("model", "width_factor"),
    "ghost_batch": ("model", "ghost_batch"),
    "sqrt_lr": ("training", "sqrt_lr"),
    "adapt_regime": ("training", "adapt_regime"),
    # a name under the experiment's conditions: a set of the keys above applied together
    "condition": ("experiment", "conditions"),
    # a data draw: the name of a dataset under datasets (the run reads that store; see dataset_store)
    "dataset": ("experiment", "dataset"),
}


# keys of infoplane.estimators.estimate itself, valid in every preset
ESTIMATE_KEYS = {"ci", "ci_resamples", "ci_fraction", "ci_level", "seed", "marginals", "protocol", "protocol_max_gamma"}
# Preset keys for the estimate job, not the estimator: x_compressor replaces X by its codes (rules/compressors.smk);
# rows restricts X to the dataset's train or test rows (the activations with it).
JOB_KEYS = {"x_compressor", "rows"}


class ConfigError(ValueError):
    """A config that cannot run; the message names the key or file."""


def load_yaml(path: str | Path) -> dict:
    """Read a YAML config with the safe loader; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of keys, got {type(data).__name__}")
    return data


def _key_path(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _with_defaults(validator_class):
    """A validator that fills ``default`` values of properties as it validates (JSON-schema FAQ)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _schema_errors(config: dict, schema: dict) -> list[str]:
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    messages = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        where = _key_path(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            allowed = sorted(err.schema.get("properties", {}))
            messages.append(f"unknown key {', '.join(repr(e) for e in extra)} under {where}; allowed: {allowed}")
        elif "propertyNames" in err.relative_schema_path:
            messages.append(f"unknown sweep key {err.instance!r} under {where}; allowed: {err.validator_value}")
        else:
            messages.append(f"config key {where}: {err.message}")
    return messages


def validate_config(config: Any, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Return a validated copy of ``config`` with defaults filled; raise ConfigError otherwise."""
    if not isinstance(config, dict):
        raise ConfigError(f"the config must be a mapping of keys, got {type(config).__name__}")
    config = copy.deepcopy(config)
    schema = yaml.safe_load(Path(schema_path).read_text())
    messages = _schema_errors(config, schema)
    if not messages:
        messages = _semantic_errors(config)
    if messages:
        raise ConfigError("invalid config:\n  " + "\n  ".join(messages))
    return config


def _semantic_errors(config: dict) -> list[str]:
    from .claims import CLAIMS
    from .estimators import ESTIMATORS, PLANE_METHODS
    from .figures import FIGURES
    from .models import ACTIVATIONS, MODELS

    errors = []
    for name, ds in config["datasets"].items():
        errors.extend(_dataset_errors(name, ds))
    for name, preset in config["estimators"].items():
        method = preset["method"]
        if method not in ESTIMATORS:
            errors.append(f"estimators.{name}.method: unknown estimator {method!r}; known: {sorted(ESTIMATORS)}")
            continue
        accepted = set(inspect.signature(ESTIMATORS[method].fn).parameters) - {"x", "y"}
        accepted |= ESTIMATE_KEYS | JOB_KEYS
        if method in PLANE_METHODS:
            accepted |= set(inspect.signature(PLANE_METHODS[method]).parameters) - {"activations", "inputs", "labels"}
        if not any(p.kind == p.VAR_KEYWORD for p in inspect.signature(ESTIMATORS[method].fn).parameters.values()):
            for key in sorted(set(preset) - {"method"} - accepted):
                errors.append(
                    f"estimators.{name}.{key}: {method} takes no parameter {key!r}; it takes {sorted(accepted)}"
                )
    errors.extend(_preset_value_errors(config["estimators"], errors))
    for name, exp in config["experiments"].items():
        where = f"experiments.{name}"
        if exp["dataset"] not in config["datasets"]:
            errors.append(
                f"{where}.dataset: {exp['dataset']!r} is not defined under datasets; "
                f"defined: {sorted(config['datasets'])}"
            )
        if exp["model"].get("factory"):
            errors.extend(_factory_errors(where, exp))
        elif exp["model"].get("kwargs") or exp["model"].get("capture") is not None:
            key = "kwargs" if exp["model"].get("kwargs") else "capture"
            errors.append(f"{where}.model.{key}: only a model.factory network takes it; set model.factory")
        elif exp["model"]["name"] not in MODELS:
            errors.append(f"{where}.model.name: unknown model {exp['model']['name']!r}; known: {sorted(MODELS)}")
        if exp["model"]["name"] == "noisy_conv" and not exp["model"].get("factory"):
            errors.extend(_conv_errors(where, exp, config["datasets"]))
        errors.extend(_x_compressor_errors(where, exp, config))
        activations = exp["sweep"].get("activation", [exp["model"]["activation"]])
        if exp["model"].get("factory"):
            activations = []  # a user's network: no activation key (a swept one is an error above)
        for act in activations:
            if act not in ACTIVATIONS:
                errors.append(f"{where}: unknown activation {act!r}; known: {sorted(ACTIVATIONS)}")
        for est in exp["estimators"]:
            if est not in config["estimators"]:
                errors.append(
                    f"{where}.estimators: {est!r} is not a preset under estimators; "
                    f"defined: {sorted(config['estimators'])}"
                )
        for fig in exp["figures"]:
            if fig not in FIGURES:
                errors.append(f"{where}.figures: unknown figure {fig!r}; known: {sorted(FIGURES)}")
        claims = exp["claims"]
        if claims["name"] is not None and claims["name"] not in CLAIMS:
            errors.append(f"{where}.claims.name: unknown claim set {claims['name']!r}; known: {sorted(CLAIMS)}")
        if claims["estimator"] is not None and claims["estimator"] not in exp["estimators"]:
            errors.append(
                f"{where}.claims.estimator: {claims['estimator']!r} is not one of this experiment's estimators"
            )
        for ds_name in exp["sweep"].get("dataset", []):
            if isinstance(ds_name, str) and ds_name not in config["datasets"]:
                errors.append(
                    f"{where}.sweep.dataset: {ds_name!r} is not defined under datasets; "
                    f"defined: {sorted(config['datasets'])}"
                )
        epochs = exp["sweep"].get("epochs", [exp["training"]["epochs"]])
        capture = exp["capture"]
        if capture["schedule"] == "list":
            if not capture["epochs"]:
                errors.append(f"{where}.capture.epochs: schedule 'list' needs a non-empty list of epochs")
            late = [e for e in capture["epochs"] if e > min(epochs)]
            if late:
                errors.append(f"{where}.capture.epochs: {late} are beyond the last epoch ({min(epochs)})")
        for key, values in exp["sweep"].items():
            if len(set(map(str, values))) != len(values):
                errors.append(f"{where}.sweep.{key}: values repeat: {values}")
            bad = [v for v in values if not _sweep_value_ok(key, v)]
            if bad:
                errors.append(f"{where}.sweep.{key}: invalid values {bad}")
        errors.extend(_condition_errors(where, exp))
        if not errors:
            errors.extend(_regime_errors(where, exp))
    return errors


def _condition_errors(where: str, exp: dict) -> list[str]:
    """Conditions hold valid sweep values, and the sweep key condition names defined ones."""
    errors = []
    for cond, values in exp["conditions"].items():
        for key, value in values.items():
            if not _sweep_value_ok(key, value):
                errors.append(f"{where}.conditions.{cond}.{key}: invalid value {value!r}")
    unknown = [c for c in exp["sweep"].get("condition", []) if c not in exp["conditions"]]
    if unknown:
        errors.append(
            f"{where}.sweep.condition: {unknown} are not defined under conditions; defined: {sorted(exp['conditions'])}"
        )
    return errors


def _regime_errors(where: str, exp: dict) -> list[str]:
    """Batch norm, Ghost BN and the large-batch rules, checked on every run's own settings."""
    errors = []
    for run, point in expand_runs(exp).items():
        cfg = run_config(exp, point)
        model, training = cfg["model"], cfg["training"]
        ghost, batch = model.get("ghost_batch"), training["batch_size"]
        at = f" (run {run})"
        problem = None
        if model.get("batch_norm") and (model.get("factory") or model["name"] != "mlp"):
            problem = f"{where}.model.batch_norm: only the mlp takes it (model {model['name']!r})"
        elif ghost is not None and not model.get("batch_norm"):
            problem = f"{where}.model.ghost_batch: Ghost BN needs model.batch_norm: true{at}"
        elif ghost is not None and batch and ghost > batch:
            problem = f"{where}.model.ghost_batch: {ghost} is larger than training.batch_size {batch}{at}"
        elif ghost is not None and batch and batch % ghost:
            problem = f"{where}.model.ghost_batch: {ghost} does not divide training.batch_size {batch}{at}"
        elif (training.get("sqrt_lr") or training.get("adapt_regime")) and not training.get("reference_batch_size"):
            problem = f"{where}.training.reference_batch_size: sqrt_lr and adapt_regime need B0, a batch size{at}"
        if problem and problem not in errors:
            errors.append(problem)
    return errors


# Features per sample of the generated datasets, known before any is made (file datasets: unknown).
GENERATOR_FEATURES = {"digits": 64, "mnist": 784, "cifar10": 3072, "mnist1d": 40, "tishby12": 12, "blobs": 2}


def _conv_errors(where: str, exp: dict, datasets: dict) -> list[str]:
    """A noisy_conv model needs square images that survive its poolings: say so before any job runs."""
    from .models.conv import conv_output_side

    errors = []
    for name in {exp["dataset"], *[d for d in exp["sweep"].get("dataset", []) if isinstance(d, str)]}:
        features = GENERATOR_FEATURES.get(datasets.get(name, {}).get("generator"))
        if features is None:
            continue
        side = math.isqrt(features)
        if side * side != features:
            errors.append(f"{where}.model.name: noisy_conv needs square images; {name!r} has {features} features")
            continue
        try:
            conv_output_side(side, len(exp["model"]["channels"]), key=f"{where}.model.channels")
        except ValueError as err:
            errors.append(f"{err} (dataset {name!r})")
    return errors


def _x_compressor_errors(where: str, exp: dict, config: dict) -> list[str]:
    """An estimator preset's x_compressor cannot have more latent dimensions than the dataset has features."""
    errors = []
    for est in exp["estimators"]:
        spec = config["estimators"].get(est, {}).get("x_compressor")
        if not isinstance(spec, dict) or not isinstance(spec.get("latent_dim"), int):
            continue
        for name in {exp["dataset"], *[d for d in exp["sweep"].get("dataset", []) if isinstance(d, str)]}:
            features = GENERATOR_FEATURES.get(config["datasets"].get(name, {}).get("generator"))
            if features is not None and spec["latent_dim"] > features:
                errors.append(f"estimators.{est}.x_compressor.latent_dim: {spec['latent_dim']} is larger than the "
                              f"{features} features of dataset {name!r} ({where})")  # fmt: skip
    return errors


def _preset_value_errors(presets: dict, earlier: list[str]) -> list[str]:
    """Values of estimator presets, by the rules of infoplane.estimators.parameters.

    A key without a rule passes (its name is checked above); a key already reported is not again.
    """
    from .estimators import ESTIMATORS
    from .estimators.parameters import parameter_errors

    errors = []
    for name, preset in presets.items():
        if preset["method"] not in ESTIMATORS:
            continue
        for key, problem in parameter_errors(preset["method"], {k: v for k, v in preset.items() if k != "method"}):
            where = f"estimators.{name}.{key}"
            if not any(e.startswith(where + ":") for e in earlier):
                errors.append(f"{where}: {problem}")
    return errors


def _dataset_errors(name: str, ds: dict) -> list[str]:
    """A dataset's generator is registered, takes the keys set (not null), and its files exist."""
    from .data import DATASETS, cifar10, dataset_parameters, mnist

    check_folder = {"mnist": mnist.check_folder, "cifar10": cifar10.check_folder}  # a local path, required
    generator = ds["generator"]
    if generator not in DATASETS:
        return [f"datasets.{name}.generator: unknown dataset {generator!r}; known: {sorted(DATASETS)}"]
    errors = []
    accepted = dataset_parameters(generator)
    for key in sorted(set(ds) - {"generator"} - set(accepted)):
        if ds[key] is not None:
            errors.append(f"datasets.{name}.{key}: {generator} takes no parameter {key!r}; it takes {accepted}")
    if generator in check_folder:
        problem = check_folder[generator](ds.get("path"))
        if problem:
            errors.append(f"datasets.{name}.path: {problem}")
    elif generator == "mnist1d":
        from .data.mnist1d import check_installed

        problem = check_installed()
        if problem:
            errors.append(f"datasets.{name}.generator: {problem}")
    elif generator == "file":
        from .data.files import check_path

        problem = check_path(ds.get("path"))
        if problem:
            errors.append(f"datasets.{name}.path: {problem}")
    else:
        for key in ("path", "split_path"):
            if key in accepted and ds.get(key) and not Path(ds[key]).is_file():
                errors.append(f"datasets.{name}.{key}: file {ds[key]!r} does not exist")
    return errors


def _factory_errors(where: str, exp: dict) -> list[str]:
    """``model.factory`` names an importable callable (imported now: the user's own config names it)."""
    from .models.factory import FactoryError, resolve_factory

    try:
        resolve_factory(exp["model"]["factory"], key=f"{where}.model.factory")
    except FactoryError as err:
        return [str(err)]
    if "activation" in exp["sweep"]:
        return [f"{where}.sweep.activation: a model.factory network has no activation to sweep"]
    return []


def _sweep_value_ok(key: str, value) -> bool:
    if key in ("seed", "batch_size"):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if key == "epochs":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if key == "width_factor":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if key == "ghost_batch":
        return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 2)
    if key in ("sqrt_lr", "adapt_regime"):
        return isinstance(value, bool)
    if key == "weight_decay":
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if key in ("lr", "l2"):
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and value >= (0 if key == "l2" else 1e-300)
        )
    return isinstance(value, str)


def format_value(value) -> str:
    """How a sweep value appears in a run name."""
    return repr(value) if isinstance(value, float) else str(value)


def expand_runs(experiment: dict) -> dict[str, dict]:
    """{run name: sweep values} for the Cartesian product of ``sweep``, e.g. ``activation~tanh/seed~0``."""
    sweep = experiment["sweep"]
    keys = list(sweep)
    runs = {}
    for values in itertools.product(*(sweep[k] for k in keys)):
        point = dict(zip(keys, values, strict=True))
        runs["/".join(f"{k}~{format_value(v)}" for k, v in point.items())] = point
    return runs


def run_config(experiment: dict, point: dict) -> dict:
    """The experiment config with one sweep point applied (model, training, capture sections)."""
    cfg = copy.deepcopy({k: experiment[k] for k in ("model", "training", "capture")})
    for key, value in point.items():
        if key == "condition":  # a named set of sweep values (the experiment's conditions)
            for ckey, cvalue in experiment["conditions"][value].items():
                section, field = SWEEP_KEYS[ckey]
                cfg[section][field] = cvalue
            continue
        section, field = SWEEP_KEYS[key]
        if section == "experiment":  # chooses an input (the dataset), not a setting of model or training
            continue
        cfg[section][field] = value
    return cfg
