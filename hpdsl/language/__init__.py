"""The rules language: units and types, values written in it, the AST (nodes), the parser and the
builder that turns lark's reductions into the AST, and constant evaluation.

Data flow: source text -> `parser.parse_source` -> `nodes.Module`.
May import: hpdsl.base.
"""
