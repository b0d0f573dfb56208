"""Code generators: one module per target, all printing the same lowered IR (``hpdsl.ir``)."""

# The targets `hpdsl compile --target` accepts.
TARGETS = ("python", "st", "plcopen")
# The Structured Text dialects of `--target st --dialect`.
DIALECTS = ("iec", "codesys", "siemens")
