"""``python -m jaxthermo.verify``: the runner, the registered check modules, readable sources, the
foundation checks, and the deprecated names of the old ``jaxthermo.verify`` module."""

import re
import subprocess
import sys
import warnings

import pytest

from jaxthermo.apps import verify
from jaxthermo.apps.verify import Check, CheckOutcome, collect, run_check
from jaxthermo.apps.verify.foundation import CHECKS as FOUNDATION

CITATION = re.compile(r"\[(ATO-preprint|ATO19|WCCM|CVS25|CB22|HCLA14)\]|docs/[a-z]+\.md")


def test_one_module_per_layer_and_model():
    assert verify.CHECK_MODULES == tuple(
        f"jaxthermo.apps.verify.{m}" for m in ("foundation", "inhomogeneous", "coherent", "assignment")
    )
    checks = collect()
    assert len(checks) == len({c.name for c in checks}) >= 27
    assert all(isinstance(c, Check) for c in checks)


def test_every_source_cites_a_paper_key_or_a_docs_page():
    for check in collect():
        assert CITATION.search(check.source), check


@pytest.mark.parametrize("check", FOUNDATION, ids=lambda c: c.name[:40])
def test_foundation_check_passes(check):
    outcome = run_check(check)
    assert isinstance(outcome, CheckOutcome) and outcome.ok, outcome.detail


def test_a_raising_check_fails_with_the_exception():
    def boom():
        raise RuntimeError("no")

    outcome = run_check(Check("boom", "docs/conventions.md", boom))
    assert outcome == CheckOutcome(False, "raised RuntimeError: no")


def test_filter_and_exit_status(capsys, monkeypatch):
    assert verify.main(["-k", "no check has this name"]) == 2  # nothing run is not a pass (as pytest's 5)
    assert "matches no check" in capsys.readouterr().err
    failing = [Check("always fails", "docs/conventions.md", lambda: CheckOutcome(False, "as intended"))]
    monkeypatch.setattr(verify, "collect", lambda: failing)
    assert verify.main([]) == 1
    assert "FAIL  always fails  [docs/conventions.md]  as intended" in capsys.readouterr().out


