"""Canonical trigger payloads, as AWS delivers them, stored in `events/samples/*.json`.

Tests feed them to handlers and `fleet invoke` replays them; the folder is data, not a
package, so this module (not `events/samples.py`, which would shadow the folder) reads it.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any


def _folder() -> Traversable:
    return resources.files("events").joinpath("samples")


def sample_names() -> list[str]:
    """The name of every stored sample (its file name without `.json`), sorted."""
    return sorted(p.name.removesuffix(".json") for p in _folder().iterdir() if p.name.endswith(".json"))


def load_sample(name: str) -> Any:
    """A fresh copy of the sample `name` (e.g. `"sqs_batch"`); KeyError if there is none."""
    if name not in sample_names():
        raise KeyError(f"no sample named {name!r}; known: {', '.join(sample_names())}")
    return json.loads(_folder().joinpath(f"{name}.json").read_text(encoding="utf-8"))
