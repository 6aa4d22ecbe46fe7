"""The demo's corpora: JSON files under ``demo/data/``, read once per process."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """``demo/data/<name>.json`` as a dict (each file says what it holds under ``about``)."""
    with open(DATA_DIR / f"{name}.json", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def strings(values: list[str]) -> tuple[str, ...]:
    return tuple(values)


def pairs(values: list[list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((first, second) for first, second in values)
