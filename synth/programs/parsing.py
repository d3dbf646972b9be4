"""What comes back from the model: the program in a reply, and the paraphrases worth keeping.

``extract_program`` finds and tidies the code of a reply (``ParseError`` if there is none);
``signature_problem`` explains a wrong ``answer(...)`` signature; ``keep_paraphrases`` keeps
only the phrasings that preserve slots, units and options.
"""

from __future__ import annotations

import ast
import re
import string

from synth.programs.family import FamilySpec, template_slots

# ------------------------------------------------------------------------------------------------
# programs


class ParseError(ValueError):
    """The reply holds no usable program."""


_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)


def extract_program(reply: str) -> str:
    """The program in a model reply: a fenced block (or bare code among prose), tidied.

    Tidying only removes what the sandbox provides or forbids anyway: ``import math`` (``math``
    is given), ``from math import x`` (becomes ``x = math.x``), and top-level statements other
    than definitions and constant assignments (example calls, ``if __name__ == ...`` blocks).
    """
    blocks = [body for _, body in _FENCE.findall(reply)]
    code = next((b for b in blocks if "def answer" in b), None)
    if code is None:
        if "def answer" not in reply:
            raise ParseError("the reply defines no function answer(scene, ...)")
        lines = reply.splitlines()
        start = next(i for i, ln in enumerate(lines) if "def answer" in ln)
        while start > 0 and re.match(r"^(def |import |from |[A-Za-z_]\w*\s*=|@|\s)", lines[start - 1]):
            start -= 1
        code = "\n".join(lines[start:])
    lines = code.replace("\t", "    ").splitlines()
    while len(lines) > 1 and not lines[-1].startswith((" ", "#")) and not _parses(lines):
        lines.pop()  # trailing prose; a broken function body stays: its syntax error is the reason
    source = "\n".join(lines)
    if not source.strip():
        raise ParseError("the reply holds no code")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source.strip() + "\n"  # compile_program reports the syntax error
    keep: list[str] = []
    src_lines = source.splitlines()
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        seg = src_lines[first - 1 : node.end_lineno]
        if isinstance(node, ast.Import) and all(a.name == "math" and a.asname is None for a in node.names):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "math" and node.level == 0:
            keep += [f"{a.asname or a.name} = math.{a.name}" for a in node.names]
            continue
        if isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Assign) and _is_constant(node.value)
        ):
            keep += seg
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a module docstring
        # anything else at top level (calls, prints, __main__ blocks) is dropped
    if not any(isinstance(n, ast.FunctionDef) and n.name == "answer" for n in tree.body):
        raise ParseError("the reply defines no top-level function answer(scene, ...)")
    return "\n".join(keep).strip() + "\n"


def _parses(lines: list[str]) -> bool:
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return True


_CONSTANT_NODES = (ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.Load, ast.UnaryOp, ast.USub, ast.Attribute)


def _is_constant(node: ast.AST) -> bool:
    """Literals and ``math.x`` only (module-level helpers such as ``EPS = 1e-6`` or ``PI = math.pi``)."""
    return all(isinstance(n, _CONSTANT_NODES) or (isinstance(n, ast.Name) and n.id == "math") for n in ast.walk(node))


def signature_problem(source: str, spec: FamilySpec) -> str | None:
    """A clear reason when ``answer``'s parameters do not match the slots (None if they do)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None  # compile_program gives the syntax error
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "answer"), None)
    if fn is None:
        return None
    a = fn.args
    if a.vararg or a.kwarg:
        return None
    names = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    n_defaults = len(a.defaults)
    required = set(names[1 : len(a.posonlyargs + a.args) - n_defaults])
    required |= {p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None}
    slots = set(spec.slots)
    if not names or names[0] in slots or not slots <= set(names[1:]) or not required <= slots:
        want = ", ".join(["scene", *spec.slots])
        return f"the function must be defined as def answer({want}): it was def answer({', '.join(names)})"
    return None


# ------------------------------------------------------------------------------------------------
# paraphrases

_UNIT_WORDS = re.compile(
    r"\b(metres?|centimetres?|millimetres?|kilometres?|square|cubic|degrees?|radians?|feet|foot|inch(?:es)?|"
    r"yards?|miles?|seconds?|minutes?|percent|cm|mm|km)\b",
    re.I,
)


def _units(text: str) -> set[str]:
    return {u.lower().rstrip("s") for u in _UNIT_WORDS.findall(text.replace("meter", "metre"))}


def _placeholders(template: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9{}]+", " ", text.lower().replace("meter", "metre")).split())


def keep_paraphrases(spec: FamilySpec, reply: str, n: int) -> tuple[list[str], list[str]]:
    """(kept, dropped with reasons) among the reply's lines.

    A line is kept only if its ``{slots}`` are exactly the family's (each as often as in the
    question), it names the same units (no unit dropped, none added: "in metres" must not become
    "in feet"), every multiple-choice option the question names is still named, it is still a
    question if the original is, and it is not the same words again.
    """
    original = spec.templates[0]
    units, places = _units(original), _placeholders(original)
    options = [o for o in spec.options if o.lower() in original.lower()]
    kept, dropped, seen = [], [], {_norm(t) for t in spec.templates}
    for raw in reply.splitlines():
        line = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", raw).strip().strip('"').strip()
        if not line or line.endswith(":") or "```" in line:
            continue
        try:
            used = template_slots(line)
        except ValueError:
            dropped.append(f"{line!r}: not a valid template")
            continue
        if used != set(spec.slots) or _placeholders(line) != places:
            dropped.append(f"{line!r}: slots {_placeholders(line)} instead of {places}")
        elif _units(line) != units:
            dropped.append(f"{line!r}: units {sorted(_units(line))} instead of {sorted(units)}")
        elif missing := [o for o in options if o.lower() not in line.lower()]:
            dropped.append(f"{line!r}: does not name the options {missing}")
        elif original.endswith("?") and not line.endswith("?"):
            dropped.append(f"{line!r}: not a question")
        elif _norm(line) in seen:
            dropped.append(f"{line!r}: duplicate")
        elif len(line) > 300:
            dropped.append(f"{line[:40]!r}...: too long")
        else:
            kept.append(line)
            seen.add(_norm(line))
    return kept[:n], dropped
