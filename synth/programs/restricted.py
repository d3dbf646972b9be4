"""Compile-time and run-time policy for untrusted question programs (RestrictedPython).

A program is Python source defining ``answer(scene, **slots)``. It may use the whitelisted
builtins below, ``math``, and the public (non-underscore) attributes of the read-only scene
API. Imports, dunder access, ``exec``/``eval``/``open``/``globals`` and frame/code
introspection are rejected at compile time or when reached, and so is anything that could
outlive the sandbox's time-out (a bare ``except:``, ``finally``, naming ``BaseException``).
Every reason is a ``ProgramRejected``, also for a source too deeply nested for Python's parser.
"""

from __future__ import annotations

import ast
import math
import types

from RestrictedPython import compile_restricted
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence

ENTRY = "answer"

# attribute names that lead from ordinary objects to frames, code or globals
FORBIDDEN_ATTRS = frozenset(
    {
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "tb_frame",
        "tb_next",
        "co_code",
        "func_globals",
        "func_code",
        "mro",
        "format",
        "format_map",
    }
)

_SAFE_NAMES = (
    "abs",
    "all",
    "any",
    "bool",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "range",
    "reversed",
    "round",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "dict",
    "set",
    "frozenset",
    "pow",
    "ArithmeticError",
    "Exception",
    "IndexError",
    "KeyError",
    "StopIteration",
    "TypeError",
    "ValueError",
    "ZeroDivisionError",
    "True",
    "False",
    "None",
)
_BUILTINS = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
BUILTINS = {name: _BUILTINS[name] for name in _SAFE_NAMES}

MATH = types.SimpleNamespace(
    **{
        n: getattr(math, n)
        for n in (
            "acos",
            "asin",
            "atan",
            "atan2",
            "ceil",
            "cos",
            "degrees",
            "dist",
            "exp",
            "fabs",
            "floor",
            "hypot",
            "inf",
            "isclose",
            "isfinite",
            "log",
            "pi",
            "radians",
            "sin",
            "sqrt",
            "tan",
            "tau",
        )
    }
)


class ProgramRejected(ValueError):
    """A program broke the policy (at compile time or when it ran)."""


def guarded_getattr(obj, name, default=None):
    if not isinstance(name, str) or name.startswith("_") or name in FORBIDDEN_ATTRS:
        raise ProgramRejected(f"access to attribute {name!r} is not allowed")
    if isinstance(obj, types.ModuleType):
        raise ProgramRejected("access to modules is not allowed")
    return getattr(obj, name, default) if default is not None else getattr(obj, name)


def _getitem(obj, key):
    return obj[key]


def _inplacevar(op: str, x, y):
    ops = {
        "+=": lambda: x + y,
        "-=": lambda: x - y,
        "*=": lambda: x * y,
        "/=": lambda: x / y,
        "//=": lambda: x // y,
        "%=": lambda: x % y,
        "**=": lambda: x**y,
    }
    if op not in ops:
        raise ProgramRejected(f"operator {op} is not allowed")
    return ops[op]()


FORBIDDEN_NAMES = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "open",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "__import__",
        "breakpoint",
        "input",
        "help",
        "dir",
        "type",
        "object",
        "super",
        "memoryview",
        "print",
        "exit",
        "quit",
        "id",
        "hasattr",
        # what could catch the sandbox's time-out (a BaseException) or stop the worker
        "BaseException",
        "GeneratorExit",
        "KeyboardInterrupt",
        "SystemExit",
    }
)


def _policy_violations(tree: ast.AST) -> list[str]:
    problems = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            problems.append(f"line {line}: imports are not allowed")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            problems.append(f"line {line}: global/nonlocal are not allowed")
        elif isinstance(node, (ast.ClassDef, ast.AsyncFunctionDef, ast.Await)):
            problems.append(f"line {line}: {type(node).__name__} is not allowed")
        elif isinstance(node, ast.Name) and (node.id in FORBIDDEN_NAMES or node.id.startswith("_")):
            problems.append(f"line {line}: name {node.id!r} is not allowed")
        elif isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRS):
            problems.append(f"line {line}: attribute {node.attr!r} is not allowed")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
            problems.append(f"line {line}: strings containing '__' are not allowed")
        elif isinstance(node, ast.ExceptHandler) and node.type is None:
            problems.append(
                f"line {line}: a bare 'except:' is not allowed (it would catch the sandbox's time-out): "
                "name the exceptions, e.g. 'except Exception:'"
            )
        elif isinstance(node, (ast.Try, ast.TryStar)) and node.finalbody:
            problems.append(f"line {line}: 'finally' is not allowed (it would run after the sandbox's time-out)")
    return problems


def compile_program(source: str, name: str = "<program>"):
    """Restricted-compile ``source`` (the parent compiles programs too: nothing here may raise
    anything but ProgramRejected, which gives every reason found)."""
    if len(source) > 20_000:
        raise ProgramRejected("program source is longer than 20,000 characters")
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as e:
        raise ProgramRejected(f"syntax error at line {e.lineno}: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise _uncompilable(e) from None
    problems = _policy_violations(tree)
    if problems:
        raise ProgramRejected("; ".join(problems[:5]))
    try:
        return compile_restricted(source, filename=name, mode="exec")
    except SyntaxError as e:
        raise ProgramRejected(f"rejected by RestrictedPython: {e}") from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise _uncompilable(e) from None


def _uncompilable(e: Exception) -> ProgramRejected:
    """The rejection for what Python's parser and compiler raise besides SyntaxError:
    RecursionError or MemoryError for deep nesting (they recurse per level), ValueError for
    e.g. a lone surrogate (it has no UTF-8 encoding)."""
    if isinstance(e, ValueError):
        return ProgramRejected(f"the program cannot be compiled: {e}")
    return ProgramRejected("the program cannot be compiled: it is nested too deeply")


def program_function(code):
    """Execute a compiled program's module body (``compile_program``) in a fresh namespace and
    return its ``answer`` function: what one instance stores in its globals or default arguments
    never reaches another. ProgramRejected when it defines none."""
    env = {
        "__builtins__": BUILTINS,
        "__name__": "program",
        "__metaclass__": type,
        "_getattr_": guarded_getattr,
        "_getitem_": _getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "math": MATH,
    }
    exec(code, env)  # the module body: definitions only, under the same policy
    fn = env.get(ENTRY)
    if not isinstance(fn, types.FunctionType):
        raise ProgramRejected(f"program does not define a function {ENTRY}(scene, ...)")
    return fn
