"""The scripts of scripts/: their closed-form references, their --quick runs and their default outputs."""

import importlib.util
import pathlib
import re
from decimal import Decimal, localcontext

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def _load(area, name):
    spec = importlib.util.spec_from_file_location(f"h59_{area}_{name}", SCRIPTS / area / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alpha_inf_maximiser():
    """argmax_δ of ΔF_∞ − W for max_violation.py's collision (θ = 0.8, β = g0 = 1, ρ = τ_S at β' = 2), in
    50-digit decimal arithmetic: ΔF_∞ = ln(p'_0/p_0) (p'_0/τ_0 is the largest ratio for δ > δ* = 1),
    W = δ s (p_1 − q), p'_0 = p_0 + s (p_1 − q), q = 1/(1 + e^{1+δ}), s = sin²θ; the root of
    d/dδ = s [q(1 − q)/p'_0 − (p_1 − q) − δ q(1 − q)] by bisection on (1, 1.13)."""
    with localcontext() as ctx:
        ctx.prec = 50
        x, sin, n = Decimal("0.8"), Decimal(0), 1
        term = x
        while abs(term) > Decimal(10) ** -55:  # Taylor series of sin 0.8
            sin += term
            term = -term * x * x / ((n + 1) * (n + 2))
            n += 2
        s = sin * sin
        p1 = 1 / (1 + Decimal(2).exp())

        def slope(d):
            q = 1 / (1 + (1 + d).exp())
            return q * (1 - q) / (1 - p1 + s * (p1 - q)) - (p1 - q) - d * q * (1 - q)

        lo, hi = Decimal("1.0000001"), Decimal("1.13")
        assert slope(lo) > 0 > slope(hi)
        for _ in range(120):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
        return (lo + hi) / 2


def test_max_violation_closed_form_maximiser_at_alpha_infinity_to_1e_12():
    """The closed-form reference of max_violation.py maximised the value with a bounded scalar search, which
    stops ~1e-8 short on a flat maximum: 1.06466049 for the α = ∞ maximiser 1.06466051 (decimal root of the
    slope), so README quoted 1.064660; now brentq on the analytic slope, within 1e-12 for α = ∞, 2, 3."""
    pytest.importorskip("optax")
    pytest.importorskip("scipy")
    module = _load("inhomogeneous", "max_violation")
    exact = _alpha_inf_maximiser()
    arg, best, star, upper = module.closed_form_reference(float("inf"))
    assert abs(arg - float(exact)) < 1e-12
    assert star < arg < upper and best > 0
    for alpha in (2.0, 3.0):  # the slope's root is the maximum of the value (central differences)
        arg, best, *_ = module.closed_form_reference(alpha)
        for h in (1e-4, 1e-3):
            assert module.closed_form_violation(arg + h, alpha) < best > module.closed_form_violation(arg - h, alpha)
        slope = (
            module.closed_form_violation(arg + 1e-5, alpha) - module.closed_form_violation(arg - 1e-5, alpha)
        ) / 2e-5
        assert abs(slope) < 1e-9
    readme = (ROOT / "README.md").read_text()
    quoted = re.search(r"α = ∞: δ = [0-9.]+ \(([0-9.]+)\)", readme)[1]
    assert Decimal(quoted) == exact.quantize(Decimal(quoted)), quoted


# ---------------------------------------------------------------- command lines, --quick, default outputs

_DRIVER = """
import runpy, sys
for argv in sys.argv[1:]:
    script, *args = argv.split("|")
    sys.argv = [script, *args]
    sys.path.insert(0, str(__import__("pathlib").Path(script).parent))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        assert not stop.code, (script, stop.code)
"""

QUICK = {  # the scripts whose --quick run no other test makes, and what each writes
    "assignment/md_peaks": ("md_peaks.png", "md_peaks.csv", "md_peaks_traces.csv"),
    "assignment/regime_sweep": ("regime_sweep.png", "regime_sweep.csv"),
    "assignment/regime_traces": ("regime_traces.png", "regime_traces.csv"),
    "assignment/weak_coupling_limit": ("weak_coupling_limit.png", "weak_coupling_limit.csv"),
    "coherent/convergence": ("convergence.png", "convergence_map.csv", "convergence_identities.csv"),
}


def _tracked_outputs():
    return {p: p.stat().st_mtime_ns for p in SCRIPTS.glob("*/output/*")}


def test_quick_runs_from_the_command_line_write_where_asked_and_nowhere_else(tmp_path):
    """md_peaks.py, regime_sweep.py, weak_coupling_limit.py (and regime_traces.py) had no --quick (12–15 s
    full runs, 5–16 s now) and always wrote into the tracked scripts/assignment/output; convergence.py had no
    --quick. One subprocess (imports shared) from a folder outside the repository: each script with --quick into
    its own OUT_DIR, regime_traces.py without (then figures/assignment under the working folder)."""
    pytest.importorskip("matplotlib")
    import subprocess
    import sys

    before = _tracked_outputs()
    work = tmp_path / "cwd"
    work.mkdir()
    default = "assignment/regime_traces"  # run without OUT_DIR: figures/assignment under the working folder
    runs = [f"{SCRIPTS / name}.py|" + ("" if name == default else f"{tmp_path / name}|") + "--quick" for name in QUICK]
    done = subprocess.run([sys.executable, "-c", _DRIVER, *runs], cwd=work, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name, files in QUICK.items():
        for file in files:
            path = (work / "figures" / "assignment" if name == default else tmp_path / name) / file
            assert path.stat().st_size > (10_000 if file.endswith(".png") else 100), path
    assert sorted(p.name for p in (work / "figures" / "assignment").iterdir()) == sorted(QUICK[default])
    assert _tracked_outputs() == before  # the published figures were not touched
    assert "np.float64" not in done.stdout
    rows = (tmp_path / "assignment/regime_sweep" / "regime_sweep.csv").read_text().splitlines()
    assert len(rows) == 1 + 9 * 9  # the --quick grid


def _main_of(script, argv, monkeypatch, capsys):
    """Run ``script`` as ``__main__`` with ``argv`` in this process; (exit code, stdout, stderr)."""
    import runpy
    import sys

    monkeypatch.setattr(sys, "argv", [script.name, *argv])
    monkeypatch.syspath_prepend(str(script.parent))
    code = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


STUDIES = sorted(p for p in SCRIPTS.glob("*/*.py") if not p.name.startswith("_") and p.parent.name != "ensemble")


@pytest.mark.parametrize("script", STUDIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_script_defaults_to_an_ignored_folder_and_has_quick(script, monkeypatch, capsys):
    """--help of every study names --quick and a default OUT_DIR under figures/ (ignored by git): the model-C
    scripts and the optax studies wrote their default runs into the tracked scripts/<area>/output."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("optax")
    code, out, _ = _main_of(script, ["--help"], monkeypatch, capsys)
    assert code == 0 and "--quick" in out, out
    default = re.search(r"\(default: ([^)]+)\)", out)[1]
    assert default.split("/")[0] == "figures", default
    assert "figures/" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.parametrize("name", ["assignment/md_peaks", "inhomogeneous/max_violation"])
def test_quick_into_the_published_folder_stops_before_computing(name, monkeypatch, capsys):
    """`--quick scripts/<area>/output` would have replaced a published figure by a short run."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("optax")
    script = SCRIPTS / f"{name}.py"
    before = _tracked_outputs()
    code, out, err = _main_of(script, [str(script.parent / "output"), "--quick"], monkeypatch, capsys)
    assert code == 2 and "--quick would overwrite the published outputs" in err, err
    assert _tracked_outputs() == before and out == ""


def test_distributed_example_removes_its_temporary_folder(tmp_path, monkeypatch):
    """distributed_two_processes.py left a jaxthermo-dist-* folder with two .npz files in /tmp on every run."""
    import runpy
    import subprocess
    import tempfile

    class FailedWorker:  # the launcher's cleanup path without starting JAX processes
        def __init__(self, *args, **kwargs):
            pass

        def wait(self, timeout=None):
            return 1

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(subprocess, "Popen", FailedWorker)
    script = runpy.run_path(str(SCRIPTS / "ensemble" / "distributed_two_processes.py"), run_name="h59_distributed")
    assert script["launcher"]() == 1
    assert list(tmp_path.iterdir()) == []
