"""An interpreter for the IEC 61131-3 Structured Text that hpdsl emits, strict like MATIEC.

`load(text)` parses ST with blark, checks it the way MATIEC (the strict 2nd-edition compiler behind
Beremiz and OpenPLC) does, and compiles every POU body once into a Python function. Function block
and program instances then run one scan per `Instance.call`; `StModule.call_function` calls a
FUNCTION. Nothing of the hpdsl compiler is used: only the ST text.

Executed subset:
- TYPE declarations (one per TYPE block) of enumerations `(A, B) := A`, structures with field
  initialisers, arrays, strings and aliases of elementary types;
- FUNCTION, FUNCTION_BLOCK and PROGRAM with VAR_INPUT, VAR_OUTPUT, VAR_IN_OUT, VAR, VAR CONSTANT,
  VAR RETAIN and VAR_TEMP, initialisers (constants, structure `(a := 1)` and array `[1, 2(0)]`);
- BOOL, SINT, INT, DINT, LINT, USINT, UINT, UDINT, ULINT, REAL, LREAL, STRING[n], enumerations,
  structures, ARRAY[lo..hi, ...] and function block instances;
- assignment, IF/ELSIF/ELSE, CASE on integers and enumerations (lists, ranges, ELSE), FOR, WHILE,
  REPEAT, EXIT, RETURN, function block calls with `x := e`, in-outs and `y => v`;
- the operators + - * / MOD, AND OR XOR NOT, = <> < <= > >=, unary minus and parentheses;
- the standard functions MAX, MIN, ABS, LIMIT, SEL, MOVE, TRUNC, SQRT, EXP, LN, LOG, SIN, COS, TAN,
  ASIN, ACOS, ATAN and the conversions <A>_TO_<B> among BOOL, the integer types, REAL and LREAL,
  called with positional or formal (`IN1 := a`) arguments.

Values seen from Python (`Instance.get`, `set`, `call`): BOOL is bool; the integer types are int;
REAL is a float rounded to IEEE single precision after every operation, conversion and store, LREAL
a float; STRING[n] is a str cut to n characters (n is 126 when not given, as in MATIEC); an
enumeration value is the member name as declared; a STRUCT is a `StStruct` (a dict keyed by
lower-case field names that accepts any case); an ARRAY is a `StArray` indexed with its declared
bounds; a function block instance is an `Instance`.

Semantics: function block state persists from call to call, and an input left out of a call keeps
its value; VAR_TEMP and function variables start from their initialisers on every call. Integer
`/` truncates toward zero and MOD takes the sign of the dividend (IN2 = 0 gives 0); integer division
by zero is a run-time error. Integer results are not wrapped: storing a value outside the range of
its type raises `StError` (so does an array index outside its bounds, and converting NaN or an
infinity to an integer). REAL and LREAL follow IEEE 754: division by zero gives an infinity or NaN,
every comparison with NaN is false except `<>`; a literal takes the type of the other operand, so
`r + 0.1` with a REAL r adds the single-precision 0.1. As in MATIEC's library: a real converts to
an integer rounding to the nearest, ties to even (its `__real_round`), and to 0 when negative for
an unsigned type; TRUNC rounds toward zero and takes its integer type from where it is used;
MAX keeps its first input unless it is `<` the next (MIN: `>`), LIMIT is
`IN > MN ? (IN < MX ? IN : MX) : MN`, ABS is `IN < 0 ? -IN : IN`, SEL(G, IN0, IN1) is
`G ? IN1 : IN0`; AND and OR are C's `&&` and `||`, which do not evaluate their right operand when
the left one decides. Aggregate inputs are copied; VAR_IN_OUT aggregates (and function block
instances) are bound by reference, scalar in-outs are copied in before a function block call and
back after it.

Rejected, as MATIEC rejects them, with one `name:line: what` line per problem (all problems are
reported, except that after a syntax error only the lexical ones are known): implicit conversions of
any kind (REAL/LREAL, real/integer, enumeration/integer, BOOL/number), an integer literal where a
REAL is expected, a literal out of its type's range; ordering operators on enumerations and BOOL,
enumeration members of another type, AND/OR/XOR/NOT on non-BOOL, non-BOOL conditions; unknown
identifiers, types and functions, wrong argument counts and names, a function called with no inputs
as `F()` or as a statement, writing a constant, an FB output or an FB-internal variable; types,
function blocks and functions used before their declaration, recursion; identifiers that are
keywords or standard function and function block names, contain `__`, end in `_`, repeat a name in
one scope, or name a type, function block or function; enumerations sharing a member, enumerations
with explicit values or a base type, anonymous enumerations and subranges; `//` and `/* */`
comments, nested `(* *)` comments and `{...}` pragmas; REAL literals such as `1.`, `.5`, `1e3` and
`REAL#2`; dotted enumeration literals `M.A` (typed `M#A` and bare `A` are accepted);
`END_FUNCTION_BLOCK;` and the like; a missing `;` after a statement or before END_TYPE, an empty
statement `;`, an empty THEN/ELSIF/ELSE/CASE/loop branch and a POU without a body statement;
3rd-edition conversions (`TO_REAL`), CONTINUE, AND_THEN, OR_ELSE, pointers and references, methods,
EXTENDS, located variables, R_EDGE/F_EDGE, VAR_EXTERNAL and CONFIGURATION.

Not executed, reported as not supported by stinterp: TIME and the other date and time types,
BYTE/WORD/DWORD/LWORD, WSTRING, the standard function blocks (TON, CTU, ...), the string functions,
VAR_OUTPUT and scalar VAR_IN_OUT in functions, arrays of function block instances.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
import operator
import re
import struct
from collections.abc import Callable, Iterator
from typing import Any

import lark
from blark import parse_source_code
from blark import transform as tf

__all__ = ["Instance", "StArray", "StError", "StModule", "StStruct", "load"]


class StError(Exception):
    """ST text that is rejected, or a run-time error; every message line starts with `name:line: `."""


class _Fault(Exception):
    """A run-time error inside generated code, turned into an `StError` by the API that ran it."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message


# ---------------------------------------------------------------------------------------------
# Names


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_KEYWORDS = _words(
    """ACTION END_ACTION ARRAY OF AT BY CASE END_CASE CONFIGURATION END_CONFIGURATION CONSTANT DO ELSE
    ELSIF EN ENO EXIT FALSE F_EDGE FOR END_FOR FROM FUNCTION END_FUNCTION FUNCTION_BLOCK
    END_FUNCTION_BLOCK IF THEN END_IF INITIAL_STEP INTERVAL NON_RETAIN NOT MOD AND OR XOR ON PRIORITY
    PROGRAM END_PROGRAM R_EDGE READ_ONLY READ_WRITE REPEAT UNTIL END_REPEAT RESOURCE END_RESOURCE
    RETAIN RETURN SINGLE STEP END_STEP STRUCT END_STRUCT TASK TO TRANSITION END_TRANSITION TRUE TYPE
    END_TYPE VAR END_VAR VAR_ACCESS VAR_CONFIG VAR_EXTERNAL VAR_GLOBAL VAR_INPUT VAR_IN_OUT VAR_OUTPUT
    VAR_TEMP WHILE END_WHILE WITH NULL REF_TO REF DREF"""
)
_TYPE_WORDS = _words(
    """BOOL SINT INT DINT LINT USINT UINT UDINT ULINT REAL LREAL TIME DATE TIME_OF_DAY TOD
    DATE_AND_TIME DT STRING WSTRING BYTE WORD DWORD LWORD LTIME ANY ANY_DERIVED ANY_ELEMENTARY
    ANY_MAGNITUDE ANY_NUM ANY_REAL ANY_INT ANY_BIT ANY_STRING ANY_DATE"""
)
_STD_FUNCTIONS = _words(
    """ABS SQRT LN LOG EXP SIN COS TAN ASIN ACOS ATAN ADD MUL SUB DIV MOD EXPT MOVE SHL SHR ROR ROL
    AND OR XOR NOT SEL MAX MIN LIMIT MUX GT GE EQ LE LT NE LEN LEFT RIGHT MID CONCAT INSERT DELETE
    REPLACE FIND TRUNC ADD_TIME SUB_TIME MULTIME DIVTIME ADD_TOD_TIME ADD_DT_TIME SUB_DATE_DATE
    SUB_TOD_TIME SUB_TOD_TOD SUB_DT_TIME SUB_DT_DT CONCAT_DATE_TOD"""
)
_STD_FBS = _words(
    "SR RS SEMA R_TRIG F_TRIG CTU CTD CTUD TP TON TOF RTC INTEGRAL DERIVATIVE PID RAMP HYSTERESIS"
)
_CONVERSION_NAME = re.compile(
    r"(BOOL|BYTE|WORD|DWORD|LWORD|SINT|INT|DINT|LINT|USINT|UINT|UDINT|ULINT|REAL|LREAL|TIME|DATE|TOD|DT"
    r"|TIME_OF_DAY|DATE_AND_TIME|STRING|WSTRING|BCD)_TO_(BOOL|BYTE|WORD|DWORD|LWORD|SINT|INT|DINT|LINT"
    r"|USINT|UINT|UDINT|ULINT|REAL|LREAL|TIME|DATE|TOD|DT|TIME_OF_DAY|DATE_AND_TIME|STRING|WSTRING|BCD)"
)
_EDITION3_CONVERSION = re.compile(
    r"TO_(BOOL|BYTE|WORD|DWORD|LWORD|SINT|INT|DINT|LINT|USINT|UINT|UDINT|ULINT|REAL|LREAL|TIME|DATE|TOD"
    r"|DT|STRING|WSTRING|LTIME)"
)
_TIME_PREFIXES = _words("T TIME D DATE TOD TIME_OF_DAY DT DATE_AND_TIME LTIME LT LDATE LTOD LDT")


def _reserved(name: str) -> str | None:
    """What makes `name` unusable as an identifier, or None."""
    up = name.upper()
    if up in _KEYWORDS:
        return "is a keyword"
    if up in _TYPE_WORDS:
        return "is the name of an elementary type"
    if up in _STD_FUNCTIONS or _CONVERSION_NAME.fullmatch(up):
        return "is the name of a standard function"
    if up in _STD_FBS:
        return "is the name of a standard function block"
    if "__" in name:
        return "contains '__'"
    if name.endswith("_"):
        return "ends with '_'"
    return None


# ---------------------------------------------------------------------------------------------
# Types


class _Type:
    """A data type; `kind` is bool, int, real, string, enum, struct, array, fb, function, anyint,
    anyreal or error, and the subclass of each kind sets the attributes declared here for it."""

    __slots__ = ("kind", "name")
    lo: int  # int
    hi: int  # int
    length: int  # string
    members: list[str]  # enum
    index: dict[str, str]  # enum
    default: str  # enum
    fields: dict[str, _Var]  # struct
    dims: list[tuple[int, int]]  # array
    elem: _Type  # array
    size: int  # array
    strides: tuple[int, ...]  # array
    vars: dict[str, _Var]  # fb, function

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name

    def __str__(self) -> str:
        return self.name


class _Elem(_Type):
    __slots__ = ("hi", "lo")

    def __init__(self, kind: str, name: str, lo: int = 0, hi: int = 0) -> None:
        super().__init__(kind, name)
        self.lo = lo
        self.hi = hi


class _String(_Type):
    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        super().__init__("string", f"STRING[{length}]")
        self.length = length


class _Enum(_Type):
    __slots__ = ("default", "index", "members")

    def __init__(self, name: str, members: list[str], default: str) -> None:
        super().__init__("enum", name)
        self.members = members
        self.index = {m.lower(): m for m in members}
        self.default = default


class _Struct(_Type):
    __slots__ = ("fields",)

    def __init__(self, name: str) -> None:
        super().__init__("struct", name)
        self.fields: dict[str, _Var] = {}


class _Array(_Type):
    __slots__ = ("dims", "elem", "size", "strides")

    def __init__(self, dims: list[tuple[int, int]], elem: _Type) -> None:
        bounds = ", ".join(f"{lo}..{hi}" for lo, hi in dims)
        super().__init__("array", f"ARRAY[{bounds}] OF {elem}")
        self.dims = dims
        self.elem = elem
        strides = []
        size = 1
        for lo, hi in reversed(dims):
            strides.append(size)
            size *= hi - lo + 1
        self.size = size
        self.strides = tuple(reversed(strides))


