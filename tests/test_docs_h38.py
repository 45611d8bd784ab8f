"""Numbers and statements of docs/*.md and docs/api.md checked against the code: each test names the
page and section whose claim it guards, and computes the claim by an independent route."""

import importlib
import inspect
import pathlib
import re
import warnings

import numpy as np
import pytest

import jaxthermo as jt

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _normalised_docstring_summary(obj) -> str:
    """The first paragraph of a docstring as docs/api.md writes it: Sphinx roles and ``double``
    backquotes become plain `single` ones."""
    first = (inspect.getdoc(obj) or "").split("\n\n", 1)[0].replace("\n", " ")
    first = re.sub(r":(?:func|class|meth|attr|mod):`~?([^`]+)`", r"`\1`", first)
    return first.replace("``", "`")


def test_api_summaries_are_the_docstrings_first_paragraphs():
    """docs/api.md: "Every public name of the package, by module, with the first line of its docstring"."""
    module = None
    differ = []
    for line in (DOCS / "api.md").read_text().splitlines():
        heading = re.match(r"## `(jaxthermo(?:\.\w+)?)`", line)
        if heading:
            module = importlib.import_module(heading.group(1))
            continue
        if module is None or not line.startswith("| `"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        name, column, kind, summary = cells[0].strip("`"), cells[1], cells[2], cells[-1]
        obj = getattr(module, name)
        if summary.startswith("Deprecated"):
            continue
        if summary != _normalised_docstring_summary(obj):
            differ.append(name)
        actual = "class" if inspect.isclass(obj) else "function" if callable(obj) else "object"
        if kind != actual:
            differ.append(f"{name}: kind {kind}, is a {actual}")
        if module is jt:  # column `module`: where the name is defined
            defined = type(obj).__module__ if actual == "object" else obj.__module__
            if column.strip("`") != defined:
                differ.append(f"{name}: module {column}, defined in {defined}")
        elif (column == "yes") != (vars(jt).get(name) is obj):  # column `jt`: also at the top level
            differ.append(f"{name}: column jt {column!r}")
    assert differ == []


def _qubit_lambda_max(beta_omega, tau):
    """λ_max of the [WCCM] qubit example at λ = 0 in closed form (docs/coherent.md §1, §5): χ = σ_x,
    K = ρ_th^{−1/2} σ_x ρ_th^{−1/2} has eigenvalues ±1/√(p_0 p_1), so λ_max = √(p_0 p_1/τ); in logs,
    log(p_0 p_1) = −x − 2 log(1 + e^{−x}), x = βΩ."""
    return np.exp(0.5 * (-beta_omega - 2 * np.log1p(np.exp(-beta_omega)) - np.log(tau)))


@pytest.mark.parametrize("tau", [0.01, 1.0])
def test_lambda_range_of_a_cold_ancilla_and_where_it_underflows(tau):
    """docs/coherent.md §1: the range stays exact where the populations underflow (βΔE_A > 708),
    and becomes [−0, 0] beyond βΔE_A ≈ 1417, where e^{−βΔE_A/2} is below the smallest normal
    float64 (the page said 1490, the subnormal limit, which XLA flushes to zero)."""
    smallest_normal = np.finfo(np.float64).tiny
    threshold = -2 * np.log(smallest_normal)  # 1416.79: e^{−x/2} = 2.2e-308
    for x in (5.0, 750.0, 1400.0, threshold - 0.5):
        r = jt.coherent.allowed_lambda_range(jt.qubit_example(omega=x, beta=1.0, lam=0.0, tau=tau))
        expected = _qubit_lambda_max(x, tau)
        np.testing.assert_allclose([float(r.lower), float(r.upper)], [-expected, expected], rtol=1e-12)
    for x in (threshold + 0.5, 1490.0):
        r = jt.coherent.allowed_lambda_range(jt.qubit_example(omega=x, beta=1.0, lam=0.0, tau=tau))
        assert float(r.upper) == 0.0 and float(r.lower) == 0.0
    assert "βΔE_A ≈ 1417" in (DOCS / "coherent.md").read_text()


def _epsilon_bound_reference(d, beta_g0, sigma):
    """E_G[D(τ_S, τ(δ))] by SciPy's adaptive quadrature, split at every kink of |q_j(δ) − q_j(0)|
    (δ = 0, and δ = −2 where q_1 of a qutrit returns to q_1(0): q_1 is symmetric about δ = −1) and
    at the turn δ = −1 (docs/inhomogeneous.md §8)."""
    from scipy import integrate

    j = np.arange(d) - (d - 1) / 2

    def q(x):
        z = -beta_g0 * (1 + x) * j
        w = np.exp(z - z.max())
        return w / w.sum()

    q0 = q(0.0)
    pdf = lambda x: np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    cuts = sorted({-12 * sigma, 12 * sigma, *(c for c in (-2.0, -1.0, 0.0) if abs(c) < 12 * sigma)})
    f = lambda x: pdf(x) * 0.5 * np.abs(q(x) - q0).sum()
    # epsrel = 1e-13 is what QUADPACK reaches in double precision here (its error estimates stay below 3e-15);
    # asking for 1e-15 only made it warn of roundoff with the same values. A warning now fails the reference.
    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        return sum(integrate.quad(f, a, b, limit=2000, epsabs=1e-16, epsrel=1e-13)[0] for a, b in zip(cuts, cuts[1:]))


def _epsilon_bound(d, beta_g0, sigma):
    model = jt.InhomogeneousReservoir(d, beta=beta_g0, g0=1.0, theta=0.1, distribution=jt.Gaussian(sigma))
    return float(jt.inhomogeneous.approximate_second_law_epsilon(model).upper_bound)


@pytest.mark.parametrize(("beta_g0", "sigma"), [(5.0, 1.0), (50.0, 1.0), (0.5, 0.3)])
def test_epsilon_bound_of_a_qubit_within_4e_15_of_adaptive_quadrature(beta_g0, sigma):
    """docs/inhomogeneous.md §8: for d = 2 within 4·10⁻¹⁵ of SciPy's adaptive quadrature."""
    assert abs(_epsilon_bound(2, beta_g0, sigma) - _epsilon_bound_reference(2, beta_g0, sigma)) < 4e-15


def test_epsilon_bound_of_a_qutrit_at_its_second_kink():
    """docs/inhomogeneous.md §8: the rule is split at δ = −2 as well, where q_1 returns to q_1(0)."""
    assert abs(_epsilon_bound(3, 5.0, 1.0) - _epsilon_bound_reference(3, 5.0, 1.0)) < 1e-14


def test_layout_and_architecture_name_every_module_and_only_existing_ones():
    """README.md "Layout" and docs/architecture.md §1 list every foundation module (and the README
    every module of apps/); the table of docs/architecture.md §3 names files that exist."""
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    architecture = (DOCS / "architecture.md").read_text()
    section_1 = architecture.split("## §1", 1)[1].split("## §2", 1)[0]
    package = ROOT / "jaxthermo"
    for path in [*package.glob("_*.py"), *(package / "apps").glob("*.py")]:
        if path.name != "__init__.py":
            assert path.name in layout, f"README layout misses {path.name}"
    for path in package.glob("_*.py"):
        if path.name != "__init__.py":
            assert f"`{path.name}`" in section_1, f"docs/architecture.md §1 misses {path.name}"
    for name in re.findall(r"(\w+\.py)", layout):
        assert any(ROOT.glob(f"*/**/{name}")), f"README layout names {name}, which does not exist"
    section_3 = architecture.split("## §3", 1)[1].split("## §4", 1)[0]
    for row in section_3.splitlines():
        if not row.startswith("| ["):
            continue
        code = row.split("|")[2]
        folder = package
        for name in re.findall(r"`([\w/]+\.py|\w+/)`", code):
            if "/" in name:
                folder = package / name.split("/")[0]
                target = package / name
            else:
                target = folder / name if name.endswith(".py") else package / name
                if not target.exists() and name.startswith("_"):  # a foundation module
                    target = package / name
            assert target.exists(), f"docs/architecture.md §3 names {name} ({target}), which does not exist"


def test_where_delta_f_alpha_exceeds_the_work_in_the_papers_figure():
    """docs/inhomogeneous.md §7: at θ = 0.1, βg0 = 1, p_0 = 0.75 the violation ΔF_α − W > 0 of α > 1
    starts at δ* = ln 3 − 1, where τ(δ*) = ρ (thermal populations at βg0(1 + δ*) = ln 3 give p_0 = 3/4),
    and reaches 0.19 (α = 2) and beyond 0.2 (α = 3); ΔF_1 ≤ W everywhere (β(W − ΔF_1) = ΔS ≥ 0)."""
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.1)
    rho = np.diag([0.75, 0.25])
    star = np.log(3.0) - 1.0
    np.testing.assert_allclose(np.asarray(jt.thermal_state(2, 1.0 + star, 1.0)), rho, atol=1e-15)

    def violation(delta):
        laws = jt.collision_second_laws(model, rho, delta, [1.0, 2.0, 3.0])
        return np.asarray(laws.free_energy_change - laws.work)

    for delta in (-0.2, -0.1, 0.0, star - 0.01):
        assert np.all(violation(delta) < 0)
    for delta in (star + 0.005, 0.15, 0.185):
        assert violation(delta)[0] < 0 < min(violation(delta)[1:])
    assert violation(0.195)[1] < 0 < violation(0.2)[2]


