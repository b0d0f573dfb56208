"""How a name of the rules is written in Structured Text: the words IEC 61131-3 reserves, the
longest identifier strict IEC tools take, and the identifier the generator tries first.

The Structured Text generator (hpdsl.codegen) names everything with these; `hpdsl check` reads
them to tell, before any compile, which names the PLC code will show differently.

May import: the standard library only.
"""

from __future__ import annotations

import hashlib
import re

# Strict IEC tools count this many significant characters in an identifier (the `iec` and
# `plcopen` dialects); CODESYS takes any length, Siemens 128.
IEC_IDENTIFIER_LIMIT = 31


# Keywords of IEC 61131-3 (2nd and 3rd edition) and the names of its standard data types,
# functions and function blocks: none may name a variable, in any dialect.
IEC_RESERVED = frozenset(
    [
        "ACTION",
        "ANY",
        "ANY_BIT",
        "ANY_DATE",
        "ANY_DERIVED",
        "ANY_ELEMENTARY",
        "ANY_INT",
        "ANY_MAGNITUDE",
        "ANY_NUM",
        "ANY_REAL",
        "ANY_STRING",
        "ARRAY",
        "AT",
        "BOOL",
        "BY",
        "BYTE",
        "CASE",
        "CONFIGURATION",
        "CONSTANT",
        "DATE",
        "DATE_AND_TIME",
        "DINT",
        "DO",
        "DT",
        "DWORD",
        "ELSE",
        "ELSIF",
        "EN",
        "ENO",
        "END_ACTION",
        "END_CASE",
        "END_CONFIGURATION",
        "END_FOR",
        "END_FUNCTION",
        "END_FUNCTION_BLOCK",
        "END_IF",
        "END_PROGRAM",
        "END_REPEAT",
        "END_RESOURCE",
        "END_STEP",
        "END_STRUCT",
        "END_TRANSITION",
        "END_TYPE",
        "END_VAR",
        "END_WHILE",
        "EXIT",
        "FALSE",
        "FOR",
        "FROM",
        "FUNCTION",
        "FUNCTION_BLOCK",
        "F_EDGE",
        "IF",
        "INITIAL_STEP",
        "INT",
        "INTERVAL",
        "LINT",
        "LREAL",
        "LWORD",
        "NON_RETAIN",
        "OF",
        "ON",
        "OR",
        "PRIORITY",
        "PROGRAM",
        "READ_ONLY",
        "READ_WRITE",
        "REAL",
        "REPEAT",
        "RESOURCE",
        "RETAIN",
        "RETURN",
        "R_EDGE",
        "SINGLE",
        "SINT",
        "STEP",
        "STRING",
        "STRUCT",
        "TASK",
        "THEN",
        "TIME",
        "TIME_OF_DAY",
        "TO",
        "TOD",
        "TRANSITION",
        "TRUE",
        "TYPE",
        "UDINT",
        "UINT",
        "ULINT",
        "UNTIL",
        "USINT",
        "VAR",
        "VAR_ACCESS",
        "VAR_CONFIG",
        "VAR_EXTERNAL",
        "VAR_GLOBAL",
        "VAR_INPUT",
        "VAR_IN_OUT",
        "VAR_OUTPUT",
        "VAR_TEMP",
        "WHILE",
        "WITH",
        "WORD",
        "WSTRING",
        "XOR",
        "AND",
        "NOT",
        "MOD",
        "LTIME",
        "LDATE",
        "LTOD",
        "LDT",
        "CHAR",
        "WCHAR",
        "REF",
        "REF_TO",
        "NULL",
        "THIS",
        "SUPER",
        "METHOD",
        "END_METHOD",
        "INTERFACE",
        "END_INTERFACE",
        "EXTENDS",
        "IMPLEMENTS",
        "PUBLIC",
        "PRIVATE",
        "PROTECTED",
        "INTERNAL",
        "FINAL",
        "ABSTRACT",
        "OVERRIDE",
        "NAMESPACE",
        "END_NAMESPACE",
        "USING",
        "CONTINUE",
        "PROPERTY",
        "END_PROPERTY",
        "ABS",
        "SQRT",
        "LN",
        "LOG",
        "EXP",
        "SIN",
        "COS",
        "TAN",
        "ASIN",
        "ACOS",
        "ATAN",
        "ADD",
        "MUL",
        "SUB",
        "DIV",
        "MOVE",
        "EXPT",
        "SHL",
        "SHR",
        "ROR",
        "ROL",
        "GT",
        "GE",
        "EQ",
        "LE",
        "LT",
        "NE",
        "SEL",
        "MAX",
        "MIN",
        "LIMIT",
        "MUX",
        "LEN",
        "LEFT",
        "RIGHT",
        "MID",
        "CONCAT",
        "INSERT",
        "DELETE",
        "REPLACE",
        "FIND",
        "TRUNC",
        "ROUND",
        "SR",
        "RS",
        "SEMA",
        "R_TRIG",
        "F_TRIG",
        "CTU",
        "CTD",
        "CTUD",
        "TP",
        "TON",
        "TOF",
        "RTC",
        "HYSTERESIS",
        "RAMP",
        "INTEGRAL",
        "DERIVATIVE",
        "PID",
        "LAG",
        "DEAD_TIME",
        "ALARM",
        "ACK",
        "NOW",
        "INIT",
    ]
)


UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9_]")


def shortened(name: str, limit: int) -> str:
    """A name cut to `limit` characters, readably and the same way in every build: its start, then
    `_` and four hex digits of a hash of the whole name (`outdoor_air_too_warm_to_ec_0db9`).

    The hash keeps two long names that start alike apart without numbering them in the order
    they happen to be met, so a name does not change when another is added.
    """
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:4]
    return f"{name[: limit - 5].rstrip('_')}_{digest}"


def sanitized(wanted: str) -> str:
    """A name as ST takes it: characters it does not take made `_`, no doubled or outer `_`, no
    leading digit."""
    base = UNSAFE_CHARACTERS.sub("_", wanted)
    base = re.sub(r"_{2,}", "_", base).strip("_") or "value"
    return f"n_{base}" if base[0].isdigit() else base


def first_choice(wanted: str, limit: int | None = IEC_IDENTIFIER_LIMIT) -> str:
    """The identifier the generator tries first for a name: `sanitized`, cut to `limit`, and
    numbered (`_1`) when that is a reserved word. Another name already holding it numbers it
    further."""
    base = sanitized(wanted)
    candidate = shortened(base, limit) if limit and len(base) > limit else base
    if candidate.upper() in IEC_RESERVED:
        suffix = "_1"
        stem = base[: limit - len(suffix)] if limit else base
        candidate = f"{stem}{suffix}"
    return candidate