def _int_type(name: str, bits: int, signed: bool) -> _Elem:
    if signed:
        return _Elem("int", name, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return _Elem("int", name, 0, (1 << bits) - 1)


BOOL = _Elem("bool", "BOOL")
REAL = _Elem("real", "REAL")
LREAL = _Elem("real", "LREAL")
_ELEMENTARY: dict[str, _Elem] = {
    "BOOL": BOOL,
    "SINT": _int_type("SINT", 8, True),
    "INT": _int_type("INT", 16, True),
    "DINT": _int_type("DINT", 32, True),
    "LINT": _int_type("LINT", 64, True),
    "USINT": _int_type("USINT", 8, False),
    "UINT": _int_type("UINT", 16, False),
    "UDINT": _int_type("UDINT", 32, False),
    "ULINT": _int_type("ULINT", 64, False),
    "REAL": REAL,
    "LREAL": LREAL,
}
DINT = _ELEMENTARY["DINT"]
_ANY_INT = _Type("anyint", "ANY_INT")
_ANY_REAL = _Type("anyreal", "ANY_REAL")
_ERR = _Type("error", "<error>")
_NUMERIC = frozenset({"int", "real", "anyint", "anyreal"})
_AGGREGATE = frozenset({"struct", "array"})
_DEFAULT_STRING_LENGTH = 126


def _unify(a: _Type, b: _Type) -> _Type | None:
    """The common type of two operands, or None when they do not mix."""
    if a is b:
        return a
    if a is _ERR or b is _ERR:
        return _ERR
    ka, kb = a.kind, b.kind
    if ka == "anyint" and kb == "int":
        return b
    if kb == "anyint" and ka == "int":
        return a
    if ka == "anyreal" and kb == "real":
        return b
    if kb == "anyreal" and ka == "real":
        return a
    if ka == kb == "string":
        return a if a.length >= b.length else b
    if ka == kb == "array" and a.name == b.name:
        return a
    return None


@dataclasses.dataclass(eq=False)
class _Var:
    name: str
    key: str
    type: _Type
    section: str  # input, output, inout, var, temp, return, field
    line: int
    make: Callable[[], Any]
    constant: bool = False
    value: Any = None  # the initial value of a scalar


class _Pou(_Type):
    __slots__ = ("line", "mname", "number", "order", "params", "pos", "ret", "run", "vars")

    def __init__(self, kind: str, name: str, mname: str, number: int, line: int, pos: int) -> None:
        super().__init__("fb" if kind != "function" else "function", name)
        self.mname = mname
        self.number = number
        self.line = line
        self.pos = pos
        self.vars: dict[str, _Var] = {}
        self.order: list[_Var] = []
        self.params: list[_Var] = []
        self.ret: _Type = _ERR
        self.run: Callable[..., Any] = _never

    @property
    def is_program(self) -> bool:
        return self.name.startswith("PROGRAM ")

    def new_vars(self) -> dict[str, Any]:
        return {var.key: var.make() for var in self.order}


def _never(*_args: Any) -> Any:
    raise StError("the ST text was rejected; nothing of it can run")


# ---------------------------------------------------------------------------------------------
# Values and run-time helpers


class StStruct(dict[str, Any]):
    """A STRUCT value: a dict from lower-case field names to values that also accepts any case."""

    __slots__ = ("st_type",)

    def __init__(self, st_type: _Struct, items: Any = ()) -> None:
        dict.__init__(self, items)
        self.st_type = st_type

    def __missing__(self, key: Any) -> Any:
        if isinstance(key, str):
            low = key.lower()
            if low != key and dict.__contains__(self, low):
                return dict.__getitem__(self, low)
        raise KeyError(key)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.items())
        return f"{self.st_type.name}({inner})"


class StArray:
    """An ARRAY value indexed with its declared bounds (`a[lo]` .. `a[hi]`, `a[i, j]`)."""

    __slots__ = ("items", "st_type")

    def __init__(self, st_type: _Array, items: list[Any]) -> None:
        self.st_type = st_type
        self.items = items

    @property
    def bounds(self) -> list[tuple[int, int]]:
        """The declared (low, high) bounds of each dimension."""
        return list(self.st_type.dims)

    def _flat(self, index: Any) -> int:
        indices = index if isinstance(index, tuple) else (index,)
        dims = self.st_type.dims
        if len(indices) != len(dims):
            raise IndexError(f"{self.st_type} needs {len(dims)} indices, got {len(indices)}")
        flat = 0
        for i, (lo, hi), stride in zip(indices, dims, self.st_type.strides, strict=True):
            if not isinstance(i, int) or not lo <= i <= hi:
                raise IndexError(f"index {i!r} is outside {lo}..{hi}")
            flat += (i - lo) * stride
        return flat

    def __getitem__(self, index: Any) -> Any:
        return self.items[self._flat(index)]

    def __setitem__(self, index: Any, value: Any) -> None:
        flat = self._flat(index)
        elem = self.st_type.elem
        if elem.kind in _AGGREGATE:
            _assign_py(self.items[flat], elem, value, "array element")
        else:
            self.items[flat] = _from_py(elem, value, "array element")

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StArray):
            return self.items == other.items
        if isinstance(other, (list, tuple)):
            return self.items == list(other)
        return NotImplemented

    def tolist(self) -> list[Any]:
        """The elements in index order (the last index varies fastest)."""
        return list(self.items)

    def __repr__(self) -> str:
        return f"StArray({self.st_type}, {self.items!r})"


_F32 = struct.Struct("<f")
_pack: Callable[[float], bytes] = _F32.pack
_unpack: Callable[[bytes], tuple[float]] = _F32.unpack


def _f32(x: float) -> float:
    try:
        return _unpack(_pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _fdiv(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _idiv(a: int, b: int, line: int) -> int:
    if b == 0:
        raise _Fault(line, "integer division by zero")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _imod(a: int, b: int) -> int:
    if b == 0:
        return 0
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _ovf(value: int, tname: str, line: int) -> None:
    raise _Fault(line, f"{tname} overflow: {value} is outside the range of {tname}")


def _ck(value: int, lo: int, hi: int, tname: str, line: int) -> int:
    if lo <= value <= hi:
        return value
    raise _Fault(line, f"{tname} overflow: {value} is outside the range of {tname}")


def _bx(i: int, lo: int, hi: int, line: int) -> int:
    if lo <= i <= hi:
        return i - lo
    raise _Fault(line, f"array index {i} is outside the bounds {lo}..{hi}")


def _bxn(
    indices: tuple[int, ...], dims: tuple[tuple[int, int], ...], strides: tuple[int, ...], line: int
) -> int:
    flat = 0
    for i, (lo, hi), stride in zip(indices, dims, strides, strict=True):
        if not lo <= i <= hi:
            raise _Fault(line, f"array index {i} is outside the bounds {lo}..{hi}")
        flat += (i - lo) * stride
    return flat


def _max(first: Any, *rest: Any) -> Any:
    result = first
    for b in rest:
        result = b if result < b else result
    return result


def _min(first: Any, *rest: Any) -> Any:
    result = first
    for b in rest:
        result = b if result > b else result
    return result


def _limit(mn: Any, x: Any, mx: Any) -> Any:
    return (x if x < mx else mx) if x > mn else mn


def _abs(x: Any) -> Any:
    return -x if x < 0 else x


def _trunc(x: float, line: int) -> int:
    if x != x or x in (math.inf, -math.inf):
        raise _Fault(line, f"TRUNC of {x}")
    return int(x)


def _round(x: float, line: int) -> int:
    if x != x or x in (math.inf, -math.inf):
        raise _Fault(line, f"cannot convert {x} to an integer")
    return round(x)


def _round_unsigned(x: float, line: int) -> int:
    return _round(x, line) if x >= 0.0 else 0


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


def _ln(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def _log(x: float) -> float:
    if x > 0.0:
        return math.log10(x)
    return -math.inf if x == 0.0 else math.nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _ieee(fn: Callable[[float], float]) -> Callable[[float], float]:
    def wrapped(x: float) -> float:
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return math.nan

    return wrapped


_MATH: dict[str, Callable[[float], float]] = {
    "SQRT": _sqrt,
    "EXP": _exp,
    "LN": _ln,
    "LOG": _log,
    "SIN": _ieee(math.sin),
    "COS": _ieee(math.cos),
    "TAN": _ieee(math.tan),
    "ASIN": _ieee(math.asin),
    "ACOS": _ieee(math.acos),
    "ATAN": _ieee(math.atan),
}


def _clone(value: Any) -> Any:
    if type(value) is StStruct:
        return StStruct(value.st_type, [(k, _clone(v)) for k, v in value.items()])
    if type(value) is StArray:
        return StArray(value.st_type, [_clone(v) for v in value.items])
    return value


def _copy_into(dst: Any, src: Any) -> None:
    if dst is src:
        return
    if type(dst) is StStruct:
        for k, v in src.items():
            if type(v) is StStruct or type(v) is StArray:
                _copy_into(dst[k], v)
            else:
                dst[k] = v
    elif dst.st_type.elem.kind in _AGGREGATE:
        for d, s in zip(dst.items, src.items, strict=True):
            _copy_into(d, s)
    else:
        dst.items[:] = src.items


def _default(t: _Type) -> Any:
    if isinstance(t, _Struct):
        return StStruct(t, [(k, f.make()) for k, f in t.fields.items()])
    if isinstance(t, _Array):
        return StArray(t, [_default(t.elem) for _ in range(t.size)])
    if isinstance(t, _Pou):
        return Instance(t, t.new_vars())
    if isinstance(t, _Enum):
        return t.default
    return {"bool": False, "int": 0, "real": 0.0, "string": ""}.get(t.kind)


def _from_py(t: _Type, value: Any, what: str) -> Any:
    """`value` from Python as a value of type `t` (a new object for aggregates)."""
    kind = t.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{what}: BOOL needs a bool, got {value!r}")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{what}: {t} needs an int, got {value!r}")
        if not t.lo <= value <= t.hi:
            raise ValueError(f"{what}: {value} is outside the range of {t}")
        return value
    if kind == "real":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"{what}: {t} needs a float, got {value!r}")
        return _f32(float(value)) if t is REAL else float(value)
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(f"{what}: {t} needs a str, got {value!r}")
        return value[: t.length]
    if kind == "enum":
        if not isinstance(value, str):
            raise TypeError(f"{what}: {t} needs a member name, got {value!r}")
        member = t.index.get(value.lower())
        if member is None:
            raise ValueError(f"{what}: {value!r} is not a member of {t} ({', '.join(t.members)})")
        return member
    if kind == "struct":
        if isinstance(value, StStruct) and value.st_type is t:
            return _clone(value)
        if isinstance(value, dict):
            result = _default(t)
            for k, v in value.items():
                field = t.fields.get(str(k).lower())
                if field is None:
                    raise KeyError(f"{what}: {t} has no field {k!r}")
                result[field.key] = _from_py(field.type, v, f"{what}.{k}")
            return result
        raise TypeError(f"{what}: {t} needs a dict or StStruct, got {value!r}")
    if kind == "array":
        if isinstance(value, StArray) and value.st_type.name == t.name:
            return _clone(value)
        if isinstance(t, _Array) and isinstance(value, (list, tuple)) and len(value) == t.size:
            return StArray(t, [_from_py(t.elem, v, f"{what}[]") for v in value])
        raise TypeError(f"{what}: {t} needs a StArray or a list of {t.size} values")
    raise TypeError(f"{what}: a value of {t} cannot be set from Python")


def _assign_py(target: Any, t: _Type, value: Any, what: str) -> None:
    """Store `value` from Python into the aggregate `target`; a dict sets only the fields it names."""
    if t.kind == "struct" and isinstance(value, dict) and not isinstance(value, StStruct):
        for k, v in value.items():
            field = t.fields.get(str(k).lower())
            if field is None:
                raise KeyError(f"{what}: {t} has no field {k!r}")
            if field.type.kind in _AGGREGATE:
                _assign_py(target[field.key], field.type, v, f"{what}.{k}")
            else:
                target[field.key] = _from_py(field.type, v, f"{what}.{k}")
    else:
        _copy_into(target, _from_py(t, value, what))


_RUNTIME: dict[str, Any] = {
    "_f32": _f32,
    "_fdiv": _fdiv,
    "_idiv": _idiv,
    "_imod": _imod,
    "_ovf": _ovf,
    "_ck": _ck,
    "_bx": _bx,
    "_bxn": _bxn,
    "_max": _max,
    "_min": _min,
    "_limit": _limit,
    "_trunc": _trunc,
    "_round": _round,
    "_round_unsigned": _round_unsigned,
    "_abs": _abs,
    "_clone": _clone,
    "_copy_into": _copy_into,
    "_inf": math.inf,
    "_nan": math.nan,
    **{f"_m_{name}": fn for name, fn in _MATH.items()},
}


def _lit(value: Any) -> str:
    """Python source for a constant."""
    if isinstance(value, float):
        if value != value:
            return "_nan"
        if value in (math.inf, -math.inf):
            return "_inf" if value > 0 else "(-_inf)"
        return repr(value) if value >= 0 and math.copysign(1.0, value) > 0 else f"({value!r})"
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return f"({value})"
    return repr(value)


# ---------------------------------------------------------------------------------------------
# Instances and modules


class Instance:
    """A FUNCTION_BLOCK or PROGRAM instance; its variables keep their values from call to call."""

    __slots__ = ("pou", "v")

    def __init__(self, pou: _Pou, v: dict[str, Any]) -> None:
        self.pou = pou
        self.v = v

    def call(self, **inputs: Any) -> Instance:
        """Set VAR_INPUT (and bind VAR_IN_OUT) variables by keyword, then run the body once."""
        for name, value in inputs.items():
            var = self.pou.vars.get(name.lower())
            if var is None or var.section not in ("input", "inout"):
                raise KeyError(f"{self.pou.name} has no VAR_INPUT or VAR_IN_OUT {name!r}")
            self._store(var, value, name)
        try:
            self.pou.run(self.v)
        except _Fault as fault:
            raise StError(f"{self.pou.mname}:{fault.line}: {fault.message}") from None
        return self

    def _store(self, var: _Var, value: Any, what: str) -> None:
        if var.type.kind == "fb":
            if var.section == "inout" and isinstance(value, Instance) and value.pou is var.type:
                self.v[var.key] = value
                return
            raise TypeError(f"{what}: a function block instance can only be bound to a VAR_IN_OUT")
        if var.type.kind in _AGGREGATE:
            if var.section == "inout":
                if isinstance(value, (StStruct, StArray)) and value.st_type.name == var.type.name:
                    self.v[var.key] = value
                    return
                raise TypeError(
                    f"{what}: VAR_IN_OUT {var.name} is bound by reference to a {var.type} value "
                    "(take one from StModule.new_value or Instance.get)"
                )
            _assign_py(self.v[var.key], var.type, value, what)
            return
        self.v[var.key] = _from_py(var.type, value, what)

    def _walk(self, path: str) -> tuple[Any, Any, _Type, _Var | None]:
        """(container, key, type, variable) of the last step of `path`."""
        steps = _parse_path(path)
        holder: Any = self
        t: _Type = self.pou
        key: Any = None
        var: _Var | None = None
        for i, (kind, step) in enumerate(steps):
            if i:
                holder = _get(holder, key)
            if kind == "name":
                if isinstance(holder, Instance):
                    var = holder.pou.vars.get(step.lower())
                    if var is None:
                        raise KeyError(f"{path}: {holder.pou.name} has no variable {step!r}")
                    t, key = var.type, var.key
                elif isinstance(holder, StStruct):
                    var = holder.st_type.fields.get(step.lower())
                    if var is None:
                        raise KeyError(f"{path}: {holder.st_type} has no field {step!r}")
                    t, key = var.type, var.key
                else:
                    raise KeyError(f"{path}: {step!r} selected from a {t}")
            else:
                if not isinstance(holder, StArray):
                    raise KeyError(f"{path}: {t} is not an array")
                key = holder._flat(step if len(step) > 1 else step[0])
                t = holder.st_type.elem
                var = None
        return holder, key, t, var

    def get(self, path: str) -> Any:
        """The value of a variable; `a.b`, `arr[3].f` and `m[1, 2]` reach into instances and aggregates."""
        holder, key, _t, _var = self._walk(path)
        return _get(holder, key)

    def set(self, path: str, value: Any) -> None:
        """Set a variable (any section) or a part of it, converted to its declared type."""
        holder, key, t, var = self._walk(path)
        if isinstance(holder, Instance) and var is not None:
            holder._store(var, value, path)
        elif t.kind in _AGGREGATE:
            _assign_py(_get(holder, key), t, value, path)
        elif isinstance(holder, StArray):
            holder.items[key] = _from_py(t, value, path)
        else:
            holder[key] = _from_py(t, value, path)

    def __repr__(self) -> str:
        return f"<Instance of {self.pou.name}>"


def _get(holder: Any, key: Any) -> Any:
    if isinstance(holder, Instance):
        return holder.v[key]
    if isinstance(holder, StArray):
        return holder.items[key]
    return holder[key]


_PATH_STEP = re.compile(r"\s*(?:(?P<dot>\.)?\s*(?P<name>[A-Za-z_]\w*)|\[(?P<index>[^\]]*)\])")


def _parse_path(path: str) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(path.rstrip()):
        m = _PATH_STEP.match(path, pos)
        if m is None or (steps and m.group("name") and not m.group("dot")) or (not steps and m.group("dot")):
            raise KeyError(f"bad variable path {path!r}")
        if m.group("name"):
            steps.append(("name", m.group("name")))
        else:
            try:
                steps.append(("index", tuple(int(p) for p in m.group("index").split(","))))
            except ValueError:
                raise KeyError(f"bad index in {path!r}") from None
        pos = m.end()
    if not steps or steps[0][0] != "name":
        raise KeyError(f"bad variable path {path!r}")
    return steps


class StModule:
    """A loaded ST text: its types, function blocks, programs and functions, ready to run."""

    def __init__(self, name: str, pous: dict[str, _Pou], types: dict[str, tuple[_Type, Callable[[], Any]]]):
        self.name = name
        self._pous = pous
        self._types = types

    @property
    def pou_names(self) -> list[str]:
        """The declared FUNCTION, FUNCTION_BLOCK and PROGRAM names."""
        return [pou.name.split(" ", 1)[1] for pou in self._pous.values()]

    def _pou(self, name: str) -> _Pou:
        pou = self._pous.get(name.lower())
        if pou is None:
            raise KeyError(f"{self.name} declares no POU {name!r}")
        return pou

    def instantiate(self, pou_name: str) -> Instance:
        """A fresh instance of a FUNCTION_BLOCK or PROGRAM, every variable at its initial value."""
        pou = self._pou(pou_name)
        if pou.kind != "fb":
            raise KeyError(f"{pou.name} is not a function block or program")
        return Instance(pou, pou.new_vars())

    def call_function(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call a FUNCTION with its inputs in declaration order (or by keyword); returns its result."""
        pou = self._pou(name)
        if pou.kind != "function":
            raise KeyError(f"{pou.name} is not a function")
        if len(args) > len(pou.params):
            raise TypeError(f"{pou.name} takes {len(pou.params)} inputs, got {len(args)}")
        given: dict[str, Any] = {p.key: a for p, a in zip(pou.params, args, strict=False)}
        for k, value in kwargs.items():
            if k.lower() in given or k.lower() not in {p.key for p in pou.params}:
                raise TypeError(f"{pou.name}: unexpected or repeated input {k!r}")
            given[k.lower()] = value
        values = []
        for p in pou.params:
            if p.key not in given:
                values.append(p.make())
            elif p.section == "inout":
                value = given[p.key]
                if not (isinstance(value, (StStruct, StArray)) and value.st_type.name == p.type.name):
                    raise TypeError(f"{p.name}: VAR_IN_OUT needs a {p.type} value from this module")
                values.append(value)
            else:
                values.append(_from_py(p.type, given[p.key], p.name))
        try:
            return pou.run(*values)
        except _Fault as fault:
            raise StError(f"{self.name}:{fault.line}: {fault.message}") from None

    def new_value(self, type_name: str) -> Any:
        """A new value of a declared TYPE (or elementary type) at its initial value."""
        entry = self._types.get(type_name.lower())
        if entry is not None:
            return entry[1]()
        elem = _ELEMENTARY.get(type_name.upper())
        if elem is None:
            raise KeyError(f"{self.name} declares no type {type_name!r}")
        return _default(elem)


# ---------------------------------------------------------------------------------------------
# Lexical pass over the raw text


_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>\(\*)
    |(?P<slashes>//)
    |(?P<cblock>/\*)
    |(?P<pragma>\{)
    |(?P<string>'(?:\$.|[^'$\n])*'|"(?:\$.|[^"$\n])*")
    |(?P<based>\d+\#[0-9A-Za-z_]+)
    |(?P<address>%[A-Za-z]*[\d.*]*)
    |(?P<number>\d[\d_]*(?P<dot>\.(?!\.)(?P<frac>\d[\d_]*)?)?(?P<exp>[eE][+-]?\d+)?)
    |(?P<ident>[A-Za-z_]\w*)
    |(?P<op>\.\.|:=|=>|<=|>=|<>|\*\*|.)""",
    re.X | re.S,
)
_TOP = ("ws", "comment", "slashes", "cblock", "pragma", "string", "based", "address", "number", "ident", "op")
_END_POU = frozenset({"END_FUNCTION_BLOCK", "END_FUNCTION", "END_PROGRAM"})
_BEFORE_EMPTY = frozenset({";", ":", "THEN", "ELSE", "DO", "OF", "REPEAT", "END_VAR"})


@dataclasses.dataclass
class _Scan:
    text: str  # the text given to blark: typed enumeration literals M#A written M.A
    errors: list[tuple[int, str]]
    typed_enum_dots: set[int]
    reserved_names: set[int]


class _Lines:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos)