def test_python_m_jaxthermo_verify():
    out = subprocess.run(
        [sys.executable, "-m", "jaxthermo.verify", "-k", "thermal ground population"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("PASS  thermal ground population") and "1 passed, 0 failed" in out.stdout


def test_old_module_names_still_work_with_a_deprecation_warning():
    import jaxthermo.verify as old

    assert old.main is verify.main  # the command's entry point, not deprecated
    for name in ("Check", "collect", "CHECK_MODULES"):
        with pytest.warns(
            DeprecationWarning, match=f"jaxthermo.verify.{name} is deprecated; use jaxthermo.apps.verify.{name}"
        ):
            value = getattr(old, name)
        assert value is getattr(verify, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError):
            _ = old.no_such_name


def test_a_filter_matching_nothing_is_an_error_and_help_is_for_users(capsys):
    """`-k misprnt` (a typo) printed '0 passed, 0 failed' and exited 0, so a CI step with it passed."""
    assert verify.main(["-k", "no such check"]) == 2
    err = capsys.readouterr().err
    assert "'no such check' matches no check" in err and collect()[0].name in err
    with pytest.raises(SystemExit):
        verify.main(["--help"])
    text = capsys.readouterr().out
    assert ":mod:" not in text and ":class:" not in text and "``" not in text and "Exit status" in text


def test_entropy_production_check_fails_when_the_library_is_wrong(monkeypatch):
    """``ΔS ≥ 0`` alone passed a factor 2 and a sign error clamped to 0 (the library clamps its rounding below 0);
    the check now compares with the full density matrix (its own NumPy route) and passes on the library."""
    import jax.numpy as jnp

    from jaxthermo.apps.verify import inhomogeneous as inh

    (check,) = [c for c in inh.CHECKS if "entropy production" in c.name]
    assert run_check(check).ok, run_check(check).detail
    real = inh.entropy_production
    for wrong in (lambda m, r, x: 2 * real(m, r, x), lambda m, r, x: jnp.maximum(-real(m, r, x), 0.0)):
        monkeypatch.setattr(inh, "entropy_production", wrong)
        assert not run_check(check).ok


def test_epsilon_and_tau_bar_checks_fail_when_the_library_is_wrong(monkeypatch):
    """ε ≤ bound holds by construction and β_eff < βg0 for any mixing: twice ε, or τ̄ of twice the width,
    passed both checks; they now compare with SciPy quad of q0(δ) over the Gaussian."""
    from jaxthermo.apps.verify import inhomogeneous as inh

    (eps_check,) = [c for c in inh.CHECKS if "ε of the approximate" in c.name]
    (tau_check,) = [c for c in inh.CHECKS if "τ̄ thermal" in c.name]
    assert run_check(eps_check).ok and run_check(tau_check).ok
    real_eps, real_q = inh.approximate_second_law_epsilon, inh.averaged_reservoir_populations
    monkeypatch.setattr(
        inh, "approximate_second_law_epsilon", lambda m: real_eps(m)._replace(epsilon=2 * real_eps(m).epsilon)
    )
    assert not run_check(eps_check).ok
    monkeypatch.setattr(
        inh, "averaged_reservoir_populations", lambda m: real_q(m.replace(distribution=inh.Gaussian(0.4)))
    )
    assert not run_check(tau_check).ok


def test_first_law_check_fails_on_wrong_energetics_that_keep_w_plus_q_equal_to_du(monkeypatch):
    """W + Q = ΔU holds for any unitary and any split of ΔU: a collision at twice θ, or a heat of the wrong
    sign with W = ΔU − Q, passed; the check now also compares each term with docs/inhomogeneous.md §2."""
    from jaxthermo._collision import Energetics
    from jaxthermo.apps.verify import foundation

    (check,) = [c for c in FOUNDATION if c.name.startswith("first law")]
    assert run_check(check).ok
    real = foundation.collide_generic

    def flipped_heat(model, rho, delta):
        out = real(model, rho, delta)
        e = out.energetics
        return out._replace(energetics=Energetics(e.energy_change + e.heat, -e.heat, e.energy_change))

    for wrong in (lambda model, rho, delta: real(model, rho, delta, 2 * model.theta), flipped_heat):
        monkeypatch.setattr(foundation, "collide_generic", wrong)
        assert not run_check(check).ok


def test_delta_f1_check_fails_when_the_work_is_too_large(monkeypatch):
    """ΔF_1 ≤ W alone passed W + 0.01; the check now compares β(W − ΔF_1) with ΔS of the full density matrix."""
    from jaxthermo.apps.verify import inhomogeneous as inh

    (check,) = [c for c in inh.CHECKS if "ΔF_1 ≤ W" in c.name]
    assert run_check(check).ok
    real = inh.collision_second_laws

    def more_work(model, rho, delta, alphas):
        laws = real(model, rho, delta, alphas)
        return laws._replace(work=laws.work + 0.01)

    monkeypatch.setattr(inh, "collision_second_laws", more_work)
    assert not run_check(check).ok


def test_violation_check_fails_on_the_wrong_mean_state(monkeypatch):
    """βΔF_α > 0 from τ_S holds for any state other than τ_S: the averaged dynamics of a wrong width passed;
    the check now compares with D_α(ρ̄_30‖τ_S) of NumPy and SciPy quad."""
    from jaxthermo.apps.verify import inhomogeneous as inh

    (check,) = [c for c in inh.CHECKS if "every second law" in c.name]
    assert run_check(check).ok
    real = inh.averaged_trajectory
    monkeypatch.setattr(
        inh, "averaged_trajectory", lambda m, r, n: real(m.replace(distribution=inh.Gaussian(0.3)), r, n)
    )
    assert not run_check(check).ok


def test_assignment_bookkeeping_check_fails_on_wrong_energetics(monkeypatch):
    """Σ_X Q̃_X = 0 and the assignments' first laws hold by construction for any propagation that conserves
    energy: twice the time, or the bare and interaction assignments swapped, passed; the check now compares
    every energy with SciPy's expm of the global Hamiltonian."""
    import numpy as np

    from jaxthermo.apps.verify import assignment as asg

    (check,) = [c for c in asg.CHECKS if c.name.startswith("Σ_X Q̃_X = 0")]
    assert run_check(check).ok
    real = asg.energy_assignment
    wrong_versions = (
        lambda m, r, t: real(m, r, 2 * np.asarray(t))._replace(times=np.asarray(t)),
        lambda m, r, t: real(m, r, t)._replace(bare=real(m, r, t).interaction, interaction=real(m, r, t).bare),
    )
    for wrong in wrong_versions:
        monkeypatch.setattr(asg, "energy_assignment", wrong)
        assert not run_check(check).ok


def test_work_bound_check_fails_when_library_and_formula_agree_on_a_bound_too_low(monkeypatch):
    """The exact samples never came near eq. (B7)'s bound (vertex 9–37σ outside them, margin 0.15 of the range), so
    only 'samples above the bound' was tested: a bound twice too low in both the library and the formula passed.
    The check now also needs the samples of a state whose vertex lies inside G to reach the bound."""
    from jaxthermo.apps.verify import inhomogeneous as inh

    (check,) = [c for c in inh.CHECKS if "lower bound of single-collision work" in c.name]
    assert run_check(check).ok
    real_bound, real_support = inh._work_bound, inh.work_support
    monkeypatch.setattr(inh, "_work_bound", lambda p0: 2 * real_bound(p0))
    monkeypatch.setattr(inh, "work_support", lambda m, r: (2 * real_support(m, r)[0], real_support(m, r)[1]))
    assert not run_check(check).ok
