"""`hpdsl fmt`: the canonical layout, idempotence, comments kept, the safety net and the command line."""

from __future__ import annotations

import io
import os
import re
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpdsl import cli
from hpdsl.base.source import SourceFile
from hpdsl.language.parser import lark_parser, parse_source
from hpdsl.tools import fmt
from hpdsl.tools.fmt import FormatResult, FormatterBug, format_text

RULES = Path(__file__).resolve().parent.parent / "rules"
SHIPPED = sorted(RULES.glob("*.rules"))


def formatted(text: str) -> str:
    result = format_text(textwrap.dedent(text))
    assert result.diagnostics == []
    assert result.text is not None
    return result.text


def same(text: str) -> None:
    """The text is already canonical."""
    text = textwrap.dedent(text)
    assert formatted(text) == text


def comments_of(text: str) -> list[str]:
    return [str(t).rstrip() for t in lark_parser().lex(text, dont_ignore=True) if t.type == "COMMENT"]


# ------------------------------------------------------------------------ shipped files
def test_the_shipped_package_has_rules_files() -> None:
    assert len(SHIPPED) >= 10


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_rules_file_formats_to_itself(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_text(text, path.name) == FormatResult(text, [])


# ------------------------------------------------------------------------ layout rules
def test_one_item_per_line_indented_four_spaces_per_block() -> None:
    before = (
        "program P rule r if a > 1 then x = 1 else if a < 0 then x = 2 else x = 3 end end "
        "machine m initial state I entry y = 1 end when a > 1 -> J end state J end end end\n"
    )
    assert formatted(before) == textwrap.dedent(
        """\
        program P
            rule r
                if a > 1 then
                    x = 1
                else if a < 0 then
                    x = 2
                else
                    x = 3
                end
            end

            machine m
                initial state I
                    entry
                        y = 1
                    end
                    when a > 1 -> J
                end

                state J
                end
            end
        end
        """
    )


def test_indentation_is_recomputed_whatever_the_input_had() -> None:
    before = "program P\n\t\trule r\n  x = 1\n\t  end\n          end\n"
    assert formatted(before) == "program P\n    rule r\n        x = 1\n    end\nend\n"


def test_spaces_between_tokens() -> None:
    before = (
        "enum Mode(A,B)\n"
        "table t (load : % range 0 %..100 %)\n| load | s |\n| <30 % | A |\nend\n"
        "program P\n"
        "    input a : kW / K from Q . b\n"
        "    rule r\n"
        "        x=-a*(b+c)/ f( a ,b ).member\n"
        "        log done( d : a , e : -b )\n"
        "    end\n"
        "end\n"
    )
    assert formatted(before) == (
        "enum Mode (A, B)\n"
        "\n"
        "table t(load: % range 0 % .. 100 %)\n    | load   | s |\n    | < 30 % | A |\nend\n"
        "\n"
        "program P\n"
        "    input a: kW/K from Q.b\n"
        "\n"
        "    rule r\n"
        "        x = -a * (b + c) / f(a, b).member\n"
        "        log done(d: a, e: -b)\n"
        "    end\n"
        "end\n"
    )


def test_binary_and_unary_minus() -> None:
    same(
        """\
        program P
            rule r
                x = a - -b
                y = -(a - b) - 3
            end
        end
        """
    )


def test_else_if_with_any_blanks_is_written_else_if() -> None:
    text = formatted("program P rule r if a then x = 1 else \t  if b then x = 2 end end end\n")
    assert "        else if b then\n" in text


def test_quantities_and_numbers_are_kept_as_written() -> None:
    text = formatted("program P\nvar a: C = 21C\nvar b: kW = 50  kW\nvar c: real = 1.50e3\nend\n")
    assert "= 21C\n" in text and "= 50  kW\n" in text and "= 1.50e3\n" in text


def test_consecutive_assignments_line_up_on_equals() -> None:
    assert formatted(
        """\
        program P
            rule r
                a = 1
                longer_name = 2
                mid = 3
            end
        end
        """
    ) == textwrap.dedent(
        """\
        program P
            rule r
                a           = 1
                longer_name = 2
                mid         = 3
            end
        end
        """
    )


def test_a_blank_line_or_another_statement_ends_a_run_of_assignments() -> None:
    same(
        """\
        program P
            rule r
                a = 1

                longer_name = 2
                if c then
                    b = 1
                    much_longer = 2
                end
                c = 3
            end
        end
        """.replace("    b = 1", "    b           = 1")
    )


def test_a_comment_line_does_not_end_a_run_of_assignments() -> None:
    text = formatted("program P\nrule r\na = 1\n# why\nlonger = 2\nend\nend\n")
    assert "        a      = 1\n        # why\n        longer = 2\n" in text


def test_hysteresis_thresholds_line_up_on_the_arrow() -> None:
    assert formatted(
        "program P\nhysteresis h on t\nbelow low -> false\nabove low + band -> true\nend\nend\n"
    ) == textwrap.dedent(
        """\
        program P
            hysteresis h on t
                below low        -> false
                above low + band -> true
            end
        end
        """
    )


def test_table_cells_are_left_aligned_and_curve_points_right_aligned() -> None:
    text = formatted(
        """\
        table t(x: C)
        | x | stage |
        | < -10C | 3 |
        | -10C .. 5C | 12 |
        end
        curve c(x: C) -> %
        | -20C | 5 % |
        | 5C | 100 % |
        end
        """
    )
    assert text == textwrap.dedent(
        """\
        table t(x: C)
            | x          | stage |
            | < -10C     | 3     |
            | -10C .. 5C | 12    |
        end

        curve c(x: C) -> %
            | -20C |   5 % |
            |   5C | 100 % |
        end
        """
    )


def test_an_assignment_continued_lines_up_under_its_value() -> None:
    text = formatted(
        """\
        program P
        rule r
        flag = a and b
        or c
        other = (a
        or b) and c
        end
        end
        """
    )
    assert text == textwrap.dedent(
        """\
        program P
            rule r
                flag  = a and b
                        or c
                other = (a
                         or b) and c
            end
        end
        """
    )


def test_other_continuation_lines_hang_one_level_deeper() -> None:
    same(
        """\
        program P
            input a: C
                "A documentation string on the next line." cites R1

            alarm al
                "doc"
                when a > 1C
                    and a < 5C
                severity low
            end
        end
        """
    )


def test_arguments_continued_line_up_after_the_bracket() -> None:
    same(
        """\
        program P
            rule r
                log done(first: a,
                         second: b)
                x = f(
                    a, b
                )
            end
        end
        """
    )


def test_blank_lines_at_most_one_none_at_the_edges_of_blocks() -> None:
    before = (
        "\n\n\nprogram P\n\n\n\n    input a: C\n\n    rule r\n"
        "        if a then\n\n            x = 1\n\n        end\n\n    end\nend\n\n\n"
    )
    assert formatted(before) == (
        "program P\n\n    input a: C\n\n    rule r\n"
        "        if a then\n            x = 1\n        end\n    end\nend\n"
    )


def test_one_blank_line_between_blocks_but_not_between_simple_items() -> None:
    before = (
        'requirement A "a"\nrequirement B "b"\n'
        "program P\n    input a: C\n    var b: C = 0C\n"
        "    rule r\n    end\n    rule s\n    end\n    var c: C = 0C\nend\n"
        "program Q\nend\n"
    )
    assert formatted(before) == (
        'requirement A "a"\nrequirement B "b"\n\n'
        "program P\n    input a: C\n    var b: C = 0C\n\n    rule r\n    end\n\n    rule s\n    end\n\n"
        "    var c: C = 0C\nend\n\nprogram Q\nend\n"
    )


def test_the_blank_line_between_blocks_goes_above_their_comments() -> None:
    text = formatted("program P\nend\n# About Q\nprogram Q\nend\n")
    assert text == "program P\nend\n\n# About Q\nprogram Q\nend\n"


def test_docstrings_are_kept_verbatim() -> None:
    doc = '"""First line\n      odd   indentation   kept\n\ttab and trailing blanks   \n  """'
    text = formatted(f"program P\n  {doc}\nend\n")
    assert text == f"program P\n    {doc}\nend\n"


def test_the_file_ends_with_one_newline_and_no_line_has_trailing_blanks() -> None:
    text = formatted("program P   \n  input a: C   # note   \nend")
    assert text == "program P\n    input a: C  # note\nend\n"
    assert formatted("") == ""


# ------------------------------------------------------------------------ comments
def test_comments_are_kept_in_place() -> None:
    before = textwrap.dedent(
        """\
        # file header
        program P  # trailing on the header
            # before a declaration
          input a: C  # trailing
            rule r
                # first in a block
                x = 1
              # last in a block
            end
        table t(x: C)
        | x | y |
        # between rows
        | < 0C | 1 |  // other style
        end
        end
        # end of file
        """
    )
    text = formatted(before)
    assert comments_of(text) == comments_of(before)
    assert text == textwrap.dedent(
        """\
        # file header
        program P  # trailing on the header
            # before a declaration
            input a: C  # trailing

            rule r
                # first in a block
                x = 1
                # last in a block
            end

            table t(x: C)
                | x    | y |
                # between rows
                | < 0C | 1 |  // other style
            end
        end
        # end of file
        """
    )


def test_trailing_comments_of_consecutive_lines_share_a_column() -> None:
    text = formatted("program P\nrule r\nx = 1 # a\nlonger = f(2) # b\nz = 2\ny = 3      # c\nend\nend\n")
    assert text.splitlines()[2:6] == [
        "        x      = 1     # a",
        "        longer = f(2)  # b",
        "        z      = 2",
        "        y      = 3  # c",
    ]


def test_a_comment_between_the_items_of_one_line_stays_with_the_item_before() -> None:
    text = formatted("program P input a: C # about a\n input b: C end\n")
    assert text == "program P\n    input a: C  # about a\n    input b: C\nend\n"


# ------------------------------------------------------------------------ idempotence
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_formatting_twice_changes_nothing_more(path: Path) -> None:
    # A file written on one line per item with no indentation at all comes back the same twice.
    text = "\n".join(line.strip() for line in path.read_text(encoding="utf-8").split("\n"))
    once = format_text(text).text
    assert once is not None
    assert format_text(once).text == once


_WHITESPACE = re.compile(r"[ \t]*\n[ \t\n]*|[ \t]+")


def _tokens_and_gaps(text: str) -> list[tuple[str, str]]:
    """The text as (kind, piece): tokens, comments and strings kept whole; whitespace as gaps."""
    pieces: list[tuple[str, str]] = []
    for tok in lark_parser().lex(text, dont_ignore=True):
        kind = "gap" if tok.type.startswith("__IGNORE") else tok.type
        pieces.append((kind, str(tok)))
    return pieces


@st.composite
def _respaced(draw: st.DrawFn, text: str) -> str:
    """The text with its layout shaken: indentation, spaces, blank lines; no token changed."""
    out: list[str] = []
    for kind, piece in _tokens_and_gaps(text):
        if kind == "COMMENT":
            out.append(piece + draw(st.sampled_from(["", " ", "\t "])))
            continue
        if kind != "gap":
            out.append(piece)
            continue
        newlines = piece.count("\n")
        before = draw(st.sampled_from(["", " ", "  ", "\t"])) if newlines else ""
        if newlines == 0:
            out.append(draw(st.sampled_from([" ", "  ", "\t", " \t "])))
            continue
        if newlines >= 2:
            newlines += draw(st.integers(0, 2))
        indent = draw(st.sampled_from(["", " ", "    ", "\t", "           "]))
        out.append(before + "\n" * newlines + indent)
    return "".join(out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), path=st.sampled_from(SHIPPED))
