"""Code generators: one module per target, all printing the same lowered IR (``hpdsl.compile.ir``),
and the compiler driver (`compiler`) that checks, lowers and generates in turn.

`python` writes the Python target; `st` the Structured Text dialects (a dialect is a subclass
that overrides the printer's mappings: names, literals, declarations); `plcopen` the PLCopen
TC6 XML project around the `iec` text; `emitter`, `naming` and `templates` are what they share.

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile.
"""

# The targets `hpdsl compile --target` accepts.
TARGETS = ("python", "st", "plcopen")
# The Structured Text dialects of `--target st --dialect`.
DIALECTS = ("iec", "codesys", "siemens")
