"""`hpdsl lsp`: the language server. `index` answers hover, definition, references, completion and
the outline from a checked package (pure analysis, no protocol); `server` wires those answers
and the diagnostics of rules and scenario files to the Language Server Protocol (pygls).

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.tools.fmt, hpdsl.tools.testing.
"""
