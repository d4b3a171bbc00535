"""Training tests: the tiny model/dataset of ``_tiny.py`` (registered on import)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load_tiny():
    # Under the name the torchrun worker script imports it by, so that importing the
    # worker in-process does not register the model type a second time.
    if "_tiny" not in sys.modules:
        spec = importlib.util.spec_from_file_location("_tiny", HERE / "_tiny.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["_tiny"]


@pytest.fixture(scope="session")
def tiny():
    """The ``_tiny`` module: TinyAE, TinyAEConfig, TinyClips, TINY_DATA, TINY_TRAIN."""
    return _load_tiny()


@pytest.fixture()
def models_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VID1D_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"
