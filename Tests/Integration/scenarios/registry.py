"""The scenario registry: every scenario module adds its functions here, by name."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

SCENARIOS: dict[str, Callable[[Path], object]] = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn
