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


@pytest.fixture()
def tiny_gvc1d(tmp_path, monkeypatch):
    """``tiny_gvc1d("name")`` installs a random tiny GVC1D (seed 0) as model id ``name``
    in a temporary $VID1D_MODELS and returns the id."""
    import torch

    from vid1d.models.checkpoint import save_checkpoint
    from vid1d.models.gvc1d import GVC1D, PRESETS
    from vid1d.utils.config import config_to_dict

    monkeypatch.setenv("VID1D_MODELS", str(tmp_path / "models"))

    def install(name: str) -> str:
        torch.manual_seed(0)
        model = GVC1D(PRESETS["tiny"])
        save_checkpoint(tmp_path / "models" / name, model.state_dict(), model_type="gvc1d",
                        config=config_to_dict(PRESETS["tiny"]), extra={"id": name})
        return name

    return install