@pytest.mark.parametrize(
    ("kind", "quantity"), [("hamiltonian", "work"), ("hamiltonian", "heat"), ("temperature", "heat")]
)
def test_quadratic_map_table_is_the_taylor_expansion_of_the_exact_collision(kind, quantity):
    """docs/inhomogeneous.md §6 (table) and docs/misprints.md §2, §4: y ≈ Aδ² + Bδ + C is the second-order
    Taylor expansion of the exact single-collision y(δ) = W/(g0 sin²θ) or Q/(g0 sin²θ); the δ² coefficient of
    the heat carries −½ q_0'' that [ATO19] eqs. (25), (30) omit. Reference: central differences of the
    exact collision (jt.collide), not the library's q'(0), q''(0)."""
    beta_g0, theta, p0 = 0.8, 0.4, 0.6
    model = jt.InhomogeneousReservoir(2, beta=beta_g0, g0=1.0, theta=theta, kind=kind)
    rho = np.diag([p0, 1 - p0])

    def y(delta):
        e = jt.collide(model, rho, delta).energetics
        return float(e.work if quantity == "work" else e.heat) / np.sin(theta) ** 2

    h = 1e-3
    c = y(0.0)
    b = (y(h) - y(-h)) / (2 * h)
    a = (y(h) - 2 * c + y(-h)) / (2 * h * h)
    coefficients = jt.inhomogeneous.quadratic_coefficients(model, rho, quantity)
    np.testing.assert_allclose([float(v) for v in coefficients], [a, b, c], rtol=1e-5, atol=1e-10)
    if quantity == "heat":  # the printed δ² coefficient (without ½ q_0'') is excluded
        x = beta_g0
        q0_second = x**2 * np.exp(-x) * (np.exp(-x) - 1) / (1 + np.exp(-x)) ** 3
        # [ATO19] eq. (25) prints A = −q_0' (no −½ q_0''), eq. (30) A = −q_0'' (for −½ q_0'')
        printed = float(coefficients[0]) + (0.5 if kind == "hamiltonian" else -0.5) * q0_second
        assert abs(printed - a) > 100 * abs(float(coefficients[0]) - a)


