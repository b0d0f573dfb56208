"""`hpdsl doc`: the package as a sequence-of-operations document. `build` makes the document model
(`model`) from the checked package and its IR, `render` writes it as Markdown and HTML (`svg`
draws the state machines, `bacnet` suggests the points' objects), `command` is the command.

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile, hpdsl.codegen.templates,
hpdsl.tools.testing.trace.
"""
