"""Compiling: a checked package lowered to the intermediate representation (`ir`), with a site
parameter file applied (`site`).

Data flow: `CheckedPackage` -> `lower.lower_package` -> `ir.Package` -> hpdsl.codegen (whose
`compiler` drives check, lowering and a target in turn).
May import: hpdsl.base, hpdsl.language, hpdsl.check.
"""