def test_unusual_but_legal_inputs_warn_and_model_b_accepts_a_negative_beta():
    """README "Validation and files", at construction: model A's β < 0 and g0 ≤ 0, a temperature-kind
    law reaching δ < −1 and the analytic densities beyond their validity (docs/inhomogeneous.md §6) warn; model B accepts β < 0
    (population-inverted ancillae, docs/coherent.md §1) without a warning."""
    import warnings

    def warns(make):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            make()
        return any(issubclass(w.category, UserWarning | RuntimeWarning) for w in caught)

    model = lambda sigma, **kw: jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(sigma), **kw)
    assert warns(lambda: jt.InhomogeneousReservoir(2, -1.0, 1.0, 0.1))
    assert warns(lambda: jt.InhomogeneousReservoir(2, 1.0, -1.0, 0.1))
    assert warns(lambda: model(0.5, kind="temperature"))  # δ reaches −1 within the law's support
    rho = jt.thermal_state(2, 1.0, 1.0)  # work ε = 0.022 / 0.007 (σ = 0.55 / 0.3), heat 0.017 / 0.004
    assert warns(lambda: jt.work_density(model(0.55), rho, 0.01))
    assert not warns(lambda: jt.work_density(model(0.3), rho, 0.01))
    assert warns(lambda: jt.heat_density(model(0.2), rho, 0.01))
    assert not warns(lambda: jt.heat_density(model(0.1), rho, 0.01))
    assert not warns(lambda: jt.qubit_example(beta=-1.0))


