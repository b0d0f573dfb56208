"""`hpdsl diff OLD NEW`: what a change does to the package, construct by construct. `compare`
matches and compares two checked packages; `command` loads them and prints the changes.

May import: hpdsl.base, hpdsl.language, hpdsl.check.
"""
