"""Every registered detector's class docstring carries a runnable example (river style), and it runs.

The docstring is read from the module's source: the compiled build's classes carry none at run time."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
from pathlib import Path

import pytest

from detectors.registry import REGISTRY, DetectorSpec


def _class_docstring(spec: DetectorSpec) -> str:
    package, _, name = spec.cls.__module__.rpartition(".")
    source = Path(importlib.import_module(package).__path__[0], f"{name}.py")
    tree = ast.parse(source.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == spec.cls.__name__)
    return inspect.cleandoc(ast.get_docstring(node) or "")


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.name)
def test_docstring_example_runs(spec: DetectorSpec) -> None:
    docstring = _class_docstring(spec)
    assert ">>>" in docstring, f"{spec.name}: no runnable example in the class docstring"
    module = importlib.import_module(spec.cls.__module__)
    test = doctest.DocTestParser().get_doctest(docstring, dict(vars(module)), spec.cls.__name__, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test)
    assert result.attempted > 0
    assert result.failed == 0, f"{spec.name}: {result.failed} docstring example(s) failed"
