"""citycarbon: a city's carbon-peak and carbon-neutrality work plan as working software.

The domain packages (``plan``, ``accounting``, ``tracking``, ``sinks``, ``decomposition`` ...) are pure:
DataFrames and arrays in, results with provenance out. Storage, API, web, CLI and reports are adapters.
"""

__version__ = "0.1.0"
