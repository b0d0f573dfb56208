"""The grammar, the AST builder and the unit list stay in step."""

from __future__ import annotations

import re

import pytest

from hpdsl.language import units
from hpdsl.language.builder import AstBuilder
from hpdsl.language.parser import grammar_text, keywords, lark_parser


def tree_names() -> set[str]:
    """Every tree node name the parser can produce: rule names and aliases that are not inlined."""
    names = set()
    for rule in lark_parser().rules:
        name = str(getattr(rule.alias or rule.origin.name, "name", rule.alias or rule.origin.name))
        if name.startswith("_"):
            continue
        if rule.options.expand1 and len(rule.expansion) == 1 and not rule.alias:
            continue  # `?rule` with one child is replaced by that child
        names.add(name)
    return names


def test_every_grammar_rule_has_a_builder() -> None:
    names = tree_names()
    assert len(names) > 60, "the grammar walk found too few rules to be right"
    missing = sorted(name for name in names if not callable(getattr(AstBuilder, name, None)))
    assert missing == [], f"grammar rules without an AST builder method: {missing}"


def test_builder_has_no_methods_for_rules_that_do_not_exist() -> None:
    own = {name for name, value in vars(AstBuilder).items() if callable(value) and not name.startswith("_")}
    stale = sorted(own - tree_names() - {"begin"})
    assert stale == [], f"builder methods for no grammar rule: {stale}"


def test_no_builder_helper_shadows_an_inlined_rule() -> None:
    # The parser looks up every rule by name on the builder, `_meta` and `_stmt` included;
    # a helper with such a name would be called as if it built that rule.
    inlined = {str(getattr(r.origin, "name", r.origin)) for r in lark_parser().rules}
    clashes = sorted(name for name in dir(AstBuilder) if name in inlined and name.startswith("_"))
    assert clashes == []


def _quantity_units() -> list[str]:
    pattern = re.search(r"^QUANTITY\.2: /(.*)/$", grammar_text(), re.MULTILINE)
    assert pattern is not None
    first_group = re.search(r"\[ \\t\]\*\(([^)]*)\)", pattern.group(1))
    assert first_group is not None
    return first_group.group(1).split("|")


def test_quantity_literal_units_match_the_units_module() -> None:
    in_grammar = _quantity_units()
    assert sorted(in_grammar) == sorted(units.SIMPLE_SYMBOLS)
    # Alternation takes the first match, so a longer symbol must come before its prefixes.
    for i, symbol in enumerate(in_grammar):
        for later in in_grammar[i + 1 :]:
            assert not (later.startswith(symbol) and later != symbol), f"{symbol} shadows {later}"


@pytest.mark.parametrize(
    "word", ["if", "then", "else", "end", "rule", "program", "input", "for", "and", "not"]
)
def test_keywords_come_from_the_grammar(word: str) -> None:
    assert word in keywords()


def test_unit_names_and_builtins_are_not_keywords() -> None:
    for word in ("min", "max", "h", "s", "C", "K", "clamp", "time_in_state", "day"):
        assert word not in keywords()
