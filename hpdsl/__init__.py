"""hpdsl: a declarative rules language and compiler for heat-pump control."""

# The one place the version is written: pyproject.toml reads it from here (hatch's dynamic
# version), so it cannot drift, and reading it costs nothing at start-up.
__version__ = "0.1.0"