def _scan(raw: str, lines: _Lines) -> _Scan:
    errors: list[tuple[int, str]] = []
    dots: set[int] = set()
    reserved: set[int] = set()
    declared: list[tuple[str, int]] = []  # identifiers of a list `a, b` that a ':' may follow
    chars = list(raw)
    previous = ""  # the previous significant token, upper case
    pos = 0
    n = len(raw)

    def error(at: int, message: str) -> None:
        errors.append((lines.line(at), message))

    while pos < n:
        m = _TOKEN.match(raw, pos)
        assert m is not None
        kind = next(k for k in _TOP if m.start(k) != -1)
        text = m.group(kind)
        end = m.end()
        if kind == "ws":
            pos = end
            continue
        if kind == "comment":
            close = raw.find("*)", pos + 2)
            inner = raw.find("(*", pos + 2)
            if close < 0:
                error(pos, "unterminated (* comment")
                break
            if 0 <= inner < close:
                error(inner, "nested (* *) comment (MATIEC only accepts them with a flag)")
            pos = close + 2
            continue
        if kind == "slashes":
            error(pos, "'//' comment: IEC 61131-3 (2nd edition) only has (* *) comments")
            nl = raw.find("\n", pos)
            pos = n if nl < 0 else nl
            continue
        if kind == "cblock":
            error(pos, "'/* */' comment: IEC 61131-3 (2nd edition) only has (* *) comments")
            close = raw.find("*/", pos + 2)
            pos = n if close < 0 else close + 2
            continue
        if kind == "pragma":
            error(pos, "'{...}' pragma: MATIEC copies it into the C output and breaks the build")
            close = raw.find("}", pos + 1)
            pos = n if close < 0 else close + 1
            continue
        if kind == "number":
            if m.group("dot") and not m.group("frac"):
                error(pos, f"REAL literal '{text}' needs a digit after the dot (write {text}0)")
            elif m.group("exp") and not m.group("dot"):
                error(pos, f"REAL literal '{text}' needs a dot with digits on both sides (e.g. 1.0E3)")
        elif kind == "ident":
            up = text.upper()
            if previous != "," or not declared:
                declared = []
            declared.append((text, pos))
            if up == "CONFIGURATION":
                error(pos, "CONFIGURATION is not supported (blark cannot parse it)")
            elif up == "END_TYPE" and previous != ";":
                error(pos, "missing ';' before END_TYPE")
            if end < n and raw[end] == "#":
                if up in ("REAL", "LREAL"):
                    lit = _TOKEN.match(raw, end + 1)
                    if lit is not None and lit.group("number") is not None and not lit.group("dot"):
                        number = lit.group("number")
                        error(pos, f"'{text}#{number}': a REAL literal needs a dot (write {text}#{number}.0)")
                elif up not in _ELEMENTARY and up not in _TIME_PREFIXES and end + 1 < n:
                    nxt = raw[end + 1]
                    if nxt.isalpha() or nxt == "_":
                        chars[end] = "."
                        dots.add(end)
        if kind != "ident" and text != ",":
            if text == ":":
                for name, at in declared:
                    problem = _reserved(name)
                    if problem:
                        error(at, f"identifier '{name}' {problem}")
                        reserved.add(at)
            declared = []
        if kind == "op":
            if text == "." and end < n and raw[end].isdigit():
                error(pos, "REAL literal needs a digit before the dot (write 0.5, not .5)")
            elif text == ";":
                if previous in _END_POU:
                    error(pos, f"'{previous};': no semicolon after {previous}")
                elif previous in _BEFORE_EMPTY:
                    error(pos, "empty statement (a lone ';'): MATIEC rejects it")
            elif text == "'":
                error(pos, "unterminated string literal")
        previous = text.upper()
        pos = end
    return _Scan("".join(chars), errors, dots, reserved)


def parse(text: str) -> Any:
    """blark's parse tree of `text` (transformed), cached: the same text is parsed once per process."""
    tree, error = _parse(text)
    if error is not None:
        line, column, what = error
        raise StError(f"<st>:{line}: {what} (column {column})")
    return tree


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> tuple[Any, tuple[int, int, str] | None]:
    """Parsed once per test session, however many processes run the tests (see `_session_cache`).

    Small texts (a snippet, the golden program) take less time to parse than to share.
    """
    if len(text) < 20_000:
        return _parse_now(text)
    return _session_cache(text, _parse_now)


def session_cache_folder() -> str:
    """Where this test session shares parse trees: one folder per session, removed at its end."""
    import os
    import tempfile

    session = os.environ.get("HPDSL_TEST_SESSION") or f"pid{os.getpid()}"  # set by conftest.py
    return os.path.join(tempfile.gettempdir(), f"hpdsl-blark-{session}")


def _session_cache(text: str, parse: Callable[[str], Any]) -> Any:
    """`parse(text)`, computed by one process of the test session and shared through a file.

    blark's Earley parser needs about a minute for the shipped package; with the tests spread
    over processes (pytest-xdist), the first process to need a text parses it while holding a
    lock on its cache file, and the others wait and read the result. The cache lives in the
    system's temporary folder, in a folder of the session's own (`session_cache_folder`), under
    the text's hash; the session removes it when it ends.
    """
    import fcntl
    import hashlib
    import os
    import pickle

    folder = session_cache_folder()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, hashlib.sha256(text.encode("utf-8")).hexdigest())
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.path.exists(path):
                with open(path, "rb") as cached:
                    return pickle.load(cached)
            value = parse(text)
            with open(path + ".new", "wb") as fresh:
                pickle.dump(value, fresh)
            os.replace(path + ".new", path)
            return value
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _parse_now(text: str) -> tuple[Any, tuple[int, int, str] | None]:
    result = parse_source_code(text)
    exc = result.exception
    if exc is None:
        return result.transform(), None
    line = getattr(exc, "line", -1)
    column = getattr(exc, "column", -1)
    if isinstance(exc, lark.UnexpectedCharacters):
        what = f"unexpected {exc.char!r}"
    elif isinstance(exc, lark.UnexpectedToken):
        what = f"unexpected {str(exc.token)!r}"
    elif isinstance(exc, lark.UnexpectedEOF):
        what = "unexpected end of text"
    else:
        what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not isinstance(line, int) or line < 1:
        line = text.count("\n") + 1
    return None, (line, column, what)


# ---------------------------------------------------------------------------------------------
# Checking and compiling


_NC = object()  # "not a constant"


class _E:
    """A compiled expression: Python source, its type, its value if constant, whether an integer
    result may be out of range, and whether it names a variable."""

    __slots__ = ("code", "const", "ref", "rng", "type")

    def __init__(self, code: str, t: _Type, const: Any = _NC, rng: bool = False, ref: bool = False) -> None:
        self.code = code
        self.type = t
        self.const = const
        self.rng = rng
        self.ref = ref


def _const_e(value: Any, t: _Type) -> _E:
    return _E(_lit(value), t, value)


_BAD = _E("None", _ERR)


def _line_of(node: Any) -> int:
    meta = getattr(node, "meta", None)
    if meta is not None and getattr(meta, "line", None):
        return int(meta.line)
    if isinstance(node, lark.Token):
        return node.line or 0
    if isinstance(node, list):
        for item in node:
            line = _line_of(item)
            if line:
                return line
        return 0
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "meta":
                line = _line_of(getattr(node, f.name))
                if line:
                    return line
    return 0


def _describe(e: _E) -> str:
    if e.type is _ANY_INT:
        return f"integer literal {e.const}" if e.const is not _NC else "an ANY_INT value"
    if e.type is _ANY_REAL:
        return f"real literal {e.const!r}" if e.const is not _NC else "an ANY_REAL value"
    return str(e.type)


def _hint(a: _E, b: _Type) -> str:
    if a.type is _ANY_INT and b.kind == "real":
        return f" (an integer literal is not a REAL: write {a.const}.0)" if a.const is not _NC else ""
    ta = a.type
    if ta.kind in ("int", "real", "bool") and b.kind in ("int", "real", "bool") and ta is not b:
        return f" (no implicit conversion: use {ta}_TO_{b})"
    return " (no implicit conversion)"


def _mix_hint(a: _E, b: _E) -> str:
    for lit, other in ((a, b), (b, a)):
        if lit.type is _ANY_INT and other.type.kind in ("real", "anyreal") and lit.const is not _NC:
            return f" (an integer literal is not a REAL: write {lit.const}.0)"
    ta, tb = a.type, b.type
    if ta.kind in ("int", "real", "bool") and tb.kind in ("int", "real", "bool"):
        return f" (no implicit conversion: use {ta}_TO_{tb} or {tb}_TO_{ta})"
    return " (no implicit conversion)"


def _decode_string(token: str) -> str:
    body = token[1:-1]
    out = []
    i = 0
    escapes = {"$": "$", "'": "'", '"': '"', "L": "\n", "N": "\n", "P": "\f", "R": "\r", "T": "\t"}
    while i < len(body):
        c = body[i]
        if c == "$" and i + 1 < len(body):
            nxt = body[i + 1].upper()
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
                continue
            if re.fullmatch(r"[0-9A-Fa-f]{2}", body[i + 1 : i + 3]):
                out.append(chr(int(body[i + 1 : i + 3], 16)))
                i += 3
                continue
        out.append(c)
        i += 1
    return "".join(out)


_SECTIONS: dict[type, str] = {
    tf.InputDeclarations: "input",
    tf.OutputDeclarations: "output",
    tf.InputOutputDeclarations: "inout",
    tf.VariableDeclarations: "var",
    tf.FunctionVariableDeclarations: "var",
    tf.TemporaryVariableDeclarations: "temp",
}
_SECTION_NAMES = {"input": "VAR_INPUT", "output": "VAR_OUTPUT", "inout": "VAR_IN_OUT", "var": "VAR"}


