"""What engineers use the compiler for, beyond compiling: the sequence-of-operations document
(`doc`), the semantic diff (`diff`), the formatter (`fmt`), the language server (`lsp`), and
scenario tests with traceability and the PLC test bench (`testing`).

May import: hpdsl.base, hpdsl.language, hpdsl.check, hpdsl.compile, hpdsl.codegen; never
hpdsl.cli (commands call tools, not the other way round), and one tool not another's internals.
"""
