"""Every registered detector's class docstring carries a runnable example (river style), and it runs."""

from __future__ import annotations

import doctest
import importlib

import pytest

from detectors.registry import REGISTRY, DetectorSpec

EXAMPLED = [s for s in REGISTRY if s.name in {"amount_spike", "sustained_shift"}]


@pytest.mark.parametrize("spec", EXAMPLED, ids=lambda s: s.name)
def test_docstring_example_runs(spec: DetectorSpec) -> None:
    assert ">>>" in (spec.cls.__doc__ or ""), f"{spec.name}: no runnable example in the class docstring"
    module = importlib.import_module(spec.cls.__module__)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0, f"{spec.name}: {result.failed} docstring example(s) failed"
