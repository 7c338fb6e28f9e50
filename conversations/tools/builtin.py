"""The built-in tools. Adding one is one decorated, typed, documented function here."""

import ast
import math
import operator
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .registry import ToolContext, tool

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCTIONS = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "factorial": math.factorial,
    "min": min,
    "max": max,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


# Bounds on the work one expression may ask for. Without them one call such as
# ((9**999)**999)**64 runs for hours inside a single C operation.
MAX_EXPRESSION_CHARS = 500
MAX_DEPTH = 50  # Nesting of operations and calls.
MAX_INT_BITS = 10_000  # About 3,000 digits: the largest integer any step may take or make.
MAX_FACTORIAL = 1000  # factorial(1000) has 2,568 digits.
MAX_ROUND_DIGITS = 100


def _evaluate(node: ast.AST, depth: int = 0) -> float | int:
    if depth > MAX_DEPTH:
        raise ValueError("expression nested too deeply")
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, depth + 1)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _checked(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _checked(_OPERATORS[type(node.op)](_evaluate(node.operand, depth + 1)))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left, depth + 1), _evaluate(node.right, depth + 1)
        _check_size(node.op, left, right)
        return _checked(_OPERATORS[type(node.op)](left, right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        args = [_evaluate(arg, depth + 1) for arg in node.args]
        _check_call(node.func.id, args)
        return _checked(_FUNCTIONS[node.func.id](*args))
    raise ValueError(f"unsupported expression: {ast.unparse(node)[:80]}")


def _check_size(op: ast.operator, left: float | int, right: float | int) -> None:
    """Refuse, before computing it, an integer result too large to be worth computing."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return  # Float arithmetic is constant time (and overflows to an error).
    if isinstance(op, ast.Pow) and right > 0 and abs(left) > 1:
        if left.bit_length() * right > MAX_INT_BITS:
            raise ValueError(f"result too large (over {MAX_INT_BITS:,} bits)")
    elif isinstance(op, ast.Mult) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise ValueError(f"result too large (over {MAX_INT_BITS:,} bits)")


def _check_call(name: str, args: list) -> None:
    if name == "factorial" and args and isinstance(args[0], int) and args[0] > MAX_FACTORIAL:
        raise ValueError(f"factorial argument too large (at most {MAX_FACTORIAL})")
    if name == "round" and len(args) > 1 and abs(args[1]) > MAX_ROUND_DIGITS:
        raise ValueError(f"round to at most {MAX_ROUND_DIGITS} digits")


def _checked(value: object) -> float | int:
    """Every intermediate value is a real number of bounded size."""
    if isinstance(value, complex):
        raise ValueError("the result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ValueError(f"result too large (over {MAX_INT_BITS:,} bits)")
    return value


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly as written and return the result.

    Args:
        expression: For example "2 * (3 + 4) ** 2 / sqrt(16)". Supports + - * / // % **,
            parentheses, pi, e, and sqrt, sin, cos, tan, log, log10, exp, abs, round, min, max,
            factorial. Integers are exact up to about 3,000 digits.
    """
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"expression too long (at most {MAX_EXPRESSION_CHARS} characters)")
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, MemoryError, RecursionError) as exc:
        # CPython's parser refuses deep nesting itself ("too many nested parentheses").
        problem = "nested too deeply" if "nested" in str(exc) else "not an arithmetic expression"
        raise ValueError(f"{problem}: {expression[:80]}") from None
    result = _evaluate(tree)
    if isinstance(result, float) and result.is_integer() and abs(result) < 1e15:
        result = int(result)
    return str(result)


