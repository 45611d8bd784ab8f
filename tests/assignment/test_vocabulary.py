"""Model C speaks the package's energetics vocabulary (docs/conventions.md): ``Assignment`` starts
with ``work, heat, energy_change``; the old names keep working with a ``DeprecationWarning``;
``replace()`` on the model classes; the one time-grid rule and the one positive-integer rule."""

from functools import partial

import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo.assignment as ja
from jaxthermo._quadrature import composite_gauss_legendre, cumulative_integral
from jaxthermo._superoperators import apply_superoperator, map_images, superoperator
from jaxthermo.assignment import Assignment, GlobalModel, QuadraticReservoirs
from jaxthermo.assignment._assignment import gauss_legendre_nodes
from jaxthermo.assignment._generator import generator_images
from tests.helpers import random_hermitian, random_state


def _global_model(rng):
    return GlobalModel(random_hermitian(2, rng), 0.4 * random_hermitian(6, rng), random_hermitian(3, rng))


def test_assignment_fields_start_with_the_energetics_vocabulary():
    assert Assignment._fields[:3] == ("work", "heat", "energy_change")
    assert "energy" in Assignment._fields


def test_first_law_of_every_assignment_with_heat_into_the_system():
    rng = np.random.default_rng(0)
    model = _global_model(rng)
    out = ja.energy_assignment(model, random_state(6, rng), np.linspace(0.0, 3.0, 13))
    for a in (out.bare, out.interaction):
        work, heat, energy_change = a[:3]
        np.testing.assert_allclose(energy_change, work + heat, atol=1e-13)
        np.testing.assert_allclose(energy_change, a.energy - a.energy[0], atol=0)
        # heat into the system is the energy the environment gives up: Q = −Q̃_E
        np.testing.assert_allclose(heat, -out.heats[2], atol=1e-13)
    quad = QuadraticReservoirs.homogeneous(3, 2, 2.0, 1.5, 0.1, 0.2, 1.0, 0.5).energetics(np.linspace(0.0, 3.0, 11))
    for a in (quad.bare, quad.interaction, quad.minimal_dissipation):
        np.testing.assert_allclose(a.energy_change, a.work + a.heat, atol=1e-12)
        np.testing.assert_allclose(a.energy_change, a.energy - a.energy[0], atol=0)
    np.testing.assert_allclose(quad.bare.heat, -(quad.energies[2] - quad.energies[2, 0]), atol=1e-12)


def test_gauss_legendre_nodes_is_a_deprecated_alias():
    times = np.linspace(0.0, 2.0, 5)
    with pytest.warns(DeprecationWarning, match="composite_gauss_legendre"):
        old = gauss_legendre_nodes(times, 3)
    with pytest.warns(DeprecationWarning, match="composite_gauss_legendre"):
        old_public = ja.gauss_legendre_nodes(times, 3)
    new = composite_gauss_legendre(times, 3)
    for a, b, c in zip(old, old_public, new):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)


def test_superoperator_aliases_are_deprecated_and_agree():
    rng = np.random.default_rng(1)
    h = jnp.asarray(random_hermitian(3, rng))
    gen = lambda r: -1j * (h @ r - r @ h)
    with pytest.warns(DeprecationWarning, match="row-major vec") as caught:  # a public recipe, not a private name
        s_old = ja.superoperator_matrix(gen, 3)
    assert "jaxthermo._" not in str(caught[0].message)
    np.testing.assert_array_equal(s_old, superoperator(gen, 3))
    expression = str(caught[0].message).split("use ", 1)[1].split(" (row-major")[0]
    recipe = eval(expression, {"jnp": jnp, "L": gen, "d": 3})  # the recipe the warning gives, run as written
    np.testing.assert_allclose(recipe, s_old, atol=1e-14)
    with pytest.warns(DeprecationWarning, match="map_images"):
        images = generator_images(gen, 3)
    np.testing.assert_array_equal(images, map_images(gen, 3))
    x = jnp.asarray(random_hermitian(3, rng))
    with pytest.warns(DeprecationWarning, match="row-major vec"):  # a public recipe, not a private name
        apply = ja.as_function(s_old)
    recipe = lambda X: (s_old @ X.reshape(9)).reshape(3, 3)
    np.testing.assert_allclose(apply(x), partial(apply_superoperator, s_old)(x), atol=0)
    np.testing.assert_allclose(apply(x), gen(x), atol=1e-13)
    np.testing.assert_allclose(recipe(x), apply(x), atol=0)


