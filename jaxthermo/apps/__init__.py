"""Applications: the ``jaxthermo`` command (:mod:`.cli`), the demo (:mod:`.demo`), the model-A figures
(:mod:`.figures`) and ``python -m jaxthermo.verify`` (:mod:`.verify`).

The only layer that plots or parses command lines. It imports the models and the ensemble engine
through their public names; nothing below it imports this package. Importing it loads no plotting
library: matplotlib (``pip install "jaxthermo[plot]"``) is imported when a plot is drawn.
"""