class _Loader:
    """Checks a parsed ST text and compiles its POUs into Python functions."""

    def __init__(self, name: str, raw: str, scan: _Scan, lines: _Lines) -> None:
        self.name = name
        self.raw = raw
        self.scan = scan
        self.lines = lines
        self.errors: list[tuple[int, str]] = list(scan.errors)
        self.globals: dict[str, Any] = dict(_RUNTIME)
        self.types: dict[str, tuple[_Type, Callable[[], Any]]] = {}
        self.pous: dict[str, _Pou] = {}
        self.declared: dict[str, tuple[str, str, int, int]] = {}  # key: kind, name, line, position
        self.members: dict[str, tuple[_Enum, str]] = {}
        self.sources: list[tuple[str, str]] = []
        self.counter = 0

    def err(self, node: Any, message: str) -> None:
        line = node if isinstance(node, int) else _line_of(node)
        self.errors.append((line, message))

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def register(self, prefix: str, obj: Any) -> str:
        name = self.fresh(prefix)
        self.globals[name] = obj
        return name

    # -- identifiers ---------------------------------------------------------------------------

    def check_name(self, token: Any, what: str, *, clash: bool = True) -> None:
        name = str(token)
        problem = _reserved(name) if token.start_pos not in self.scan.reserved_names else None
        if problem:
            self.err(token, f"{what} '{name}' {problem}")
        if clash:
            other = self.declared.get(name.lower())
            if other is not None:
                self.err(
                    token,
                    f"{what} '{name}' has the same name as {other[0]} {other[1]} "
                    "(identifiers are case-insensitive)",
                )

    # -- top level -----------------------------------------------------------------------------

    def load(self, source: Any) -> StModule:
        items = list(source.items)
        for item in items:
            self.predeclare(item)
        for item in items:
            if isinstance(item, tf.DataTypeDeclaration):
                self.type_declaration(item)
            elif isinstance(item, (tf.FunctionBlock, tf.Function, tf.Program)):
                self.pou(item)
            else:
                self.err(item, f"{type(item).__name__} is not supported (IEC 61131-3 2nd edition POUs only)")
        if self.errors:
            raise StError(_report(self.name, self.errors))
        for filename, code in self.sources:
            exec(compile(code, filename, "exec"), self.globals)
        for pou in self.pous.values():
            pou.run = self.globals[f"_P{pou.number}"]
        return StModule(self.name, self.pous, self.types)

    def predeclare(self, item: Any) -> None:
        if isinstance(item, tf.DataTypeDeclaration):
            decl = item.declaration
            if decl is None:
                self.err(item, "empty TYPE block")
                return
            token, kind = decl.name, "type"
        elif isinstance(item, tf.FunctionBlock):
            token, kind = item.name, "function block"
        elif isinstance(item, tf.Function):
            token, kind = item.name, "function"
        elif isinstance(item, tf.Program):
            token, kind = item.name, "program"
        else:
            return
        key = str(token).lower()
        line = _line_of(token) or _line_of(item)
        self.check_name(token, kind, clash=False)
        if key in self.declared:
            first = self.declared[key]
            self.err(line, f"{kind} '{token}' is declared twice (first as {first[0]} at line {first[2]})")
            return
        self.declared[key] = (kind, str(token), line, token.start_pos or 0)

    def type_name(self, token: Any, user: Any) -> tuple[_Type, Callable[[], Any]]:
        """The type named `token` where it is used, with the factory of its initial value."""
        if isinstance(token, tf.StringTypeSpecification):
            t = self.string_type(token)
            return t, lambda: ""
        name = str(token)
        up = name.upper()
        elem = _ELEMENTARY.get(up)
        if elem is not None:
            value = _default(elem)
            return elem, lambda: value
        if up == "STRING":
            return _String(_DEFAULT_STRING_LENGTH), lambda: ""
        key = name.lower()
        if key in self.types:
            return self.types[key]
        pou = self.pous.get(key)
        if pou is not None:
            if pou.kind != "fb" or pou.is_program:
                self.err(user, f"{pou.name} cannot be the type of a variable")
                return _ERR, lambda: None
            return pou, lambda: Instance(pou, pou.new_vars())
        if up in _TYPE_WORDS:
            self.err(user, f"type {up} is not supported by stinterp")
        elif up in _STD_FBS:
            self.err(user, f"standard function block {up} is not supported by stinterp")
        elif key in self.declared:
            kind, dname, line, _pos = self.declared[key]
            if kind == "function":
                self.err(user, f"function {dname} used as a type")
            else:
                self.err(user, f"{kind} {dname} is used before its declaration (line {line})")
        else:
            self.err(user, f"unknown type '{name}'")
        return _ERR, lambda: None

    def string_type(self, spec: Any) -> _Type:
        if str(spec.type_name).upper() != "STRING":
            self.err(spec, f"type {spec.type_name} is not supported by stinterp")
            return _ERR
        if spec.length is None:
            return _String(_DEFAULT_STRING_LENGTH)
        length = spec.length.length
        inner = getattr(length, "expression", None) or getattr(length, "expr", None)
        if isinstance(inner, tf.Integer) and inner.type_name is None:
            return _String(int(str(inner.value).replace("_", ""), inner.base))
        self.err(spec, "a STRING length must be an integer literal")
        return _ERR

    def array_type(self, spec: Any, user: Any) -> _Type:
        dims = []
        for sub in spec.subranges:
            if not isinstance(sub, tf.PartialSubrange):
                self.err(user, "ARRAY[*] is not IEC 61131-3 (2nd edition)")
                return _ERR
            lo = self.const_int(sub.start)
            hi = self.const_int(sub.stop)
            if lo is None or hi is None:
                self.err(user, "array bounds must be integer literals")
                return _ERR
            if lo > hi:
                self.err(user, f"array bounds {lo}..{hi} are empty")
                return _ERR
            dims.append((lo, hi))
        elem_spec = spec.type
        if isinstance(elem_spec, tf.DataType):
            if elem_spec.indirection is not None:
                self.err(user, "pointers and references are not IEC 61131-3 (2nd edition)")
                return _ERR
            elem_spec = elem_spec.type_name
        elem, _make = self.type_name(elem_spec, user)
        if elem is _ERR:
            return _ERR
        if elem.kind == "fb":
            self.err(user, "arrays of function block instances are not supported by stinterp")
            return _ERR
        return _Array(dims, elem)

    def const_int(self, node: Any) -> int | None:
        if isinstance(node, tf.Integer) and node.type_name is None:
            return int(str(node.value).replace("_", ""), node.base)
        if isinstance(node, tf.UnaryOperation) and str(node.op) == "-":
            inner = self.const_int(node.expr)
            return None if inner is None else -inner
        return None

    def type_declaration(self, item: Any) -> None:
        decl = item.declaration
        if decl is None:
            return
        name = str(decl.name)
        key = name.lower()
        start = decl.name.start_pos or 0
        if self.declared.get(key, ("", "", 0, start))[3] != start:
            return
        if item.access is not None:
            self.err(item, "access specifiers are not IEC 61131-3 (2nd edition)")
        entry: tuple[_Type, Callable[[], Any]] | None = None
        if isinstance(decl, tf.EnumeratedTypeDeclaration):
            entry = self.enum_declaration(decl)
        elif isinstance(decl, tf.StructureTypeDeclaration):
            entry = self.struct_declaration(decl)
        elif isinstance(decl, tf.SimpleTypeDeclaration):
            if decl.extends is not None:
                self.err(decl, "EXTENDS is not IEC 61131-3 (2nd edition)")
            t, make = self.typed_initializer(decl.init, decl, f"type {name}")
            entry = (t, make)
        elif isinstance(decl, tf.ArrayTypeDeclaration):
            t, make = self.typed_initializer(decl.init, decl, f"type {name}")
            entry = (t, make)
        elif isinstance(decl, tf.StringTypeDeclaration):
            t = self.string_type(decl.string_type)
            value = _decode_string(str(decl.value.value))[: t.length] if decl.value and t is not _ERR else ""
            entry = (t, lambda: value)
        elif isinstance(decl, tf.SubrangeTypeDeclaration):
            self.err(decl, "subrange types are not supported by stinterp")
        else:
            self.err(decl, f"{type(decl).__name__} is not supported by stinterp")
        if entry is not None:
            self.types[key] = entry

    def enum_declaration(self, decl: Any) -> tuple[_Type, Callable[[], Any]] | None:
        spec = decl.init.spec
        name = str(decl.name)
        if decl.init.indirection is not None:
            self.err(decl, "pointers and references are not IEC 61131-3 (2nd edition)")
        if spec.type_name is not None:
            self.err(decl, f"enumeration {name} has a base type {spec.type_name}: MATIEC rejects it")
        members: list[str] = []
        for value in spec.values or []:
            member = str(value.name)
            if "." in member or value.type_name is not None:
                self.err(value, f"enumeration member '{member}' must be a plain identifier")
                continue
            if value.value is not None:
                self.err(value, f"enumeration member {member} has an explicit value: MATIEC rejects it")
            self.check_name(value.name, "enumeration member")
            low = member.lower()
            if low in (m.lower() for m in members):
                self.err(value, f"enumeration member {member} is declared twice in {name}")
                continue
            if low in self.members:
                other = self.members[low][0]
                self.err(
                    value,
                    f"enumeration member {member} is declared in both {other.name} and {name}: "
                    "MATIEC rejects every bare use of it",
                )
            members.append(member)
        if not members:
            self.err(decl, f"enumeration {name} has no members")
            return None
        default = members[0]
        if decl.init.value is not None:
            dv = decl.init.value
            dname = str(dv.name)
            if "." in dname:
                enum_part, member_part = dname.split(".", 1)
                self.check_dotted(dv.name.start_pos + len(enum_part), dv, dname)
                dname = member_part
            found = next((m for m in members if m.lower() == dname.lower()), None)
            if found is None:
                self.err(dv, f"default {dname} is not a member of {name}")
            else:
                default = found
        t = _Enum(name, members, default)
        for m in members:
            self.members.setdefault(m.lower(), (t, m))
        return t, lambda: default

    def check_dotted(self, dot_pos: int, node: Any, text: str) -> None:
        if dot_pos not in self.scan.typed_enum_dots:
            enum_part, member = text.split(".", 1)
            self.err(
                node, f"dotted enumeration literal {text}: MATIEC rejects it (write {enum_part}#{member})"
            )

    def struct_declaration(self, decl: Any) -> tuple[_Type, Callable[[], Any]]:
        name = str(decl.name)
        if decl.extends is not None:
            self.err(decl, "EXTENDS is not IEC 61131-3 (2nd edition)")
        if decl.indirection is not None:
            self.err(decl, "pointers and references are not IEC 61131-3 (2nd edition)")
        t = _Struct(name)
        for element in decl.declarations:
            ft, make = self.typed_initializer(element.init, element, f"field of {name}")
            if ft.kind == "fb":
                self.err(element, "function block instances in a STRUCT are not supported by stinterp")
            for dv in element.variables:
                fname = str(dv.variable.name)
                self.check_name(dv.variable.name, "field")
                if fname.lower() in t.fields:
                    self.err(dv, f"field {fname} is declared twice in {name}")
                    continue
                t.fields[fname.lower()] = _Var(fname, fname.lower(), ft, "field", _line_of(dv), make)
        return t, lambda: _default(t)

    def typed_initializer(self, init: Any, user: Any, what: str) -> tuple[_Type, Callable[[], Any]]:
        """The type declared by a declaration's type and initialiser, with its initial value factory."""
        value_node: Any = None
        if isinstance(init, tf.TypeInitialization):
            spec = init.spec
            if isinstance(spec, tf.IndirectSimpleSpecification):
                if spec.indirection is not None or spec.init_parameters:
                    self.err(user, "pointers and references are not IEC 61131-3 (2nd edition)")
                    return _ERR, lambda: None
                spec = spec.type
            t, make = self.type_name(spec.type, user)
            value_node = init.value
        elif isinstance(init, tf.StringTypeInitialization):
            t = self.string_type(init.spec)
            make = lambda: ""  # noqa: E731
            if init.value is not None:
                value_node = tf.String(init.value)
        elif isinstance(init, tf.ArrayTypeInitialization):
            if init.indirection is not None:
                self.err(user, "pointers and references are not IEC 61131-3 (2nd edition)")
                return _ERR, lambda: None
            t = self.array_type(init.spec, user)
            make = functools.partial(_default, t)
            value_node = init.value
        elif isinstance(init, tf.InitializedStructure):
            t, make = self.type_name(init.name, user)
            value_node = init.init
        elif isinstance(init, tf.EnumeratedTypeInitialization):
            self.err(user, "anonymous enumeration: MATIEC rejects it (declare a TYPE)")
            return _ERR, lambda: None
        elif isinstance(init, tf.SubrangeTypeInitialization):
            self.err(user, "anonymous subrange (e.g. INT(0..100)): MATIEC rejects it")
            return _ERR, lambda: None
        else:
            self.err(user, f"{type(init).__name__} is not supported by stinterp")
            return _ERR, lambda: None
        if value_node is None or t is _ERR:
            return t, make
        value = self.const_value(t, value_node, user, what)
        if value is _NC:
            return t, make
        if t.kind in _AGGREGATE or t.kind == "fb":
            return t, functools.partial(_clone, value)
        return t, lambda: value

    def const_value(self, t: _Type, node: Any, user: Any, what: str) -> Any:
        """The value of an initialiser of type `t`, or _NC after reporting why it is not one."""
        if isinstance(node, tf.StructureInitialization):
            if t.kind != "struct":
                self.err(user, f"{what}: a structure initialiser for a {t}")
                return _NC
            value = _default(t)
            for element in node.elements:
                if element.name is None:
                    self.err(user, f"{what}: structure initialisers need field names")
                    return _NC
                field = t.fields.get(str(element.name).lower())
                if field is None:
                    self.err(user, f"{what}: {t} has no field {element.name}")
                    return _NC
                fv = self.const_value(field.type, element.value, user, f"{what}.{element.name}")
                if fv is _NC:
                    return _NC
                value[field.key] = fv
            return value
        if isinstance(node, tf.ArrayInitialization):
            if t.kind != "array":
                self.err(user, f"{what}: an array initialiser for a {t}")
                return _NC
            flat: list[Any] = []

            def flatten(init: Any) -> bool:
                for element in init.elements:
                    count = 1
                    if element.count is not None:
                        c = self.const_int(element.count)
                        if c is None or c < 0:
                            self.err(user, f"{what}: an array initialiser repeat count must be an integer")
                            return False
                        count = c
                    if isinstance(element.element, tf.ArrayInitialization) and not element.element.brackets:
                        if not flatten(element.element):
                            return False
                        continue
                    ev = self.const_value(t.elem, element.element, user, f"{what}[]")
                    if ev is _NC:
                        return False
                    flat.extend(_clone(ev) for _ in range(count))
                return True

            if not flatten(node):
                return _NC
            if len(flat) > t.size:
                self.err(user, f"{what}: {len(flat)} initial values for {t.size} elements")
                return _NC
            value = _default(t)
            value.items[: len(flat)] = flat
            return value
        if t.kind in _AGGREGATE or t.kind == "fb":
            self.err(user, f"{what}: initialiser of a {t} is not supported by stinterp")
            return _NC
        body = _Body(self, None, {})
        e = body.coerce(body.ex(node), t, node, what)
        if e.type is _ERR:
            return _NC
        if e.const is _NC:
            self.err(node, f"{what}: an initialiser must be a constant")
            return _NC
        value = e.const
        if t.kind == "string":
            value = value[: t.length]
        return value

    # -- POUs ----------------------------------------------------------------------------------

    def pou(self, item: Any) -> None:
        kind = {tf.FunctionBlock: "function_block", tf.Function: "function", tf.Program: "program"}[
            type(item)
        ]
        name = str(item.name)
        key = name.lower()
        if self.declared.get(key, ("", "", 0, item.name.start_pos))[3] != item.name.start_pos:
            return
        label = {"function_block": "FUNCTION_BLOCK", "function": "FUNCTION", "program": "PROGRAM"}[kind]
        pou = _Pou(
            kind, f"{label} {name}", self.name, len(self.pous), _line_of(item.name), item.name.start_pos
        )
        if getattr(item, "access", None) is not None:
            self.err(item, "access specifiers are not IEC 61131-3 (2nd edition)")
        if kind == "function_block" and (item.extends is not None or item.implements is not None):
            self.err(item, "EXTENDS and IMPLEMENTS are not IEC 61131-3 (2nd edition)")
        if kind == "function":
            ret = item.return_type
            if ret is None:
                self.err(item, f"function {name} has no return type")
            else:
                spec = ret
                if isinstance(spec, tf.IndirectSimpleSpecification):
                    if spec.indirection is not None:
                        self.err(item, "pointers and references are not IEC 61131-3 (2nd edition)")
                    spec = spec.type
                pou.ret, make = self.type_name(spec.type, item)
                if pou.ret.kind == "fb":
                    self.err(item, "a function cannot return a function block instance")
                value = make() if pou.ret.kind not in _AGGREGATE else None
                var = _Var(name, key, pou.ret, "return", pou.line, make, value=value)
                pou.vars[key] = var
                pou.order.append(var)
        for block in item.declarations:
            self.var_block(pou, kind, block)
        self.check_semicolons(item)
        body = _Body(self, pou, pou.vars)
        source = body.compile(item, kind)
        self.sources.append((f"<stinterp {self.name} {pou.name}>", source))
        self.pous[key] = pou

    def var_block(self, pou: _Pou, kind: str, block: Any) -> None:
        section = _SECTIONS.get(type(block))
        if section is None:
            header = getattr(block, "block_header", type(block).__name__)
            self.err(block, f"{header} is not supported by stinterp")
            for decl in block.items:
                for token in _declared_names(decl):
                    self.declare(pou, token, _ERR, "var", lambda: None)
            return
        attrs = getattr(block, "attrs", None)
        constant = False
        if attrs is not None:
            names = {a.name for a in tf.VariableAttributes if a in attrs}
            if "persistent" in names:
                self.err(block, "PERSISTENT is not IEC 61131-3")
            constant = "constant" in names
            if constant and section != "var":
                self.err(block, "CONSTANT is only allowed on VAR")
        if kind == "function" and section in ("output",):
            self.err(block, "VAR_OUTPUT in a function is not supported by stinterp")
        if kind == "function" and section == "temp":
            section = "var"
        for decl in block.items:
            self.var_declaration(pou, kind, section, constant, decl)

    def var_declaration(self, pou: _Pou, kind: str, section: str, constant: bool, decl: Any) -> None:
        if isinstance(decl, tf.EdgeDeclaration):
            self.err(decl, f"{decl.edge} inputs are not supported by MATIEC")
            for token in _declared_names(decl):
                self.declare(pou, token, BOOL, section, lambda: False)
            return
        if isinstance(decl, tf.FunctionBlockNameDeclaration):
            names = list(decl.variables)
            if decl.init is not None:
                self.err(decl, "function block instance initialisers are not supported by stinterp")
            t, make = self.type_name(decl.spec, decl)
        elif isinstance(decl, tf.InitDeclaration) and hasattr(decl, "init"):
            names = []
            for dv in decl.variables:
                if dv.location is not None:
                    self.err(dv, "located variables (AT %...) are not supported by stinterp")
                names.append(dv.variable.name)
            t, make = self.typed_initializer(decl.init, decl, f"initialiser of {names[0] if names else '?'}")
        else:
            self.err(decl, f"{type(decl).__name__} is not supported by stinterp")
            return
        if t.kind == "fb" and kind == "function":
            self.err(decl, "a function cannot contain function block instances")
        if section == "inout" and kind == "function" and t.kind not in _AGGREGATE and t is not _ERR:
            self.err(decl, "scalar VAR_IN_OUT in a function is not supported by stinterp")
        if constant and t.kind in ("fb",):
            self.err(decl, "a function block instance cannot be CONSTANT")
        for token in names:
            self.declare(pou, token, t, section, make, constant)

    def declare(
        self, pou: _Pou, token: Any, t: _Type, section: str, make: Callable[[], Any], constant: bool = False
    ) -> None:
        vname = str(token)
        vkey = vname.lower()
        self.check_name(token, "variable")
        if vkey in self.members:
            self.err(token, f"variable {vname} has the name of enumeration member {self.members[vkey][1]}")
        if vkey in pou.vars:
            self.err(token, f"variable {vname} is declared twice in {pou.name}")
            return
        value = make() if t.kind not in _AGGREGATE and t.kind != "fb" else None
        var = _Var(vname, vkey, t, section, _line_of(token), make, constant, value)
        pou.vars[vkey] = var
        pou.order.append(var)
        if section in ("input", "inout"):
            pou.params.append(var)

    def check_semicolons(self, item: Any) -> None:
        """Every statement ends with ';'."""
        body = item.body.statements if item.body is not None else []
        for stmt in _walk_statements(body):
            meta = getattr(stmt, "meta", None)
            if meta is not None and meta.end_pos and self.raw[meta.end_pos - 1] != ";":
                self.err(meta.end_line or _line_of(stmt), "missing ';' after the statement")


def _declared_names(decl: Any) -> list[Any]:
    """The name tokens a declaration item declares."""
    names = []
    name = getattr(decl, "name", None)
    if isinstance(name, lark.Token):
        names.append(name)
    for dv in getattr(decl, "variables", None) or []:
        token = getattr(getattr(dv, "variable", None), "name", dv)
        if isinstance(token, lark.Token):
            names.append(token)
    return names


def _walk_statements(statements: list[Any]) -> Iterator[Any]:
    for stmt in statements:
        yield stmt
        nested: list[Any] = []
        if isinstance(stmt, tf.IfStatement):
            nested = [stmt.statements, *(c.statements for c in stmt.else_ifs)]
            if stmt.else_clause is not None:
                nested.append(stmt.else_clause.statements)
        elif isinstance(stmt, tf.CaseStatement):
            nested = [c.statements for c in stmt.cases]
            if stmt.else_clause is not None:
                nested.append(stmt.else_clause.statements)
        elif isinstance(stmt, (tf.ForStatement, tf.WhileStatement, tf.RepeatStatement)):
            nested = [stmt.statements]
        for block in nested:
            if block is not None:
                yield from _walk_statements(block.statements)