@tool
def current_datetime(timezone: str = "UTC") -> str:
    """Get the current date, time and weekday in a timezone.

    Args:
        timezone: An IANA timezone name such as "Europe/Paris" or "America/New_York".
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone '{timezone}'") from exc
    now = datetime.now(zone)
    return f"{now.isoformat(timespec='seconds')} ({now.strftime('%A')}, {timezone})"


# Each unit as a multiple of its dimension's base unit.
_UNITS: dict[str, tuple[str, float]] = {
    # length, in metres
    "mm": ("length", 0.001), "cm": ("length", 0.01), "m": ("length", 1.0), "km": ("length", 1000.0),
    "in": ("length", 0.0254), "ft": ("length", 0.3048), "yd": ("length", 0.9144), "mi": ("length", 1609.344),
    "nmi": ("length", 1852.0),
    # mass, in kilograms
    "mg": ("mass", 1e-6), "g": ("mass", 0.001), "kg": ("mass", 1.0), "t": ("mass", 1000.0),
    "oz": ("mass", 0.028349523125), "lb": ("mass", 0.45359237), "st": ("mass", 6.35029318),
    # volume, in litres
    "ml": ("volume", 0.001), "l": ("volume", 1.0), "m3": ("volume", 1000.0),
    "tsp": ("volume", 0.00492892159375), "tbsp": ("volume", 0.01478676478125),
    "cup": ("volume", 0.2365882365), "pt": ("volume", 0.473176473), "qt": ("volume", 0.946352946),
    "gal": ("volume", 3.785411784), "floz": ("volume", 0.0295735295625),
    # speed, in metres per second
    "m/s": ("speed", 1.0), "km/h": ("speed", 1 / 3.6), "mph": ("speed", 0.44704), "kn": ("speed", 1852 / 3600),
    # time, in seconds
    "s": ("time", 1.0), "min": ("time", 60.0), "h": ("time", 3600.0), "day": ("time", 86400.0),
    "week": ("time", 604800.0),
    # data, in bytes
    "b": ("data", 1.0), "kb": ("data", 1e3), "mb": ("data", 1e6), "gb": ("data", 1e9), "tb": ("data", 1e12),
    "kib": ("data", 1024.0), "mib": ("data", 1024.0**2), "gib": ("data", 1024.0**3), "tib": ("data", 1024.0**4),
}  # fmt: skip
_TEMPERATURES = {"c", "f", "k"}


def _to_celsius(value: float, unit: str) -> float:
    return {"c": value, "f": (value - 32) * 5 / 9, "k": value - 273.15}[unit]


def _from_celsius(value: float, unit: str) -> float:
    return {"c": value, "f": value * 9 / 5 + 32, "k": value + 273.15}[unit]


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a quantity between units of length, mass, volume, speed, time, data or temperature.

    Args:
        value: The quantity to convert.
        from_unit: Unit symbol, e.g. km, mi, ft, kg, lb, l, gal, cup, km/h, mph, h, GB, GiB, C, F, K.
        to_unit: Unit symbol of the same kind.
    """
    source, target = from_unit.strip().lower(), to_unit.strip().lower()
    for unit, name in ((from_unit, source), (to_unit, target)):
        if name not in _UNITS and name not in _TEMPERATURES:
            raise ValueError(f"unknown unit '{unit}'")
    kind, other_kind = _kind(source), _kind(target)
    if kind != other_kind:
        raise ValueError(f"cannot convert {kind} ({from_unit}) to {other_kind} ({to_unit})")
    if kind == "temperature":
        result = _from_celsius(_to_celsius(value, source), target)
    else:
        result = value * _UNITS[source][1] / _UNITS[target][1]
    return f"{value:g} {from_unit} = {result:.6g} {to_unit}"


def _kind(unit: str) -> str:
    return "temperature" if unit in _TEMPERATURES else _UNITS[unit][0]


@tool(isolated=False)  # Uses the database; bounded by construction (one query, a limit).
def search_conversations(query: str, context: ToolContext, limit: int = 5) -> str:
    """Search the user's own earlier conversations for a word or phrase.

    Args:
        query: Words to look for in titles and messages.
        limit: How many conversations to return, at most 10.
    """
    from ..search import selectors as search  # The app's models are ready only once tools run.

    query = query.strip()
    if not query:
        raise ValueError("the query is empty")
    limit = max(1, min(limit, 10))
    # The same full-text search as the sidebar's, less the conversation asking.
    hits = [
        hit
        for hit in search.conversation_search(user_id=context.user_id, query=query, limit=limit + 1)
        if hit["conversation"] != context.conversation_id
    ][:limit]
    lines = [
        f'- #{hit["conversation"]} "{hit["title"]}" ({hit["updated_at"][:10]}): {hit["snippet"]}'
        for hit in hits
    ]
    return "\n".join(lines) if lines else f"No conversations mention '{query}'."