@pytest.mark.parametrize(
    ("study", "table", "readme_list"),
    [
        ("sweep", "grid", r"# every combination; any of ([^\n]*)"),
        ("coherent_scan", "scan", r"Model B scans \(`\[coherent\]` \+ `\[scan\]` over ([^)]*)\)"),
    ],
)
def test_readme_lists_the_scannable_parameters(study, table, readme_list, tmp_path, monkeypatch, capsys):
    """README "Your own study": the parameters a [grid] / [scan] accepts are those the command allows
    (read from its error message for an unknown one)."""
    from jaxthermo.apps import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(f'[study]\nstudy = "{study}"\n[{table}]\nnot_a_parameter = [1, 2]\n')
    assert cli.main(["run", "s.toml"]) == 2
    allowed = set(re.search(r"allowed parameters: ([\w, ]+)", capsys.readouterr().err).group(1).split(", "))
    listed = set(re.findall(r"\w+", re.search(readme_list, (ROOT / "README.md").read_text()).group(1)))
    assert listed == allowed


def test_conventions_vectorisation_and_partial_swap_as_stated():
    """docs/conventions.md §4: vec is row-major, vec(AρB) = (A ⊗ Bᵀ) vec(ρ), and QuTiP's superoperator
    of ρ ↦ AρB (column stacking) is the library's conjugated by the swap of the two factors; §5: the
    partial swap is exp(iθS) = exp(−i t_int H_int), H_int = −g_int(Π_sym − Π_asym), θ = g_int t_int."""
    qutip = pytest.importorskip("qutip")
    from scipy.linalg import expm

    rng = np.random.default_rng(7)
    d = 3
    a, b, rho = (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)) for _ in range(3))
    np.testing.assert_allclose((a @ rho @ b).reshape(-1), np.kron(a, b.T) @ rho.reshape(-1), atol=1e-13)
    library = np.asarray(jt.superoperator(lambda x: a @ x @ b, d))
    np.testing.assert_allclose(library, np.kron(a, b.T), atol=1e-13)
    s = np.asarray(jt.swap(d))
    np.testing.assert_allclose(qutip.sprepost(qutip.Qobj(a), qutip.Qobj(b)).full(), s @ library @ s, atol=1e-13)

    g_int, t_int = 0.7, 0.55
    sym, asym = (np.eye(d * d) + s) / 2, (np.eye(d * d) - s) / 2
    exact = expm(-1j * t_int * (-g_int * (sym - asym)))
    np.testing.assert_allclose(np.asarray(jt.partial_swap(d, g_int * t_int)), exact, atol=1e-14)
