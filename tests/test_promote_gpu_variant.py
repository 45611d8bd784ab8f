"""benchmarks/promote_gpu_variant.py: which GPU variant it promotes, and the source it writes for it.

A lent device runs `benchmarks/gpu_checks.sh` once; the promotion step times the default call with the fastest
float32 variant written into the source as the module's defaults. These tests hold, without a GPU, that every
variant the script times can be written so (a renamed setting would otherwise fail only on the device) and that
the choice follows the rates and refuses a variant with other statistics.
"""

import ast
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _promote():
    spec = importlib.util.spec_from_file_location("promote_gpu_variant", ROOT / "benchmarks" / "promote_gpu_variant.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _module_values(source):
    """{NAME: value} of the module-level literal assignments (tuple assignments unpacked)."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(target, ast.Name):
                out[target.id] = value
            elif isinstance(target, ast.Tuple):
                out.update({t.id: v for t, v in zip(target.elts, value)})
    return out


def _variant_groups():
    """The settings groups gpu_checks.sh times (its VARIANTS lines)."""
    text = (ROOT / "benchmarks" / "gpu_checks.sh").read_text()
    joined = "".join(re.findall(r'^VARIANTS="(?:\$VARIANTS\|)?([^"]*)"', text, flags=re.M))
    return [g for g in joined.split("|") if g]


def test_every_timed_variant_can_be_written_as_the_default():
    promote = _promote()
    groups = _variant_groups()
    assert len(groups) >= 5 and "tile.TILE=64,tile.REGISTER_LIMIT=128" in groups
    for group in groups:
        for (module, name), value in promote.parse_group(group).items():
            path = ROOT / promote.MODULE_FILES[module]
            before = path.read_text(encoding="utf-8")
            after = promote.with_default(before, name, value)
            old, new = _module_values(before), _module_values(after)
            assert new[name] == value and old[name] != value, (group, name)
            assert {k: v for k, v in new.items() if k != name} == {k: v for k, v in old.items() if k != name}
            changed = [a for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
            assert len(changed) == 1 and len(before.splitlines()) == len(after.splitlines())


def test_a_setting_without_one_module_level_assignment_is_refused():
    promote = _promote()
    with pytest.raises(ValueError, match="NOT_A_SETTING: 0 module-level"):
        promote.with_default("A = 1\n", "NOT_A_SETTING", 2)
    with pytest.raises(ValueError, match="X: 2 module-level"):
        promote.with_default("X = 1\nX = 2\n", "X", 3)
    assert promote.with_default("A, X = 1, None  # note\n", "X", 128) == "A, X = 1, 128  # note\n"
    with pytest.raises(ValueError, match="not a setting"):
        promote.parse_group("jaxthermo.TILE=64")


def test_the_fastest_variant_with_the_defaults_statistics_is_chosen():
    promote = _promote()
    row = lambda rate, work: {"collisions_per_s": rate, "mean_total_work": work}
    results = {
        "qubit float32, default": row(2.0e10, 0.0125),
        "qubit float64, default": row(1.2e10, 0.0125),
        "qubit float32, special tile.TILE=64": row(2.4e10, 0.01250001),
        "qubit float32, special tile.PIPELINE=1": row(3.5e10, 0.0200),  # other statistics: never promoted
        "qubit float64, special tile.TILE=64": row(9.0e10, 0.0125),  # float64 rows do not choose
        "qubit float32, special tile.SUMS_FIRST=float64": {"error": "RuntimeError()"},
        "qubit float32, special alphas=()": row(9.9e10, 0.0125),  # not a settings group
    }
    assert promote.best_variant(results, 1.03) == ("tile.TILE=64", pytest.approx(1.2))
    assert promote.best_variant(results, 1.25) == (None, pytest.approx(1.2))
    assert promote.best_variant({}, 1.03)[0] is None
