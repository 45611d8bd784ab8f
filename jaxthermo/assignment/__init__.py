"""Model C: local energy assignment at arbitrary coupling (docs/assignment.md)."""

from .._quadrature import cumulative_integral as cumulative_integral
from ._assignment import Assignment as Assignment
from ._assignment import bare_assignment as bare_assignment
from ._assignment import gauss_legendre_nodes as gauss_legendre_nodes  # deprecated
from ._assignment import interaction_assignment as interaction_assignment
from ._assignment import refine_times as refine_times
from ._generator import CanonicalForm as CanonicalForm
from ._generator import TimeInterval as TimeInterval
from ._generator import as_function as as_function  # deprecated
from ._generator import canonical_form as canonical_form
from ._generator import canonical_hamiltonian as canonical_hamiltonian
from ._generator import lindblad_generator as lindblad_generator
from ._generator import non_markovian_intervals as non_markovian_intervals
from ._generator import superoperator_matrix as superoperator_matrix  # deprecated
from ._global import GlobalEnergetics as GlobalEnergetics
from ._global import GlobalModel as GlobalModel
from ._global import MinimalDissipation as MinimalDissipation
from ._global import ReducedMap as ReducedMap
from ._global import energy_assignment as energy_assignment
from ._global import exact_generator as exact_generator
from ._global import generator_from_map as generator_from_map
from ._global import inverse_condition as inverse_condition
from ._global import minimal_dissipation as minimal_dissipation
from ._global import reduced_map as reduced_map
from ._quadratic import QuadraticEnergetics as QuadraticEnergetics
from ._quadratic import QuadraticReservoirs as QuadraticReservoirs
from ._quadratic import quadratic_energetics as quadratic_energetics
