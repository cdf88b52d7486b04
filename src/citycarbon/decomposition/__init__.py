"""Index decomposition analysis: what drove a change in energy use or CO2 between two years.

* :mod:`citycarbon.decomposition.lmdi` — LMDI-I, additive and multiplicative, with the Ang & Liu (2007)
  zero-value limits and chaining over consecutive years (Ang 2004; Ang 2005).
* :mod:`citycarbon.decomposition.kaya` — the city's Kaya identity by sector (population, GDP per capita,
  structure, energy intensity, carbon factor) as LMDI input.
"""

from citycarbon.decomposition.kaya import (
    CO2_FACTORS,
    ENERGY_FACTORS,
    kaya_co2_input,
    kaya_energy_input,
)
from citycarbon.decomposition.lmdi import (
    INPUT_COLUMNS,
    LmdiPeriod,
    LmdiResult,
    decompose_lmdi,
    decompose_lmdi_chain,
    log_mean,
)

__all__ = [
    "CO2_FACTORS",
    "ENERGY_FACTORS",
    "INPUT_COLUMNS",
    "LmdiPeriod",
    "LmdiResult",
    "decompose_lmdi",
    "decompose_lmdi_chain",
    "kaya_co2_input",
    "kaya_energy_input",
    "log_mean",
]