def test_any_re_spacing_of_a_shipped_file_formats_back_to_it(data: st.DataObject, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    shaken = data.draw(_respaced(text))
    assert format_text(shaken, path.name).text == text


@st.composite
def _joined(draw: st.DrawFn, text: str) -> str:
    """The text with line breaks turned into spaces where no comment needs them: a new layout."""
    out: list[str] = []
    for kind, piece in _tokens_and_gaps(text):
        if kind == "gap" and "\n" in piece and not (out and out[-1].lstrip().startswith(("#", "//"))):
            out.append(draw(st.sampled_from([" ", piece, "\n\n"])))
        else:
            out.append(piece)
    return "".join(out)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), path=st.sampled_from(SHIPPED))
def test_any_line_breaking_formats_idempotently_to_the_same_meaning(data: st.DataObject, path: Path) -> None:
    text = data.draw(_joined(path.read_text(encoding="utf-8")))
    once = format_text(text, path.name).text  # the safety net inside checks AST and comments
    assert once is not None
    assert format_text(once, path.name).text == once
    assert comments_of(once) == comments_of(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('program rule end x=1()"#\n\t.|-:>C')), max_size=60))
def test_format_text_never_raises_on_bad_input(text: str) -> None:
    result = format_text(text)
    if result.text is None:
        assert any(d.is_error for d in result.diagnostics)


