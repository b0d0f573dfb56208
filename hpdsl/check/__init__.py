"""Checking: the AST of a whole package resolved and type-checked with units, its meaning checked
(tables, hysteresis, writers, requirements), giving a `CheckedPackage` and diagnostics.

Data flow: `nodes.Module`s -> `checker.check_package` -> `CheckedPackage` (the checked AST).
`package` loads the files a command names and checks them as one package.
May import: hpdsl.base, hpdsl.language.
"""
