"""The scripts under benchmarks/ are not a package: tests load one by name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def load_benchmark():
    """``load_benchmark("onedva_diagnose")`` -> the module benchmarks/onedva_diagnose.py."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, _BENCHMARKS / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    return load