_STD_PARAMS: dict[str, tuple[str, ...]] = {
    "ABS": ("IN",),
    "MOVE": ("IN",),
    "TRUNC": ("IN",),
    "LIMIT": ("MN", "IN", "MX"),
    "SEL": ("G", "IN0", "IN1"),
    **{name: ("IN",) for name in _MATH},
}
_VARIADIC = frozenset({"MAX", "MIN"})
_SELECTION: dict[str, Callable[..., Any]] = {"MAX": _max, "MIN": _min, "LIMIT": _limit}
_COMPARE = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_COMPARE_FN: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Body:
    """Type-checks the expressions and statements of one POU and writes its Python function."""

    def __init__(self, loader: _Loader, pou: _Pou | None, scope: dict[str, _Var]) -> None:
        self.L = loader
        self.pou = pou
        self.scope = scope
        self.out: list[str] = []
        self.loops = 0
        self.counter = 0

    def err(self, node: Any, message: str) -> None:
        self.L.err(node, message)

    def tmp(self) -> str:
        self.counter += 1
        return f"_t{self.counter}"

    def emit(self, indent: int, text: str) -> None:
        self.out.append("    " * indent + text)

    # -- POU -------------------------------------------------------------------------------

    def compile(self, item: Any, kind: str) -> str:
        pou = self.pou
        assert pou is not None
        statements = item.body.statements if item.body is not None else []
        if not statements:
            self.err(item.name, f"{pou.name} has no body statement: MATIEC rejects it")
        if kind == "function":
            params = [f"p{i}" for i in range(len(pou.params))]
            self.emit(0, f"def _P{pou.number}({', '.join(params)}):")
            entries = []
            param_of = {p.key: f"p{i}" for i, p in enumerate(pou.params)}
            for var in pou.order:
                if var.key in param_of:
                    arg = param_of[var.key]
                    code = f"_clone({arg})" if var.type.kind in _AGGREGATE and var.section == "input" else arg
                else:
                    code = self.initial_code(var)
                entries.append(f"{var.key!r}: {code}")
            self.emit(1, f"v = {{{', '.join(entries)}}}")
        else:
            self.emit(0, f"def _P{pou.number}(v):")
            for var in pou.order:
                if var.section == "temp":
                    self.emit(1, f"v[{var.key!r}] = {self.initial_code(var)}")
        for stmt in statements:
            self.statement(stmt, 1)
        if kind == "function":
            self.emit(1, f"return v[{pou.name.split(' ', 1)[1].lower()!r}]")
        elif not statements:
            self.emit(1, "pass")
        return "\n".join(self.out) + "\n"

    def initial_code(self, var: _Var) -> str:
        if var.type.kind in _AGGREGATE or var.type.kind == "fb":
            return f"{self.L.register('_M', var.make)}()"
        return _lit(var.value)

    # -- expressions -----------------------------------------------------------------------

    def ex(self, node: Any) -> _E:
        if isinstance(node, tf.Integer):
            return self.integer(node)
        if isinstance(node, tf.Real):
            return self.real(node)
        if isinstance(node, tf.Boolean):
            return _const_e(str(node.value).upper() == "TRUE", BOOL)
        if isinstance(node, tf.String):
            text = str(node.value)
            if text.startswith('"'):
                self.err(node, "WSTRING literals are not supported by stinterp")
                return _BAD
            value = _decode_string(text)
            return _const_e(value, _String(max(len(value), 1)))
        if isinstance(node, tf.ParenthesizedExpression):
            return self.ex(node.expr)
        if isinstance(node, tf.UnaryOperation):
            return self.unary(node)
        if isinstance(node, tf.BinaryOperation):
            return self.binary(node)
        if isinstance(node, tf.FunctionCall):
            return self.call(node)
        if isinstance(node, (tf.SimpleVariable, tf.MultiElementVariable)):
            e, _var = self.access(node, write=False)
            if e.type.kind == "fb":
                self.err(node, "a function block instance cannot be used as a value")
                return _BAD
            return e
        if isinstance(node, tf.EnumeratedValue):
            return self.enum_label(node)
        self.err(node, f"{type(node).__name__} is not supported by stinterp")
        return _BAD

    def integer(self, node: Any) -> _E:
        value = int(str(node.value).replace("_", ""), node.base)
        if node.type_name is None:
            return _const_e(value, _ANY_INT)
        t = _ELEMENTARY.get(str(node.type_name).upper())
        if t is None or t.kind != "int":
            self.err(node, f"typed literal {node.type_name}#{node.value} is not supported by stinterp")
            return _BAD
        return self.coerce(_const_e(value, _ANY_INT), t, node, f"literal {node.type_name}#{node.value}")

    def real(self, node: Any) -> _E:
        value = float(str(node.value).replace("_", ""))
        if node.type_name is None:
            return _const_e(value, _ANY_REAL)
        t = _ELEMENTARY.get(str(node.type_name).upper())
        if t is None or t.kind != "real":
            self.err(
                node, f"typed literal {node.type_name}#{node.value}: {node.type_name} is not a real type"
            )
            return _BAD
        return _const_e(_f32(value) if t is REAL else value, t)

    def coerce(self, e: _E, t: _Type, node: Any, what: str) -> _E:
        """`e` as a value of type `t`, or an error: literals adapt, nothing else converts."""
        if e.type is t or e.type is _ERR or t is _ERR:
            return e
        if e.type is _ANY_INT and t.kind == "int":
            if e.const is _NC:
                return _E(e.code, t, rng=True)
            if not t.lo <= e.const <= t.hi:
                self.err(node, f"{what}: {e.const} is outside the range of {t}")
                return _BAD
            return _const_e(e.const, t)
        if e.type is _ANY_REAL and t.kind == "real":
            if e.const is _NC:
                return _E(f"_f32({e.code})" if t is REAL else e.code, t)
            return _const_e(_f32(e.const) if t is REAL else e.const, t)
        if e.type.kind == "string" and t.kind == "string":
            return e
        if e.type.kind == "array" and t.kind == "array" and e.type.name == t.name:
            return e
        self.err(node, f"{what}: expected {t}, got {_describe(e)}{_hint(e, t)}")
        return _BAD

    def unify(self, es: list[_E], node: Any, what: str) -> _Type:
        t = es[0].type
        first = es[0]
        for other in es[1:]:
            u = _unify(t, other.type)
            if u is None:
                self.err(
                    node,
                    f"{what}: {_describe(first)} and {_describe(other)} do not mix{_mix_hint(first, other)}",
                )
                return _ERR
            t = u
            if t is other.type:
                first = other
        return t

    def unary(self, node: Any) -> _E:
        op = str(node.op).upper()
        e = self.ex(node.expr)
        if e.type is _ERR:
            return _BAD
        if op == "NOT":
            if e.type is not BOOL:
                self.err(node, f"NOT needs a BOOL, got {_describe(e)}")
                return _BAD
            if e.const is not _NC:
                return _const_e(not e.const, BOOL)
            return _E(f"(not {e.code})", BOOL)
        if op == "-":
            if e.type.kind not in _NUMERIC:
                self.err(node, f"unary minus needs a number, got {_describe(e)}")
                return _BAD
            if e.const is not _NC:
                value = -e.const
                if e.type.kind == "int" and not e.type.lo <= value <= e.type.hi:
                    self.err(node, f"constant {value} is outside the range of {e.type}")
                    return _BAD
                return _const_e(value, e.type)
            return _E(f"(-{e.code})", e.type, rng=e.type.kind in ("int", "anyint"))
        self.err(node, f"unary {op} is not IEC 61131-3 (2nd edition)")
        return _BAD

    def binary(self, node: Any) -> _E:
        op = str(node.op).upper()
        if op in ("AND_THEN", "OR_ELSE"):
            self.err(node, f"{op} is not IEC 61131-3 (2nd edition): MATIEC rejects it")
            return _BAD
        if op not in ("AND", "OR", "XOR", "+", "-", "*", "/", "MOD", *_COMPARE):
            self.err(node, f"operator {op} is not supported by stinterp")
            return _BAD
        left = self.ex(node.left)
        right = self.ex(node.right)
        if left.type is _ERR or right.type is _ERR:
            return _BAD
        if op in ("AND", "OR", "XOR"):
            for side in (left, right):
                if side.type is not BOOL:
                    self.err(node, f"{op} needs BOOL operands, got {_describe(side)}")
                    return _BAD
            if left.const is not _NC and right.const is not _NC:
                fold = {"AND": left.const and right.const, "OR": left.const or right.const}
                return _const_e(fold.get(op, left.const != right.const), BOOL)
            pyop = {"AND": "and", "OR": "or", "XOR": "!="}[op]
            return _E(f"({left.code} {pyop} {right.code})", BOOL)
        t = self.unify([left, right], node, f"operator {op}")
        if t is _ERR:
            return _BAD
        if op in _COMPARE:
            return self.compare(op, t, left, right, node)
        if t.kind not in _NUMERIC:
            self.err(node, f"operator {op} needs numbers, got {t}")
            return _BAD
        if op == "MOD" and t.kind not in ("int", "anyint"):
            self.err(node, f"MOD needs integers, got {t}")
            return _BAD
        left = self.coerce(left, t, node, f"operator {op}")
        right = self.coerce(right, t, node, f"operator {op}")
        line = _line_of(node)
        if left.const is not _NC and right.const is not _NC:
            try:
                value = self.fold(op, t, left.const, right.const, line)
            except _Fault as fault:
                self.err(node, f"constant expression: {fault.message}")
                return _BAD
            return _const_e(value, t)
        a, b = left.code, right.code
        if t.kind in ("int", "anyint"):
            if op == "/":
                return _E(f"_idiv({a}, {b}, {line})", t, rng=True)
            if op == "MOD":
                return _E(f"_imod({a}, {b})", t, rng=left.rng or right.rng)
            return _E(f"({a} {op} {b})", t, rng=True)
        code = f"_fdiv({a}, {b})" if op == "/" else f"({a} {op} {b})"
        return _E(f"_f32({code})" if t is REAL else code, t)

    def fold(self, op: str, t: _Type, a: Any, b: Any, line: int) -> Any:
        if t.kind in ("int", "anyint"):
            if op == "/":
                value = _idiv(a, b, line)
            elif op == "MOD":
                value = _imod(a, b)
            else:
                value = {"+": a + b, "-": a - b, "*": a * b}[op]
            if t.kind == "int" and not t.lo <= value <= t.hi:
                raise _Fault(line, f"{value} is outside the range of {t}")
            return value
        result = _fdiv(a, b) if op == "/" else {"+": a + b, "-": a - b, "*": a * b}[op]
        return _f32(result) if t is REAL else result

    def compare(self, op: str, t: _Type, left: _E, right: _E, node: Any) -> _E:
        if t.kind in ("enum", "bool") and op not in ("=", "<>"):
            self.err(node, f"operator {op} on {t}: only = and <> compare enumerations and BOOL")
            return _BAD
        if t.kind not in _NUMERIC and t.kind not in ("enum", "bool", "string"):
            self.err(node, f"operator {op} cannot compare values of {t}")
            return _BAD
        left = self.coerce(left, t, node, f"operator {op}")
        right = self.coerce(right, t, node, f"operator {op}")
        pyop = _COMPARE[op]
        if left.const is not _NC and right.const is not _NC:
            return _const_e(_COMPARE_FN[op](left.const, right.const), BOOL)
        return _E(f"({left.code} {pyop} {right.code})", BOOL)

    def enum_label(self, node: Any) -> _E:
        text = str(node.name)
        if "." in text:
            enum_part, member = text.split(".", 1)
            t = self.L.types.get(enum_part.lower(), (None,))[0]
            if not isinstance(t, _Enum):
                self.err(node, f"unknown enumeration '{enum_part}'")
                return _BAD
            self.L.check_dotted(node.name.start_pos + len(enum_part), node, text)
            found = t.index.get(member.lower())
            if found is None:
                self.err(node, f"{member} is not a member of {t}")
                return _BAD
            return _const_e(found, t)
        return self.ex(tf.SimpleVariable(name=node.name, dereferenced=False))

    def access(self, node: Any, write: bool) -> tuple[_E, _Var | None]:
        """A variable reference (or enumeration literal): its code and type, and the variable."""
        if isinstance(node, tf.SimpleVariable):
            base, elements = node, []
        else:
            base, elements = node.name, node.elements
        if base.dereferenced or any(getattr(el, "dereferenced", False) for el in elements):
            self.err(node, "pointer dereference is not IEC 61131-3 (2nd edition)")
            return _BAD, None
        name = str(base.name)
        key = name.lower()
        var = self.scope.get(key)
        if var is None:
            return self.not_a_variable(node, name, elements, write), None
        if self.pou is None:
            self.err(node, f"an initialiser cannot use variable {name}")
            return _BAD, None
        if var.constant and write:
            self.err(node, f"{name} is a constant")
            return _BAD, None
        if var.constant and not elements and var.type.kind not in _AGGREGATE:
            return _const_e(var.value, var.type), var
        code = f"v[{key!r}]"
        t = var.type
        for i, el in enumerate(elements):
            last = i == len(elements) - 1
            if isinstance(el, tf.FieldSelector):
                fname = str(el.field.name)
                fkey = fname.lower()
                if t.kind == "struct":
                    field = t.fields.get(fkey)
                    if field is None:
                        self.err(node, f"{t} has no field {fname}")
                        return _BAD, None
                    code, t = f"{code}[{fkey!r}]", field.type
                elif t.kind == "fb":
                    member = t.vars.get(fkey)
                    if member is None:
                        self.err(node, f"{t.name} has no variable {fname}")
                        return _BAD, None
                    allowed = ("input",) if write and last else ("input", "output")
                    if member.section not in allowed:
                        sec = _SECTION_NAMES.get(member.section, member.section)
                        verb = "written" if write and last else "read"
                        self.err(node, f"{sec} {fname} of {t.name} cannot be {verb} from outside")
                        return _BAD, None
                    code, t = f"{code}.v[{fkey!r}]", member.type
                else:
                    self.err(node, f"'.{fname}' selected from a {t}")
                    return _BAD, None
            else:
                if t.kind != "array":
                    self.err(node, f"subscript on a {t}")
                    return _BAD, None
                code = self.subscript(code, t, el, node)
                if not code:
                    return _BAD, None
                t = t.elem
        return _E(code, t, ref=True), var

    def subscript(self, code: str, t: _Type, el: Any, node: Any) -> str:
        if len(el.subscripts) != len(t.dims):
            self.err(node, f"{t} needs {len(t.dims)} indices, got {len(el.subscripts)}")
            return ""
        line = _line_of(node)
        parts = []
        consts = []
        for sub, (lo, hi) in zip(el.subscripts, t.dims, strict=True):
            e = self.ex(sub)
            if e.type is _ERR:
                return ""
            if e.type.kind not in ("int", "anyint"):
                self.err(node, f"an array index must be an integer, got {_describe(e)}")
                return ""
            if e.const is not _NC and not lo <= e.const <= hi:
                self.err(node, f"array index {e.const} is outside the bounds {lo}..{hi}")
                return ""
            consts.append(e.const)
            parts.append(e.code)
        if all(c is not _NC for c in consts):
            flat = sum((c - lo) * s for c, (lo, _hi), s in zip(consts, t.dims, t.strides, strict=True))
            return f"{code}.items[{flat}]"
        if len(parts) == 1:
            lo, hi = t.dims[0]
            return f"{code}.items[_bx({parts[0]}, {lo}, {hi}, {line})]"
        return f"{code}.items[_bxn(({', '.join(parts)},), {tuple(t.dims)!r}, {t.strides!r}, {line})]"

    def not_a_variable(self, node: Any, name: str, elements: list[Any], write: bool) -> _E:
        key = name.lower()
        entry = self.L.types.get(key)
        if entry is not None and isinstance(entry[0], _Enum) and len(elements) == 1:
            el = elements[0]
            if isinstance(el, tf.FieldSelector) and not write:
                self.L.check_dotted(node.name.name.end_pos, node, f"{name}.{el.field.name}")
                found = entry[0].index.get(str(el.field.name).lower())
                if found is None:
                    self.err(node, f"{el.field.name} is not a member of {entry[0]}")
                    return _BAD
                return _const_e(found, entry[0])
        if not elements:
            member = self.L.members.get(key)
            if member is not None:
                if write:
                    self.err(node, f"cannot assign to enumeration member {member[1]}")
                    return _BAD
                return _const_e(member[1], member[0])
        if key in self.L.declared:
            kind, dname, line, _pos = self.L.declared[key]
            self.err(node, f"{dname} is a {kind} (line {line}), not a variable")
        else:
            self.err(node, f"unknown identifier '{name}'")
        return _BAD

    # -- calls -----------------------------------------------------------------------------

    def arguments(self, node: Any, names: list[str], fname: str, variadic: bool = False) -> list[Any] | None:
        """The argument expressions of a call in the order of `names` (None where left out)."""
        params = list(node.parameters)
        for p in params:
            if isinstance(p, tf.OutputParameterAssignment):
                self.err(node, f"{fname}: output arguments (=>) are not supported in function calls")
                return None
        positional = [p for p in params if p.name is None]
        formal = [p for p in params if p.name is not None]
        if positional and formal:
            self.err(node, f"{fname}: formal (x := e) and positional arguments mixed in one call")
            return None
        if positional:
            if variadic:
                if len(positional) < 2:
                    self.err(node, f"{fname} needs at least 2 arguments, got {len(positional)}")
                    return None
                return [p.value for p in positional]
            if len(positional) != len(names):
                self.err(node, f"{fname} takes {len(names)} arguments, got {len(positional)}")
                return None
            return [p.value for p in positional]
        given: dict[str, Any] = {}
        for p in formal:
            pname = str(p.name.name).upper()
            if pname in ("EN", "ENO"):
                self.err(node, f"{fname}: EN/ENO are not supported by stinterp")
                return None
            if pname in given:
                self.err(node, f"{fname}: argument {p.name.name} given twice")
                return None
            given[pname] = p.value
        if variadic:
            count = len(given)
            expected = [f"IN{i}" for i in range(1, count + 1)]
            if sorted(given) != sorted(expected) or count < 2:
                self.err(node, f"{fname} needs arguments IN1, IN2, ... in sequence, got {', '.join(given)}")
                return None
            return [given[n] for n in expected]
        upper = [n.upper() for n in names]
        for pname in given:
            if pname not in upper:
                self.err(node, f"{fname} has no input {pname}")
                return None
        return [given.get(n) for n in upper]

    def call(self, node: Any) -> _E:
        if not isinstance(node.name, tf.SimpleVariable):
            self.err(node, f"'{node.name}(...)': only functions can be called in an expression")
            return _BAD
        name = str(node.name.name)
        up = name.upper()
        key = name.lower()
        var = self.scope.get(key)
        if var is not None and var.type.kind == "fb":
            self.err(node, f"function block instance {name} called in an expression; call it as a statement")
            return _BAD
        pou = self.L.pous.get(key)
        if pou is not None and pou.kind == "function":
            return self.user_call(node, pou)
        if up in _STD_PARAMS or up in _VARIADIC:
            return self.std_call(node, up)
        conv = _CONVERSION_NAME.fullmatch(up)
        if conv:
            return self.conversion(node, up, conv.group(1), conv.group(2))
        if _EDITION3_CONVERSION.fullmatch(up):
            self.err(
                node, f"{name} is an IEC 61131-3 3rd-edition conversion: MATIEC needs <TYPE>_TO_{up[3:]}"
            )
            return _BAD
        if self.pou is not None and key == self.pou.name.split(" ", 1)[1].lower():
            self.err(node, f"{name} calls itself: recursion is not allowed")
        elif pou is not None:
            self.err(node, f"{pou.name} is not a function")
        elif key in self.L.declared:
            kind, dname, line, _pos = self.L.declared[key]
            self.err(node, f"{kind} {dname} is used before its declaration (line {line})")
        elif up in _STD_FUNCTIONS:
            self.err(node, f"standard function {up} is not supported by stinterp")
        else:
            self.err(node, f"unknown function '{name}'")
        return _BAD

    def user_call(self, node: Any, pou: _Pou) -> _E:
        fname = pou.name.split(" ", 1)[1]
        if not pou.params:
            self.err(
                node, f"{fname} has no inputs: MATIEC cannot call a function without inputs as {fname}()"
            )
            return _BAD
        args = self.arguments(node, [p.name for p in pou.params], fname)
        if args is None:
            return _BAD
        codes = []
        ok = True
        for p, arg in zip(pou.params, args, strict=True):
            if arg is None:
                if p.section == "inout":
                    self.err(node, f"{fname}: VAR_IN_OUT {p.name} must be connected")
                    ok = False
                    continue
                codes.append(self.initial_code(p))
                continue
            e = self.ex(arg)
            if p.section == "inout":
                if not e.ref or (e.type is not p.type and e.type.name != p.type.name):
                    if e.type is not _ERR:
                        self.err(arg, f"{fname}: VAR_IN_OUT {p.name} needs a variable of type {p.type}")
                    ok = False
                    continue
                codes.append(e.code)
                continue
            e = self.coerce(e, p.type, arg, f"{fname} input {p.name}")
            if e.type is _ERR:
                ok = False
                continue
            codes.append(self.checked(e, p.type, _line_of(arg)))
        if not ok:
            return _BAD
        return _E(f"_P{pou.number}({', '.join(codes)})", pou.ret)

    def checked(self, e: _E, t: _Type, line: int) -> str:
        """Code for `e` stored into a `t`: range-checked or cut to length where needed."""
        if t.kind == "int" and e.rng:
            return f"_ck({e.code}, {t.lo}, {t.hi}, {t.name!r}, {line})"
        if t.kind == "string" and e.type.kind == "string" and e.type.length > t.length:
            return f"{e.code}[:{t.length}]"
        return e.code

    def std_call(self, node: Any, up: str) -> _E:
        variadic = up in _VARIADIC
        names = list(_STD_PARAMS.get(up, ()))
        args = self.arguments(node, names, up, variadic)
        if args is None:
            return _BAD
        if any(a is None for a in args):
            self.err(node, f"{up} needs all of its inputs ({', '.join(names)})")
            return _BAD
        es = [self.ex(a) for a in args]
        if any(e.type is _ERR for e in es):
            return _BAD
        line = _line_of(node)
        if up == "MOVE":
            return es[0]
        if up == "SEL":
            g = self.coerce(es[0], BOOL, node, "SEL input G")
            t = self.unify(es[1:], node, "SEL inputs IN0 and IN1")
            if g.type is _ERR or t is _ERR:
                return _BAD
            a, b = (self.coerce(e, t, node, "SEL") for e in es[1:])
            if g.const is not _NC:
                return b if g.const else a
            return _E(f"({b.code} if {g.code} else {a.code})", t, rng=a.rng or b.rng)
        t = self.unify(es, node, f"{up} inputs")
        if t is _ERR:
            return _BAD
        if t.kind not in _NUMERIC:
            self.err(node, f"{up} needs numbers, got {t}")
            return _BAD
        es = [self.coerce(e, t, node, up) for e in es]
        consts = [e.const for e in es]
        known = all(c is not _NC for c in consts)
        codes = ", ".join(e.code for e in es)
        rng = any(e.rng for e in es)
        if up in ("MAX", "MIN", "LIMIT"):
            if known:
                return _const_e(_SELECTION[up](*consts), t)
            return _E(f"_{up.lower()}({codes})", t, rng=rng)
        if up == "ABS":
            if known:
                return self.coerce(_const_e(_abs(consts[0]), t), t, node, "ABS")
            return _E(f"_abs({codes})", t, rng=t.kind in ("int", "anyint"))
        if t.kind not in ("real", "anyreal"):
            self.err(node, f"{up} needs a REAL or LREAL, got {_describe(es[0])}")
            return _BAD
        if up == "TRUNC":
            if known:
                try:
                    return _const_e(_trunc(consts[0], line), _ANY_INT)
                except _Fault as fault:
                    self.err(node, fault.message)
                    return _BAD
            return _E(f"_trunc({codes}, {line})", _ANY_INT, rng=True)
        if known:
            value = _MATH[up](consts[0])
            return _const_e(_f32(value) if t is REAL else value, t)
        code = f"_m_{up}({codes})"
        return _E(f"_f32({code})" if t is REAL else code, t)

    def conversion(self, node: Any, up: str, src_name: str, dst_name: str) -> _E:
        src = _ELEMENTARY.get(src_name)
        dst = _ELEMENTARY.get(dst_name)
        if src is None or dst is None:
            self.err(node, f"conversion {up} is not supported by stinterp")
            return _BAD
        args = self.arguments(node, ["IN"], up)
        if args is None:
            return _BAD
        if args[0] is None:
            self.err(node, f"{up} needs its input IN")
            return _BAD
        e = self.coerce(self.ex(args[0]), src, args[0], f"{up} input")
        if e.type is _ERR:
            return _BAD
        line = _line_of(node)
        code = self.checked(e, src, line)
        sk, dk = src.kind, dst.kind
        if e.const is not _NC:
            try:
                value = _convert(src, dst, e.const, line)
            except _Fault as fault:
                self.err(node, f"{up}: {fault.message}")
                return _BAD
            return _const_e(value, dst)
        if sk == dk == "int":
            return _E(code, dst, rng=dst.lo > src.lo or dst.hi < src.hi)
        if sk == dk == "real":
            return _E(f"_f32({code})" if dst is REAL and src is not REAL else code, dst)
        if dk == "bool":
            return _E(f"({code} != 0)", BOOL)
        if sk == "bool":
            return _E(f"int({code})" if dk == "int" else f"float({code})", dst)
        if sk == "int":
            return _E(f"_f32(float({code}))" if dst is REAL else f"float({code})", dst)
        rounding = "_round" if dst.lo < 0 else "_round_unsigned"
        return _E(f"{rounding}({code}, {line})", dst, rng=True)

    # -- statements ------------------------------------------------------------------------

    def block(self, stmts: Any, indent: int, what: str, node: Any) -> None:
        statements = stmts.statements if stmts is not None else []
        if not statements:
            self.err(node, f"empty {what}: MATIEC rejects it")
            self.emit(indent, "pass")
            return
        for stmt in statements:
            self.statement(stmt, indent)

    def statement(self, node: Any, indent: int) -> None:
        if isinstance(node, tf.AssignmentStatement):
            self.assignment(node, indent)
        elif isinstance(node, tf.IfStatement):
            self.if_statement(node, indent)
        elif isinstance(node, tf.CaseStatement):
            self.case_statement(node, indent)
        elif isinstance(node, tf.FunctionCallStatement):
            self.call_statement(node, indent)
        elif isinstance(node, tf.ForStatement):
            self.for_statement(node, indent)
        elif isinstance(node, tf.WhileStatement):
            cond = self.condition(node.expression, "WHILE")
            self.emit(indent, f"while {cond}:")
            self.loop_body(node.statements, indent + 1, "WHILE", node)
        elif isinstance(node, tf.RepeatStatement):
            self.emit(indent, "while True:")
            self.loop_body(node.statements, indent + 1, "REPEAT", node)
            cond = self.condition(node.expression, "UNTIL")
            self.emit(indent + 1, f"if {cond}:")
            self.emit(indent + 2, "break")
        elif isinstance(node, tf.ExitStatement):
            if not self.loops:
                self.err(node, "EXIT outside a loop")
            self.emit(indent, "break" if self.loops else "pass")
        elif isinstance(node, tf.ReturnStatement):
            assert self.pou is not None
            if self.pou.kind == "function":
                self.emit(indent, f"return v[{self.pou.name.split(' ', 1)[1].lower()!r}]")
            else:
                self.emit(indent, "return")
        elif isinstance(node, tf.ContinueStatement):
            self.err(node, "CONTINUE is not IEC 61131-3 (2nd edition): MATIEC rejects it")
        else:
            self.err(
                node, f"{type(node).__name__} is not IEC 61131-3 (2nd edition) or not supported by stinterp"
            )
            self.emit(indent, "pass")

    def loop_body(self, stmts: Any, indent: int, what: str, node: Any) -> None:
        self.loops += 1
        self.block(stmts, indent, f"{what} body", node)
        self.loops -= 1

    def condition(self, node: Any, what: str) -> str:
        e = self.ex(node)
        if e.type is not BOOL and e.type is not _ERR:
            self.err(node, f"{what} condition must be BOOL, got {_describe(e)}")
        return e.code

    def assignment(self, node: Any, indent: int) -> None:
        if len(node.variables) != 1:
            self.err(node, "chained assignment (a := b := c) is not IEC 61131-3")
            return
        target, _var = self.access(node.variables[0], write=True)
        value = self.ex(node.expression)
        if target.type is _ERR or value.type is _ERR:
            return
        if not target.ref:
            self.err(node, f"cannot assign to {node.variables[0]}")
            return
        self.store(target.code, target.type, value, node, indent, f"assignment to {node.variables[0]}")

    def store(self, target: str, t: _Type, value: _E, node: Any, indent: int, what: str) -> None:
        if t.kind == "fb":
            self.err(node, f"{what}: function block instances cannot be assigned")
            return
        e = self.coerce(value, t, node, what)
        if e.type is _ERR:
            return
        if t.kind in _AGGREGATE:
            self.emit(indent, f"_copy_into({target}, {e.code})")
        elif t.kind == "int" and e.rng:
            tmp = self.tmp()
            self.emit(indent, f"{tmp} = {e.code}")
            self.emit(indent, f"if not {t.lo} <= {tmp} <= {t.hi}:")
            self.emit(indent + 1, f"_ovf({tmp}, {t.name!r}, {_line_of(node)})")
            self.emit(indent, f"{target} = {tmp}")
        else:
            self.emit(indent, f"{target} = {self.checked(e, t, _line_of(node))}")

    def if_statement(self, node: Any, indent: int) -> None:
        self.emit(indent, f"if {self.condition(node.if_expression, 'IF')}:")
        self.block(node.statements, indent + 1, "THEN branch", node)
        for clause in node.else_ifs:
            self.emit(indent, f"elif {self.condition(clause.if_expression, 'ELSIF')}:")
            self.block(clause.statements, indent + 1, "ELSIF branch", clause)
        if node.else_clause is not None:
            self.emit(indent, "else:")
            self.block(node.else_clause.statements, indent + 1, "ELSE branch", node.else_clause)

    def case_statement(self, node: Any, indent: int) -> None:
        sel = self.ex(node.expression)
        t = sel.type
        if t is not _ERR and t.kind not in ("int", "anyint", "enum"):
            self.err(node, f"CASE selector must be an integer or an enumeration, got {_describe(sel)}")
            t = _ERR
        tmp = self.tmp()
        self.emit(indent, f"{tmp} = {sel.code}")
        seen: list[tuple[Any, Any]] = []
        keyword = "if"
        for element in node.cases:
            conds = []
            for match in element.matches:
                cond = self.case_label(match, t, tmp, seen, element)
                if cond:
                    conds.append(cond)
            self.emit(indent, f"{keyword} {' or '.join(conds) or 'False'}:")
            keyword = "elif"
            self.block(element.statements, indent + 1, "CASE branch", element)
        if node.else_clause is not None:
            if keyword == "if":
                self.emit(indent, "if True:")
            else:
                self.emit(indent, "else:")
            self.block(node.else_clause.statements, indent + 1, "CASE ELSE branch", node.else_clause)

    def case_label(self, match: Any, t: _Type, tmp: str, seen: list[tuple[Any, Any]], node: Any) -> str:
        if isinstance(match, tf.PartialSubrange):
            if t.kind == "enum":
                self.err(node, "a range label on an enumeration selector")
                return ""
            bounds = [self.label_value(x, t, node) for x in (match.start, match.stop)]
            if _NC in bounds:
                return ""
            lo, hi = bounds
            if lo > hi:
                self.err(node, f"CASE range {lo}..{hi} is empty")
                return ""
            if self.overlaps(lo, hi, seen, node):
                return ""
            seen.append((lo, hi))
            return f"{_lit(lo)} <= {tmp} <= {_lit(hi)}"
        value = self.label_value(match, t, node)
        if value is _NC:
            return ""
        if t.kind == "enum":
            if any(value == s[0] for s in seen):
                self.err(node, f"CASE label {value} appears twice")
                return ""
            seen.append((value, value))
        elif self.overlaps(value, value, seen, node):
            return ""
        else:
            seen.append((value, value))
        return f"{tmp} == {_lit(value)}"

    def overlaps(self, lo: int, hi: int, seen: list[tuple[Any, Any]], node: Any) -> bool:
        for a, b in seen:
            if lo <= b and a <= hi:
                self.err(node, f"CASE label {lo if lo == hi else f'{lo}..{hi}'} overlaps an earlier label")
                return True
        return False

    def label_value(self, node: Any, t: _Type, user: Any) -> Any:
        e = self.ex(node)
        if e.type is _ERR or t is _ERR:
            return _NC
        if e.const is _NC:
            self.err(user, "a CASE label must be a literal or an enumeration member")
            return _NC
        if t.kind == "enum" and e.type is not t:
            self.err(
                user,
                f"CASE label {_describe(e) if e.type.kind != 'enum' else e.const} is not a member of {t}",
            )
            return _NC
        if t.kind == "anyint":
            if e.type.kind not in ("int", "anyint"):
                self.err(user, f"CASE label: expected an integer, got {_describe(e)}")
                return _NC
            return e.const
        e = self.coerce(e, t, user, "CASE label")
        return _NC if e.type is _ERR else e.const

    def for_statement(self, node: Any, indent: int) -> None:
        control, _var = self.access(node.control, write=True)
        if control.type is _ERR:
            return
        t = control.type
        if t.kind != "int" or not isinstance(node.control, tf.SimpleVariable):
            self.err(node, f"FOR needs an integer variable, got {t}")
            return
        line = _line_of(node)
        start = self.coerce(self.ex(node.from_), t, node.from_, "FOR start")
        stop = self.coerce(self.ex(node.to), t, node.to, "FOR end")
        step = self.coerce(self.ex(node.step), t, node.step, "FOR step") if node.step is not None else None
        if _ERR in (start.type, stop.type) or (step is not None and step.type is _ERR):
            return
        self.store(control.code, t, start, node, indent, "FOR start")
        end_code = stop.code
        if stop.const is _NC:
            end_code = self.tmp()
            self.emit(indent, f"{end_code} = {stop.code}")
        step_value = 1 if step is None else step.const
        if step_value is not _NC:
            if step_value == 0:
                self.err(node, "FOR ... BY 0 never ends")
                return
            cmp = "<=" if step_value > 0 else ">="
            self.emit(indent, f"while {control.code} {cmp} {end_code}:")
            step_code = _lit(step_value)
        else:
            assert step is not None
            step_code = self.tmp()
            self.emit(indent, f"{step_code} = {step.code}")
            c = control.code
            self.emit(indent, f"while ({c} <= {end_code} if {step_code} >= 0 else {c} >= {end_code}):")
        self.loop_body(node.statements, indent + 1, "FOR", node)
        nxt = self.tmp()
        self.emit(indent + 1, f"{nxt} = {control.code} + {step_code}")
        self.emit(indent + 1, f"if not {t.lo} <= {nxt} <= {t.hi}:")
        self.emit(indent + 2, f"_ovf({nxt}, {t.name!r}, {line})")
        self.emit(indent + 1, f"{control.code} = {nxt}")

    def call_statement(self, node: Any, indent: int) -> None:
        if not isinstance(node.name, tf.SimpleVariable):
            self.err(node, f"'{node.name}(...)': only local function block instances can be called")
            return
        name = str(node.name.name)
        key = name.lower()
        var = self.scope.get(key)
        if var is not None and var.type is _ERR:
            return
        if var is None or var.type.kind != "fb":
            pou = self.L.pous.get(key)
            if var is None and pou is not None and pou.kind == "fb":
                self.err(node, f"{pou.name} is a type: call an instance of it")
            elif var is None and (
                pou is not None or name.upper() in _STD_PARAMS or name.upper() in _VARIADIC
            ):
                self.err(node, f"function {name} called as a statement: its result must be used")
            elif var is not None:
                self.err(node, f"{name} is a {var.type}, not a function block instance")
            else:
                self.call(node)
            return
        fb = var.type
        assert isinstance(fb, _Pou)
        iv = self.tmp()
        self.emit(indent, f"{iv} = v[{key!r}].v")
        params = list(node.parameters)
        positional = [p for p in params if isinstance(p, tf.InputParameterAssignment) and p.name is None]
        if positional and len(positional) != len(params):
            self.err(node, f"call of {name}: formal (x := e) and positional arguments mixed in one call")
            return
        if positional and len(positional) > len(fb.params):
            self.err(node, f"{fb.name} takes {len(fb.params)} inputs, got {len(positional)}")
            return
        writeback: list[tuple[str, str]] = []
        outputs: list[Any] = []
        seen: set[str] = set()
        for i, p in enumerate(params):
            if isinstance(p, tf.OutputParameterAssignment):
                outputs.append(p)
                continue
            if p.name is None:
                member: _Var | None = fb.params[i]
                pname = fb.params[i].name
            else:
                pname = str(p.name.name)
                member = fb.vars.get(pname.lower())
            if pname.upper() in ("EN", "ENO"):
                self.err(node, f"call of {name}: EN/ENO are not supported by stinterp")
                continue
            if member is None or member.section not in ("input", "inout"):
                if member is not None and member.section == "output":
                    self.err(node, f"{pname} is an output of {fb.name}: connect it with {pname} => variable")
                else:
                    self.err(node, f"{fb.name} has no input {pname}")
                continue
            if member.key in seen:
                self.err(node, f"call of {name}: input {pname} given twice")
                continue
            seen.add(member.key)
            slot = f"{iv}[{member.key!r}]"
            if p.value is None:
                self.err(node, f"call of {name}: input {pname} has no value")
                continue
            if member.section == "input":
                self.store(slot, member.type, self.ex(p.value), p.value, indent, f"{fb.name} input {pname}")
                continue
            e, _v = (
                self.access(p.value, write=True) if self.is_variable(p.value) else (self.ex(p.value), None)
            )
            if e.type is _ERR:
                continue
            if not e.ref or (e.type is not member.type and e.type.name != member.type.name):
                self.err(p.value, f"VAR_IN_OUT {pname} of {fb.name} needs a variable of type {member.type}")
                continue
            self.emit(indent, f"{slot} = {e.code}")
            if member.type.kind not in _AGGREGATE and member.type.kind != "fb":
                writeback.append((e.code, slot))
        self.emit(indent, f"_P{fb.number}({iv})")
        for variable, slot in writeback:
            self.emit(indent, f"{variable} = {slot}")
        for p in outputs:
            pname = str(p.name.name)
            member = fb.vars.get(pname.lower())
            if member is None or member.section != "output":
                self.err(node, f"{fb.name} has no output {pname}")
                continue
            if p.inverted:
                self.err(node, f"NOT {pname} => ...: inverted outputs are not supported by stinterp")
                continue
            target, _v = self.access(p.value, write=True)
            if target.type is _ERR:
                continue
            out = _E(f"{iv}[{member.key!r}]", member.type)
            self.store(target.code, target.type, out, p, indent, f"{fb.name} output {pname}")

    @staticmethod
    def is_variable(node: Any) -> bool:
        return isinstance(node, (tf.SimpleVariable, tf.MultiElementVariable))


def _convert(src: _Elem, dst: _Elem, value: Any, line: int) -> Any:
    sk, dk = src.kind, dst.kind
    if dk == "bool":
        return value != 0
    if dk == "real":
        result = float(value)
        return _f32(result) if dst is REAL else result
    if sk in ("bool", "int"):
        result = int(value)
    else:
        result = _round(value, line) if dst.lo < 0 else _round_unsigned(value, line)
    return _ck(result, dst.lo, dst.hi, dst.name, line)


def _report(name: str, errors: list[tuple[int, str]]) -> str:
    unique = sorted(set(errors), key=lambda e: (e[0], errors.index(e)))
    return "\n".join(f"{name}:{line}: {message}" for line, message in unique)


def load(text: str, *, name: str = "<st>") -> StModule:
    """Parse, check and compile ST text; raises StError listing every problem as `name:line: what`."""
    lines = _Lines(text)
    scan = _scan(text, lines)
    tree, failure = _parse(scan.text)
    if failure is not None:
        line, column, what = failure
        raise StError(_report(name, [*scan.errors, (line, f"syntax error at column {column}: {what}")]))
    return _Loader(name, text, scan, lines).load(tree)
