"""Names of parameter tensors in a weights store (weights.zarr), and back: one reversible mapping.

The registered models keep the names they always had: ``layers.{i}.{p}`` -> ``layer{i}_{p}``
(``layers.0.weight`` -> ``layer0_weight``). Any other parameter name (a user's module wrapped by
:mod:`infoplane.models.factory`, e.g. ``net.encoder.0.weight``) is stored verbatim: Zarr and
xarray take dots in names. A verbatim name never has the legacy form ``layer{i}_{p}`` (that would
need a dotless top-level parameter of that exact name, which is refused), so the mapping is
one-to-one and :func:`parameter_name` inverts it.
"""

from __future__ import annotations

import re

_LEGACY_NAME = re.compile(r"^layers\.(\d+)\.([A-Za-z0-9]+)$")
_LEGACY_VARIABLE = re.compile(r"^layer(\d+)_([A-Za-z0-9]+)$")


def store_variable(name: str) -> str:
    """The weights-store variable of torch parameter ``name`` (from ``named_parameters()``)."""
    m = _LEGACY_NAME.match(name)
    if m:
        return f"layer{m.group(1)}_{m.group(2)}"
    if _LEGACY_VARIABLE.match(name) or not name or name.startswith("__") or "/" in name:
        raise ValueError(f"parameter name {name!r} cannot be stored unambiguously in a weights store; rename it")
    return name


def parameter_name(variable: str) -> str:
    """The torch parameter name of weights-store ``variable``: the inverse of :func:`store_variable`."""
    m = _LEGACY_VARIABLE.match(variable)
    if m:
        return f"layers.{m.group(1)}.{m.group(2)}"
    return variable


def parameter_variables(weights) -> list[str]:
    """The variables of a weights store (an xarray Dataset) that hold parameters, not buffers.

    Buffers (batch norm's running statistics) are stored with ``attrs["kind"] == "buffer"``.
    """
    return [name for name in weights.data_vars if weights[name].attrs.get("kind") != "buffer"]