# ------------------------------------------------------------------------ errors and safety net
def test_a_syntax_error_gives_the_diagnostics_of_check_and_no_text() -> None:
    text = "program P\n    rule r\n        x = = 1\n    end\nend\n"
    result = format_text(text, "bad.rules")
    assert result.text is None
    assert result.diagnostics == parse_source(SourceFile("bad.rules", text)).diagnostics
    assert result.diagnostics[0].span.line == 3


def test_windows_line_ends_and_a_byte_order_mark_are_read() -> None:
    assert (
        format_text("\ufeffprogram P\r\n  input a: C\r\nend\r\n").text == "program P\n    input a: C\nend\n"
    )


def test_the_safety_net_catches_a_layout_that_changes_the_meaning(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fmt._Layout.render

    def drop_a_minus(self: fmt._Layout) -> str:
        return real(self).replace("-a", "a")

    monkeypatch.setattr(fmt._Layout, "render", drop_a_minus)
    with pytest.raises(FormatterBug, match="change its meaning"):
        format_text("program P\n    rule r\n        x = -a\n    end\nend\n")


def test_the_safety_net_catches_a_lost_comment(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fmt._Layout.render
    monkeypatch.setattr(fmt._Layout, "render", lambda self: real(self).replace("# note\n", ""))
    with pytest.raises(FormatterBug, match="comments"):
        format_text("# note\nprogram P\nend\n")


# ------------------------------------------------------------------------ command line
@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "good.rules").write_text("program Good\n    input a: C\nend\n")
    (tmp_path / "pkg" / "messy.rules").write_text("program   Messy\ninput a:C\n\n\nend")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["fmt", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fmt_rewrites_only_the_files_that_change(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = folder / "pkg" / "good.rules"
    os.utime(good, (1_000_000, 1_000_000))
    code, out, err = run(capsys, "pkg")
    assert code == 0
    assert out == "reformatted pkg/messy.rules\n"
    assert err == "1 file reformatted, 1 file left unchanged.\n"
    assert (folder / "pkg" / "messy.rules").read_text() == "program Messy\n    input a: C\nend\n"
    assert good.stat().st_mtime == 1_000_000
    assert sorted(p.name for p in (folder / "pkg").iterdir()) == [
        "good.rules",
        "messy.rules",
    ]  # no temp file left
    assert run(capsys, "pkg") == (0, "", "2 files left unchanged.\n")


def test_check_lists_the_files_that_would_change_and_writes_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (folder / "pkg" / "messy.rules").read_bytes()
    code, out, err = run(capsys, "--check", "pkg")
    assert (code, out) == (1, "would reformat pkg/messy.rules\n")
    assert err == "1 file would be reformatted, 1 file would be left unchanged.\n"
    assert (folder / "pkg" / "messy.rules").read_bytes() == before
    assert run(capsys, "--check", "pkg/good.rules")[0] == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (folder / "pkg" / "messy.rules").read_bytes()
    code, out, _ = run(capsys, "--diff", "pkg")
    assert code == 1
    assert out == (
        "--- a/pkg/messy.rules\n+++ b/pkg/messy.rules\n@@ -1,5 +1,3 @@\n"
        "-program   Messy\n-input a:C\n-\n-\n-end\n\\ No newline at end of file\n"
        "+program Messy\n+    input a: C\n+end\n"
    )
    assert (folder / "pkg" / "messy.rules").read_bytes() == before
    assert run(capsys, "--diff", "pkg/good.rules")[:2] == (0, "")


def test_a_syntax_error_is_reported_like_check_and_the_file_left_alone(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = folder / "pkg" / "bad.rules"
    bad.write_text("program P\n    rule r\n        x = = 1\n    end\nend\n")
    before = bad.read_bytes()
    code, out, err = run(capsys, "pkg")
    assert code == 1
    assert "pkg/bad.rules:3:13: error:" in err
    assert "Traceback" not in err
    assert err.endswith("1 file reformatted, 1 file left unchanged, 1 file could not be formatted.\n")
    assert out == "reformatted pkg/messy.rules\n"
    assert bad.read_bytes() == before


def test_an_internal_error_leaves_the_file_alone_and_exits_3(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: fmt._Layout) -> str:
        return "program Other\nend\n"

    monkeypatch.setattr(fmt._Layout, "render", broken)
    before = (folder / "pkg" / "messy.rules").read_bytes()
    code, _, err = run(capsys, "pkg/messy.rules")
    assert code == 3
    assert "internal error" in err and "pkg/messy.rules is left as it is" in err
    assert (folder / "pkg" / "messy.rules").read_bytes() == before


def test_windows_line_ends_are_kept(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = folder / "pkg" / "crlf.rules"
    path.write_bytes(b"program   C\r\ninput a:C\r\nend\r\n")
    assert run(capsys, "pkg/crlf.rules")[0] == 0
    assert path.read_bytes() == b"program C\r\n    input a: C\r\nend\r\n"
    assert run(capsys, "--check", "pkg/crlf.rules")[0] == 0


def test_not_utf8_missing_and_empty_paths_give_clean_messages(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "latin1.rules").write_bytes('program P "caf\xe9"\nend\n'.encode("latin-1"))
    code, _, err = run(capsys, "latin1.rules")
    assert code == 1
    assert "latin1.rules:1:" in err and "[bad-encoding]" in err and "Traceback" not in err
    code, _, err = run(capsys, "missing.rules")
    assert code == 2
    assert err == "hpdsl fmt: error: no such file or folder: `missing.rules`\n"
    (folder / "empty").mkdir()
    code, _, err = run(capsys, "empty")
    assert code == 2
    assert "no .rules files in `empty`" in err


def test_standard_input_to_standard_output(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def stdin(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    stdin(b"program  P\ninput a:C\nend\n")
    assert cli.main(["fmt", "-"]) == 0
    stdout.flush()
    assert stdout.buffer.getvalue() == b"program P\n    input a: C\nend\n"  # type: ignore[attr-defined]

    stdin(b"program P\n  x = = 1\nend\n")
    assert cli.main(["fmt", "--check", "--stdin-filename", "editor.rules", "-"]) == 1
    assert "editor.rules:2:" in capsys.readouterr().err


def test_standard_input_cannot_be_mixed_with_paths(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "-", "pkg")[0] == 2
    assert run(capsys, "--stdin-filename", "x.rules", "pkg")[0] == 2


def test_the_complete_examples_of_docs_fmt_are_in_the_canonical_layout() -> None:
    docs = (RULES.parent / "docs" / "fmt.md").read_text(encoding="utf-8")
    examples = re.findall(r"```rules\n(.*?)```", docs, re.S)
    complete = [text for text in examples if format_text(text).text is not None]
    assert len(complete) >= 3
    for text in complete:
        assert format_text(text).text == text


def test_text_that_is_not_rules_text_gives_the_diagnostic_of_check() -> None:
    result = format_text("program P\x00\nend\n", "odd.rules")
    assert result.text is None
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("bad-encoding", 1)]
