"""The ground every layer stands on: source files and spans, diagnostics and their message texts,
rendering diagnostics for people and tools, the files a user gives, shipped resources and the
progress shown on a terminal.

May import: the standard library only (and tqdm, lazily, for progress). Everything may import it.
"""