def test_cumulative_integral_is_the_foundation_rule():
    assert ja.cumulative_integral is cumulative_integral


def test_replace_on_the_model_classes_validates_again():
    rng = np.random.default_rng(2)
    model = _global_model(rng)
    other = model.replace(h_system=np.eye(2))
    assert isinstance(other, GlobalModel) and np.array_equal(other.h_system, np.eye(2))
    assert other.h_environment is model.h_environment
    with pytest.raises(ValueError, match="h_system"):
        model.replace(h_system=np.array([[0.0, 1.0], [0.0, 0.0]]))
    res = QuadraticReservoirs.homogeneous(2, 2, 1.0, 1.5, 0.1, 0.1)
    hot = res.replace(beta1=0.25)
    assert hot.beta1 == 0.25 and hot.h1 is res.h1 and hot.statistics == "fermion"
    with pytest.raises(ValueError, match="statistics"):
        res.replace(statistics="anyon")


def test_multi_value_returns_are_named():
    rng = np.random.default_rng(3)
    model = _global_model(rng)
    out = ja.reduced_map(model, random_state(3, rng), 0.4)
    assert isinstance(out, ja.ReducedMap) and out.phi.shape == out.phi_dot.shape == (4, 4)
    interval = ja.non_markovian_intervals(np.linspace(0, 1, 5), np.array([[1.0], [-1.0], [-1.0], [1.0], [1.0]]))
    assert interval == [(0.25, 0.5)] and interval[0].start == 0.25 and interval[0].end == 0.5


def test_time_grid_rule_non_decreasing_from_zero():
    rng = np.random.default_rng(4)
    model = _global_model(rng)
    rho0 = random_state(6, rng)
    plain = ja.energy_assignment(model, rho0, np.array([0.0, 0.5, 1.0]))
    repeated = ja.energy_assignment(model, rho0, np.array([0.0, 0.5, 0.5, 1.0]))  # a zero-length interval
    np.testing.assert_allclose(np.asarray(repeated.bare.heat)[[0, 1, 3]], plain.bare.heat, atol=1e-14)
    np.testing.assert_allclose(repeated.bare.heat[2], repeated.bare.heat[1], atol=0)
    res = QuadraticReservoirs.homogeneous(2, 2, 1.0, 1.5, 0.1, 0.1)
    a = res.energetics(np.array([0.0, 0.5, 1.0])).minimal_dissipation
    b = res.energetics(np.array([0.0, 0.5, 0.5, 1.0])).minimal_dissipation
    np.testing.assert_allclose(np.asarray(b.heat)[[0, 1, 3]], a.heat, atol=1e-14)
    md = ja.minimal_dissipation(model, random_state(2, rng), random_state(3, rng), np.array([0.0, 0.3, 0.3, 0.6]))
    assert np.all(np.isfinite(md.assignment.heat))
    np.testing.assert_allclose(md.assignment.heat[2], md.assignment.heat[1], atol=0)
    for bad in (np.array([0.0, 1.0, 0.5]), np.array([-0.5, 0.0, 1.0]), np.array([])):
        with pytest.raises(ValueError, match="times"):
            ja.energy_assignment(model, rho0, bad)
        with pytest.raises(ValueError, match="times"):
            res.energetics(bad)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_positive_integer_rule(bad):
    rng = np.random.default_rng(5)
    model = _global_model(rng)
    times = np.array([0.0, 1.0])
    with pytest.raises(ValueError, match="order"):
        ja.minimal_dissipation(model, np.eye(2) / 2, np.eye(3) / 3, times, order=bad)
    with pytest.raises(ValueError, match="order"):
        QuadraticReservoirs.homogeneous(2, 2, 1.0, 1.5, 0.1, 0.1).energetics(times, order=bad)
    with pytest.raises(ValueError, match="n1"):
        QuadraticReservoirs.homogeneous(bad, 2, 1.0, 1.5, 0.1, 0.1)
    with pytest.raises(ValueError, match="points"):
        ja.refine_times(times, [0.5], 0.1, points=bad)
    driven = model.replace(drive=lambda t: 0.1 * jnp.sin(t) * jnp.eye(2))
    with pytest.raises(ValueError, match="substeps"):
        ja.energy_assignment(driven, np.eye(6) / 6, times, substeps=bad)
