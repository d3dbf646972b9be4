"""Compile natural-language question families into verified programs with any OpenAI-compatible model.

A user family (YAML: question text with ``{slot}`` placeholders, answer type, options, unit,
tolerance) goes through

    prompt -> reply -> parse -> restricted compile -> sandbox on sample episodes -> verify -> accept | reject

The prompt carries an API reference generated from ``programs.scene_api`` by introspection
(signatures, docstrings, dataclass fields and their comments) and one worked example. A program
is accepted only if, on every sample binding, it runs, returns the right type (or None),
is deterministic, answers often enough, does not always give the same answer, and

- agrees with a reference (a library program, or an oracle passed in) where one exists for the
  family (confidence ``reference``), otherwise
- agrees with another independently sampled compilation (confidence ``consensus``, the weaker
  level; the provenance records it, and whether the agreeing programs were textually identical).

A failed attempt is retried with the reason fed back, up to a limit. Replies are cached on disk
by (prompt hash, model, API version); accepted programs land in a user library directory with a
provenance header, beside a per-family verification report. ``load_user_families`` turns that
directory into ``Family`` objects that a run uses like library families.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import io
import json
import keyword
import os
import re
import string
import time
import tokenize
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim_adapters.scene import Episode

from . import scene_api
from .family import Family
from .llm import ChatClient, LLMError
from .restricted import BUILTINS, MATH, ProgramRejected, compile_program
from .sandbox import SandboxPool, Task

COMPILER_VERSION = "1"  # part of every prompt hash: bump when the prompt format changes
ANSWER_TYPES = ("yes/no", "multiple choice", "number", "object")
SLOT_KINDS = ("object", "frame", "category", "choice")
MIN_PIXELS, MIN_FRAMES = 30, 2  # visibility thresholds on the (low-resolution) sample episodes
PROVENANCE_END = "# --- end of provenance ---"

# ------------------------------------------------------------------------------------------------
# API reference, generated from programs/scene_api.py


def _annotation(a: Any) -> str:
    if a is inspect.Parameter.empty:
        return ""
    return a if isinstance(a, str) else getattr(a, "__name__", repr(a))


def _signature(name: str, fn: Callable) -> str:
    sig = inspect.signature(fn)
    params = []
    for p in list(sig.parameters.values())[1:]:  # drop self
        text = p.name + (f": {_annotation(p.annotation)}" if p.annotation is not inspect.Parameter.empty else "")
        if p.default is not inspect.Parameter.empty:
            text += f" = {p.default!r}"
        params.append(text)
    ret = _annotation(sig.return_annotation)
    return f"scene.{name}({', '.join(params)})" + (f" -> {ret}" if ret else "")


def _field_comments(cls: type) -> dict[str, str]:
    """Trailing ``# comment`` of each field line in a dataclass's source."""
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    out, line_field = {}, {}
    for line_no, line in enumerate(src.splitlines(), 1):
        m = re.match(r"\s+(\w+)\s*:", line)
        if m:
            line_field[line_no] = m.group(1)
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT and tok.start[0] in line_field:
            out[line_field[tok.start[0]]] = tok.string.lstrip("#").strip()
    return out


def _dataclass_reference(cls: type) -> list[str]:
    comments = _field_comments(cls)
    lines = [f"{cls.__name__}: {inspect.getdoc(cls) or ''}".rstrip()]
    for f in dataclasses.fields(cls):
        note = f"  # {comments[f.name]}" if f.name in comments else ""
        lines.append(f"    .{f.name}: {_annotation(f.type)}{note}")
    return lines


def api_reference() -> str:
    """The scene API as programs see it, generated from ``programs.scene_api`` by introspection."""
    mod_doc = inspect.getdoc(scene_api) or ""
    lines = [
        "SCENE API (`scene` is a read-only " + scene_api.SceneAPI.__name__ + "; all values are immutable)",
        *mod_doc.splitlines(),
        f"Vec3 = {scene_api.Vec3!r}",
        "",
    ]
    for name, member in vars(scene_api.SceneAPI).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            ret = _annotation(inspect.signature(member.fget).return_annotation)
            lines.append(f"scene.{name} -> {ret}  (attribute, not a method)")
            doc = inspect.getdoc(member.fget)
        elif inspect.isfunction(member):
            lines.append(_signature(name, member))
            doc = inspect.getdoc(member)
        else:
            continue
        if doc:
            lines.extend("    " + d for d in doc.splitlines())
    lines.append("")
    for cls in (scene_api.ObjectInfo, scene_api.CameraInfo, scene_api.Projection, scene_api.MotionInfo):
        lines.extend(_dataclass_reference(cls))
    lines += [
        "",
        "`math` is available without import: " + ", ".join(f"math.{n}" for n in sorted(vars(MATH))),
        "Builtins: " + ", ".join(n for n in BUILTINS if n[0].islower()),
    ]
    return "\n".join(lines)


def api_version() -> str:
    """Content hash of the API reference: cached replies are only reused for the same API."""
    return hashlib.sha256(api_reference().encode()).hexdigest()[:12]


# ------------------------------------------------------------------------------------------------
# user families (YAML)


class FamilySpecError(ValueError):
    """A family description is invalid (message names the family and the field)."""


@dataclass(frozen=True)
class FamilySpec:
    """A user family as described in YAML, before compilation."""

    id: str
    templates: tuple[str, ...]
    slots: dict[str, str]
    answer_type: str
    unit: str = ""
    tolerance: float = 0.0
    options: tuple[str, ...] = ()
    symmetric: bool = False
    slot_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    definition: str = ""
    reference: str = ""  # id of a library family / oracle this family must agree with
    paraphrases: int = 0  # extra templates to ask the model for (kept only if the slots survive)
    tags: tuple[str, ...] = ()

    def family(self, source: str = "") -> Family:
        """This family with ``source`` as its program (for bindings and type checks)."""
        return Family(
            id=self.id,
            templates=self.templates,
            slots=dict(self.slots),
            answer_type=self.answer_type,  # type: ignore[arg-type]
            source=source,
            unit=self.unit,
            tolerance=self.tolerance,
            options=self.options,
            symmetric=self.symmetric,
            slot_values=dict(self.slot_values),
            tags=(*self.tags, "user", "compiled"),
            definition=self.definition,
        )


def template_slots(template: str) -> set[str]:
    """The ``{placeholders}`` of a str.format template (ValueError if it is malformed)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_KEYS = {
    "id",
    "question",
    "templates",
    "slots",
    "answer_type",
    "unit",
    "tolerance",
    "options",
    "symmetric",
    "definition",
    "reference",
    "paraphrases",
    "tags",
}


def _spec(entry: Any, where: str) -> FamilySpec:
    if not isinstance(entry, dict):
        raise FamilySpecError(f"{where}: a family must be a mapping, got {type(entry).__name__}")
    fid = str(entry.get("id", ""))
    where = f"{where} ({fid or 'no id'})"
    if not _ID.match(fid):
        raise FamilySpecError(f"{where}: id must match {_ID.pattern} (it names files)")
    unknown = set(entry) - _KEYS
    if unknown:
        raise FamilySpecError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    templates = entry.get("templates") or ([entry["question"]] if entry.get("question") else [])
    if isinstance(templates, str):
        templates = [templates]
    if not templates or not all(isinstance(t, str) and t.strip() for t in templates):
        raise FamilySpecError(f"{where}: needs a question (or templates: a list of questions)")
    raw_slots = entry.get("slots") or {}
    if not isinstance(raw_slots, dict):
        raise FamilySpecError(f"{where}: slots must map names to kinds ({', '.join(SLOT_KINDS)})")
    slots, slot_values = {}, {}
    for name, kind in raw_slots.items():
        if not re.match(r"^[a-z][a-z0-9_]*$", str(name)) or keyword.iskeyword(name) or name in ("scene", "math"):
            raise FamilySpecError(f"{where}: slot name {name!r} is not a lowercase identifier (or is reserved)")
        if isinstance(kind, dict) and set(kind) == {"choice"}:  # {move: {choice: [forward, backward]}}
            values = kind["choice"]
            if not isinstance(values, list) or len(values) < 2:
                raise FamilySpecError(f"{where}: choice slot {name!r} needs a list of at least two values")
            slots[name], slot_values[name] = "choice", tuple(str(v) for v in values)
        elif kind in SLOT_KINDS and kind != "choice":
            slots[name] = kind
        else:
            raise FamilySpecError(
                f"{where}: slot {name!r} has kind {kind!r}; use one of object, frame, category "
                "or {choice: [value, ...]}"
            )
    for t in templates:
        try:
            used = template_slots(t)
        except ValueError as e:
            raise FamilySpecError(f"{where}: question {t!r} is not a valid template: {e}") from None
        if used != set(slots):
            raise FamilySpecError(
                f"{where}: question {t!r} uses slots {sorted(used)} but the family declares {sorted(slots)}"
            )
    answer_type = entry.get("answer_type")
    if answer_type not in ANSWER_TYPES:
        raise FamilySpecError(f"{where}: answer_type must be one of {', '.join(ANSWER_TYPES)}, got {answer_type!r}")
    options = tuple(str(o) for o in entry.get("options") or ())
    if answer_type == "multiple choice" and len(options) < 2:
        raise FamilySpecError(f"{where}: a multiple choice family needs options (at least two)")
    if answer_type != "multiple choice" and options:
        raise FamilySpecError(f"{where}: options only apply to multiple choice families")
    try:
        tolerance = float(entry.get("tolerance", 0.0))
        paraphrases = int(entry.get("paraphrases", 0))
    except (TypeError, ValueError):
        raise FamilySpecError(f"{where}: tolerance must be a number and paraphrases an integer") from None
    if not 0 <= tolerance < 1 or not 0 <= paraphrases <= 5:
        raise FamilySpecError(f"{where}: tolerance must be in [0, 1) and paraphrases in 0..5")
    symmetric = bool(entry.get("symmetric", False))
    if symmetric and sum(k == "object" for k in slots.values()) < 2:
        raise FamilySpecError(f"{where}: symmetric needs at least two object slots")
    return FamilySpec(
        id=fid,
        templates=tuple(t.strip() for t in templates),
        slots=slots,
        answer_type=answer_type,
        unit=str(entry.get("unit", "") or ""),
        tolerance=tolerance,
        options=options,
        symmetric=symmetric,
        slot_values=slot_values,
        definition=str(entry.get("definition", "") or "").strip(),
        reference=str(entry.get("reference", "") or ""),
        paraphrases=paraphrases,
        tags=tuple(str(t) for t in entry.get("tags") or ()),
    )


def load_family_specs(path: str | Path) -> list[FamilySpec]:
    """Parse and validate a user families YAML file (``families: [...]``, or a bare list)."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as e:
        raise FamilySpecError(f"{path}: cannot read: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise FamilySpecError(f"{path}: not valid YAML: {e}") from None
    entries = doc.get("families") if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or not entries:
        raise FamilySpecError(f"{path}: expected a list of families under 'families:'")
    specs = [_spec(e, f"{path.name}: family {i + 1}") for i, e in enumerate(entries)]
    ids = [s.id for s in specs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise FamilySpecError(f"{path}: duplicate family ids {dupes}")
    return specs


# ------------------------------------------------------------------------------------------------
# prompt

EXAMPLE_QUESTION = "In frame {frame}, how far is the {a} from the camera, in metres?"
EXAMPLE_PROGRAM = """def answer(scene, a, frame):
    obj = scene.object(a, frame)
    cam = scene.camera(frame)
    return round(math.dist(obj.center, cam.position), 2)"""

RULES = """You write one Python function `answer(scene, **slots)` that computes the answer to a question \
about a 3D scene from ground truth, using only the scene API below.
Rules:
- Define exactly `def answer(scene, <slot names>):` with the slot names as parameters.
- Object slots are integer object ids (use scene.object(id)); frame slots are 0-based frame indices;
  category slots are category names (compare with ObjectInfo.category); choice slots are strings.
- Use only the attributes and methods listed. No imports (`math` is already available), no print,
  no classes, no I/O, no randomness.
- Return None if the question does not apply to these slot values.
- Reply with the code only, in one ```python block."""


def _answer_spec(spec: FamilySpec) -> str:
    if spec.answer_type == "number":
        unit = f" in {spec.unit}" if spec.unit else ""
        return f"a number{unit} (int or float)"
    if spec.answer_type == "yes/no":
        return 'the string "yes" or the string "no"'
    if spec.answer_type == "multiple choice":
        return "exactly one of the strings " + ", ".join(json.dumps(o) for o in spec.options)
    return "the integer id of an object (0 means the floor)"


def _slot_lines(spec: FamilySpec) -> list[str]:
    kinds = {
        "object": "int, an object id",
        "frame": "int, a 0-based frame index",
        "category": "str, an object category name",
    }
    out = []
    for name, kind in spec.slots.items():
        if kind == "choice":
            out.append(f"- {name}: str, one of " + ", ".join(json.dumps(v) for v in spec.slot_values[name]))
        else:
            out.append(f"- {name}: {kinds[kind]}")
    return out or ["- (no slots: the function takes only scene)"]


def system_prompt() -> str:
    """Rules, the generated API reference and one worked example (the same for every family)."""
    return "\n\n".join(
        [
            RULES,
            api_reference(),
            "EXAMPLE\nQuestion: " + EXAMPLE_QUESTION + "\nSlots:\n- a: int, an object id\n"
            "- frame: int, a 0-based frame index\nReturn: a number in m (int or float)\n"
            "Signature: def answer(scene, a, frame):\n```python\n" + EXAMPLE_PROGRAM + "\n```",
        ]
    )


def user_prompt(spec: FamilySpec) -> str:
    lines = [f"Question: {spec.templates[0]}", "Slots:", *_slot_lines(spec), f"Return: {_answer_spec(spec)}"]
    if spec.definition:
        lines.append(f"Definition: {spec.definition}")
    lines.append(f"Signature: def answer({', '.join(['scene', *spec.slots])}):")
    return "\n".join(lines)


def build_messages(spec: FamilySpec, retry: tuple[str, str] | None = None) -> list[dict[str, str]]:
    """Chat messages for ``spec``; ``retry`` = (previous reply, why it was rejected)."""
    messages = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": user_prompt(spec)}]
    if retry:
        reply, reason = retry
        messages += [
            {"role": "assistant", "content": reply},
            {
                "role": "user",
                "content": f"That program was rejected: {reason}\nWrite the corrected function, code only.",
            },
        ]
    return messages


# ------------------------------------------------------------------------------------------------
# reply parsing


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


def _signature_problem(source: str, spec: FamilySpec) -> str | None:
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
# sample episodes and verification

BINDINGS_PER_EPISODE = 8


def sample_episodes(n: int = 6, seed: int = 0, frames: int = 8, width: int = 160, height: int = 120) -> list[Episode]:
    """Procedural episodes from the software z-buffer (sim_adapters.sketch), with their evidence."""
    from sim_adapters.procedural import sample_scene
    from sim_adapters.sketch import sketch_episode, sketch_passes

    from .evidence import with_evidence

    episodes = [
        sketch_episode(
            sample_scene(910_000 + 1000 * seed + i),
            frames,
            width,
            height,
            np.random.default_rng([seed, i, 7]),
            dynamic=i % 2 == 1,
            min_pixels=MIN_PIXELS,
        )
        for i in range(n)
    ]
    return [with_evidence(ep, *sketch_passes(ep)) for ep in episodes]


# where reference answers come from: a library family, or an oracle(episode, slots, min_pixels, min_frames)
Reference = Family | Callable[[Episode, dict, int, int], Any]


@dataclass
class _Sample:
    episode: Episode
    json: str
    api: Any  # SceneAPI
    bindings: list[dict]


def _samples(spec: FamilySpec, episodes: Sequence[Episode], seed: int) -> list[_Sample]:
    from .generate import _bindings, unambiguous
    from .scene_api import SceneAPI

    family = spec.family()
    out = []
    for i, ep in enumerate(episodes):
        api = SceneAPI(ep, MIN_PIXELS, MIN_FRAMES)
        seen = sorted(o for o in unambiguous(ep) if api.seen(o))
        rng = np.random.default_rng([seed, i, int(hashlib.sha256(spec.id.encode()).hexdigest()[:8], 16)])
        bindings = _bindings(family, api, seen, rng)[:BINDINGS_PER_EPISODE]
        if bindings:
            out.append(_Sample(ep, ep.model_dump_json(), api, bindings))
    return out


def _agree(a: Any, b: Any, number: bool) -> bool:
    """Same answer: for number families within 1% (or 0.01, for rounding), otherwise exactly."""
    if a is None or b is None:
        return a is None and b is None
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if number and numeric:
        return abs(a - b) <= max(0.01, 0.01 * abs(b))
    return a == b


def _key(value: Any) -> str:
    return repr(round(value, 3)) if isinstance(value, float) else repr(value)


def _where(k: int, slots: dict) -> str:
    return f"sample episode {k} with {', '.join(f'{n}={v!r}' for n, v in slots.items()) or 'no slots'}"


def _attribute_hint(error: str) -> str:
    """For AttributeError on an API object: the attributes it does have (small models guess names)."""
    m = re.search(r"'(\w+)' object has no attribute", error)
    if not m:
        return ""
    cls = {
        c.__name__: c
        for c in (
            scene_api.SceneAPI,
            scene_api.ObjectInfo,
            scene_api.CameraInfo,
            scene_api.Projection,
            scene_api.MotionInfo,
        )
    }
    if m.group(1) not in cls:
        return ""
    c = cls[m.group(1)]
    names = (
        [f.name for f in dataclasses.fields(c)]
        if dataclasses.is_dataclass(c)
        else [n for n in vars(c) if not n.startswith("_")]
    )
    return f". {c.__name__} has only: {', '.join(names)}"


@dataclass
class Check:
    """The outcome of verifying one program on the sample episodes."""

    ok: bool
    reason: str = ""
    values: list[Any] = field(default_factory=list)  # per binding, in sample order
    summary: dict[str, Any] = field(default_factory=dict)


def run_on_samples(source: str, samples: list[_Sample], pool: SandboxPool, stop_on_error: bool = False) -> list:
    """Sandbox outcomes of ``source`` for every sample binding, in order.

    With ``stop_on_error`` the first binding runs alone and the first failing episode ends the
    run (a runaway program costs one CPU limit, not one per binding); the list is then shorter.
    """
    out = []
    for k, s in enumerate(samples):
        tasks = [Task(source, b) for b in s.bindings]
        if stop_on_error and k == 0:
            out += pool.run(s.json, tasks[:1], MIN_PIXELS, MIN_FRAMES)
            if not out[0].ok:
                return out
            tasks = tasks[1:]
        out += pool.run(s.json, tasks, MIN_PIXELS, MIN_FRAMES)
        if stop_on_error and not all(o.ok for o in out):
            return out
    return out


def reference_values(reference: Reference, samples: list[_Sample], pool: SandboxPool) -> list[Any]:
    if isinstance(reference, Family):
        return [o.value if o.ok else None for o in run_on_samples(reference.source, samples, pool)]
    return [reference(s.episode, dict(b), MIN_PIXELS, MIN_FRAMES) for s in samples for b in s.bindings]


def verify_program(
    spec: FamilySpec, source: str, samples: list[_Sample], pool: SandboxPool, expected: list[Any] | None = None
) -> Check:
    """Restricted compile, then on every sample binding: runs, deterministic, right type, answers
    often enough, not always the same answer, and (given ``expected``) agrees with the reference.

    Agreement: numbers within 1% (or 0.01), everything else equal. Returning None where the
    reference answers is allowed (it only loses items, and at most half of them); answering
    where the reference returns None (question ambiguous or not applicable) is a disagreement.
    """
    from .generate import check_answer

    try:
        compile_program(source, f"<{spec.id}>")
    except ProgramRejected as e:
        return Check(False, f"does not compile under the program policy: {e}")
    problem = _signature_problem(source, spec)
    if problem:
        return Check(False, problem)
    outcomes = run_on_samples(source, samples, pool, stop_on_error=True)
    where = [(k, b) for k, s in enumerate(samples) for b in s.bindings]
    apis = [s.api for s in samples for _ in s.bindings]
    family = spec.family(source)
    summary: dict[str, Any] = {"episodes": len(samples), "bindings": len(where)}
    failed = [(w, o) for w, o in zip(where, outcomes) if not o.ok]
    if failed:
        (k, b), o = failed[0]
        more = f" ({len(failed)} of {len(outcomes)} runs so far failed)" if len(failed) > 1 else ""
        return Check(False, f"on {_where(k, b)} it raised {o.error}{more}{_attribute_hint(o.error)}", summary=summary)
    if not all(o.deterministic for o in outcomes):
        return Check(False, "it is not deterministic: two runs gave different answers", summary=summary)
    values = [o.value for o in outcomes]
    for (k, b), v, api in zip(where, values, apis):
        if v is not None and (bad := check_answer(family, v, api)):
            return Check(False, f"on {_where(k, b)}: {bad}; it must return {_answer_spec(spec)}", summary=summary)
    answered = [v for v in values if v is not None]
    distinct = {_key(v) for v in answered}
    summary.update(answered=len(answered), distinct_answers=len(distinct), deterministic=True)
    base = len(values) if expected is None else sum(e is not None for e in expected)
    if base and len(answered) < 0.5 * base:
        return Check(
            False, f"it returns None for {len(values) - len(answered)} of {len(values)} bindings", values, summary
        )
    if len(distinct) < 2:
        what = f"always returns {answered[0]!r}" if answered else "never answers"
        return Check(False, f"it is trivial: it {what} on {len(values)} bindings", values, summary)
    number = spec.answer_type == "number"
    if expected is not None:
        wrong = [(w, v, e) for w, v, e in zip(where, values, expected) if v is not None and not _agree(v, e, number)]
        summary.update(
            reference_answered=base,
            agreed=sum(1 for v, e in zip(values, expected) if v is not None and _agree(v, e, number)),
            disagreed=len(wrong),
        )
        if wrong:
            (k, b), v, e = wrong[0]
            expect = "None (the question does not apply there)" if e is None else repr(e)
            return Check(
                False,
                f"wrong answer on {_where(k, b)}: returned {v!r}, expected {expect} "
                f"({len(wrong)} of {len(values)} bindings disagree with the reference)",
                values,
                summary,
            )
    return Check(True, "", values, summary)


# ------------------------------------------------------------------------------------------------
# cache


class ReplyCache:
    """Model replies on disk, keyed by (prompt hash, model, API version)."""

    def __init__(self, directory: str | Path, model: str, api: str):
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model)[:80] or "model"
        self.dir = Path(directory) / slug / api

    def get(self, prompt_hash: str) -> dict | None:
        try:
            return json.loads((self.dir / f"{prompt_hash}.json").read_text())
        except (OSError, ValueError):
            return None

    def put(self, prompt_hash: str, entry: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{prompt_hash}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(entry, indent=1))
        os.replace(tmp, self.dir / f"{prompt_hash}.json")


def prompt_hash(messages: list[dict[str, str]], temperature: float, max_tokens: int, seed: int | None) -> str:
    payload = {"compiler": COMPILER_VERSION, "messages": messages, "t": temperature, "max": max_tokens, "seed": seed}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "synth" / "compile"


DEFAULT_OUT_DIR = Path("data") / "families"


# ------------------------------------------------------------------------------------------------
# the compile loop


@dataclass
class Attempt:
    """One request to the model and what became of its reply."""

    n: int
    prompt_hash: str
    temperature: float
    seed: int | None
    cached: bool
    seconds: float
    finish_reason: str
    feedback: str  # the rejection reason this prompt carried back to the model ("" for a fresh prompt)
    program: str
    passed: bool
    reason: str


@dataclass
class FamilyReport:
    """The verification report of one family."""

    id: str
    status: str  # accepted | rejected | error
    reason: str = ""
    confidence: str = ""  # reference | consensus
    reference: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    verification: dict[str, Any] = field(default_factory=dict)
    program: str = ""
    path: str = ""
    templates: list[str] = field(default_factory=list)
    paraphrases_dropped: list[str] = field(default_factory=list)
    requests: int = 0  # requests that reached the endpoint (cache hits send none)
    seconds: float = 0.0

    def line(self) -> str:
        n = len(self.attempts)
        timing = (
            f"{n} attempt{'s' * (n != 1)}, {self.requests} request{'s' * (self.requests != 1)}, {self.seconds:.1f} s"
        )
        if self.status == "accepted":
            v = self.verification
            how = (
                f"agrees with {self.reference} on {v.get('agreed')}/{v.get('bindings')} bindings"
                if self.confidence == "reference"
                else f"{v.get('samples_agreeing')} independent samples agree on {v.get('bindings')} bindings"
            )
            return f"ACCEPTED  {self.id}: confidence {self.confidence}; {how}; {timing} -> {self.path}"
        return f"{self.status.upper():9s} {self.id}: {self.reason} ({timing})"


@dataclass
class CompileReport:
    """What ``compile_families`` did: a report per family, plus where things went."""

    model: str
    endpoint: str
    api_version: str
    out_dir: str
    families: list[FamilyReport]
    seconds: float
    report_path: str = ""

    @property
    def ok(self) -> bool:
        """True when every family was accepted (the CLI exits 0 exactly then)."""
        return all(f.status == "accepted" for f in self.families)

    @property
    def accepted(self) -> list[str]:
        return [f.id for f in self.families if f.status == "accepted"]

    @property
    def rejected(self) -> list[str]:
        return [f.id for f in self.families if f.status != "accepted"]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def format(self) -> str:
        lines = [f.line() for f in self.families]
        lines.append(
            f"{len(self.accepted)} of {len(self.families)} families accepted with {self.model} "
            f"in {self.seconds:.1f} s; report: {self.report_path}"
        )
        return "\n".join(lines)


def _public_endpoint(url: str) -> str:
    """The endpoint without credentials or query string (for reports)."""
    import urllib.parse

    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc.rpartition("@")[2], p.path, "", ""))


@dataclass
class _Compiler:
    client: ChatClient
    cache: ReplyCache | None
    pool: SandboxPool
    episodes: Sequence[Episode]
    references: Mapping[str, Reference]
    max_attempts: int
    consensus: int
    consensus_temperature: float
    max_tokens: int
    seed: int
    log: Callable[[str], None]

    def ask(
        self, messages: list[dict[str, str]], temperature: float, seed: int | None, max_tokens: int
    ) -> tuple[dict, bool, str]:
        """(reply entry, came from the cache, prompt hash)."""
        h = prompt_hash(messages, temperature, max_tokens, seed)
        if self.cache and (hit := self.cache.get(h)) is not None:
            return hit, True, h
        r = self.client.chat(messages, temperature=temperature, max_tokens=max_tokens, seed=seed)
        entry = {
            "text": self.client.redact(r.text),
            "finish_reason": r.finish_reason,
            "model": self.client.model,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(r.seconds, 3),
        }
        if self.cache:
            self.cache.put(h, entry)
        return entry, False, h

    def compile(self, spec: FamilySpec) -> FamilyReport:
        start, requests_before = time.monotonic(), self.client.requests
        ref_id = spec.reference or (spec.id if spec.id in self.references else "")
        report = FamilyReport(spec.id, "rejected", reference=ref_id)
        samples = _samples(spec, self.episodes, self.seed)
        try:
            if not samples:
                report.reason = "no sample episode offers a binding for its slots"
            else:
                self._loop(spec, samples, report, self.references.get(ref_id) if ref_id else None)
        except LLMError as e:
            report.status, report.reason = "error", f"endpoint error: {self.client.redact(str(e))}"
        report.requests = self.client.requests - requests_before
        report.seconds = round(time.monotonic() - start, 2)
        return report

    def _attempt(self, spec, samples, n, retry, temperature, seed, expected) -> tuple[Attempt, Check, str]:
        messages = build_messages(spec, retry)
        t0 = time.monotonic()
        entry, cached, h = self.ask(messages, temperature, seed, self.max_tokens)
        text = entry["text"]
        try:
            program = extract_program(text)
            check = verify_program(spec, program, samples, self.pool, expected)
        except ParseError as e:
            program, check = "", Check(False, str(e))
        if not check.ok and entry.get("finish_reason") == "length" and not program:
            check.reason += " (the reply was cut off at the token limit)"
        attempt = Attempt(
            n=n,
            prompt_hash=h,
            temperature=temperature,
            seed=seed,
            cached=cached,
            seconds=round(time.monotonic() - t0, 2),
            finish_reason=str(entry.get("finish_reason", "")),
            feedback=retry[1] if retry else "",
            program=program,
            passed=check.ok,
            reason=check.reason,
        )
        verdict = "passed" if check.ok else f"rejected: {check.reason}"
        self.log(f"  {spec.id} attempt {n}{' (cached)' if cached else ''}: {verdict}")
        return attempt, check, text

    def _loop(self, spec: FamilySpec, samples: list[_Sample], report: FamilyReport, reference: Reference | None):
        if reference is not None:
            expected = reference_values(reference, samples, self.pool)
            retry, asked = None, set()
            for n in range(1, self.max_attempts + 1):
                temperature, seed = 0.0, None
                if prompt_hash(build_messages(spec, retry), 0.0, self.max_tokens, None) in asked:
                    temperature, seed = self.consensus_temperature, n  # the same prompt again: sample instead
                attempt, check, text = self._attempt(spec, samples, n, retry, temperature, seed, expected)
                asked.add(attempt.prompt_hash)
                report.attempts.append(attempt)
                if check.ok:
                    report.status, report.confidence, report.program = "accepted", "reference", attempt.program
                    report.verification = check.summary
                    return
                retry = (text, check.reason)
            report.reason = (
                f"no verified program after {self.max_attempts} attempts; last: {report.attempts[-1].reason}"
            )
            return
        # no reference: independently sampled compilations must agree
        passing: list[tuple[Attempt, Check]] = []
        retry = None
        budget = self.max_attempts + self.consensus - 1
        for n in range(1, budget + 1):
            temperature = 0.0 if n == 1 else self.consensus_temperature
            attempt, check, text = self._attempt(spec, samples, n, retry, temperature, n, None)
            report.attempts.append(attempt)
            if not check.ok:
                retry = (text, check.reason)
                continue
            retry = None
            number = spec.answer_type == "number"
            agreeing = [(a, c) for a, c in passing if all(_agree(x, y, number) for x, y in zip(c.values, check.values))]
            passing.append((attempt, check))
            if len(agreeing) + 1 >= self.consensus:
                first = agreeing[0][0]
                report.status, report.confidence, report.program = "accepted", "consensus", first.program
                report.verification = {
                    **agreeing[0][1].summary,
                    "samples_agreeing": len(agreeing) + 1,
                    "identical_programs": all(a.program == attempt.program for a, _ in agreeing),
                    "agreeing_attempts": [a.n for a, _ in agreeing] + [attempt.n],
                }
                return
        if len(passing) >= 2:
            (a1, c1), (a2, c2) = passing[:2]
            k = next(
                i
                for i, (x, y) in enumerate(zip(c1.values, c2.values))
                if not _agree(x, y, spec.answer_type == "number")
            )
            report.reason = (
                f"no independent agreement: attempts {a1.n} and {a2.n} both pass the checks but differ "
                f"(binding {k}: {c1.values[k]!r} vs {c2.values[k]!r})"
            )
        elif passing:
            report.reason = (
                f"no independent agreement: only attempt {passing[0][0].n} of {budget} passed the checks "
                f"(no reference program exists for this family; {self.consensus} agreeing samples are needed)"
            )
        else:
            report.reason = f"no verified program after {budget} attempts; last: {report.attempts[-1].reason}"


# ------------------------------------------------------------------------------------------------
# paraphrases

PARAPHRASE_PROMPT = """Rewrite this question for a video question-answering dataset in {n} different ways.
Keep its meaning and its unit. Keep every placeholder in curly braces exactly as written: {placeholders}.
Write the {n} questions as a numbered list, nothing else.

Question: {question}"""


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


def _paraphrase(compiler: _Compiler, spec: FamilySpec) -> tuple[list[str], list[str]]:
    placeholders = ", ".join("{" + s + "}" for s in spec.slots) or "(none)"
    prompt = PARAPHRASE_PROMPT.format(n=spec.paraphrases, placeholders=placeholders, question=spec.templates[0])
    entry, _, _ = compiler.ask([{"role": "user", "content": prompt}], 0.0, None, 40 * spec.paraphrases + 40)
    return keep_paraphrases(spec, entry["text"], spec.paraphrases)


# ------------------------------------------------------------------------------------------------
# the library of compiled families


def _header(spec: FamilySpec, report: FamilyReport, provenance: dict[str, str]) -> str:
    lines = [
        f"# synth compiled program for family {spec.id!r}: generated, verified; recompile instead of editing",
        f"# model: {provenance['model']}  endpoint: {provenance['endpoint']}  date: {provenance['date']}",
        f"# prompt: sha256:{provenance['prompt_hash']}  api: {provenance['api_version']}  compiler: {COMPILER_VERSION}",
        f"# confidence: {provenance['confidence']}",
        f"# verification: {provenance['verification']}",
        PROVENANCE_END,
    ]
    return "\n".join(lines) + "\n"


def _verification_line(report: FamilyReport) -> str:
    v = report.verification
    text = (
        f"{v.get('episodes')} episodes, {v.get('bindings')} bindings, {v.get('answered')} answered, "
        f"{v.get('distinct_answers')} distinct answers, deterministic"
    )
    if report.confidence == "reference":
        return text + f", {v.get('agreed')} agree with {report.reference}, {v.get('disagreed')} disagree"
    same = "identical" if v.get("identical_programs") else "different"
    return text + f", {v.get('samples_agreeing')} independently sampled programs ({same} code) agree on all"


def _write_family(out_dir: Path, spec: FamilySpec, report: FamilyReport, provenance: dict[str, str]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    program = report.program
    meta = {
        "id": spec.id,
        "templates": report.templates or list(spec.templates),
        "slots": spec.slots,
        "answer_type": spec.answer_type,
        "unit": spec.unit,
        "tolerance": spec.tolerance,
        "options": list(spec.options),
        "symmetric": spec.symmetric,
        "slot_values": {k: list(v) for k, v in spec.slot_values.items()},
        "definition": spec.definition,
        "tags": list(spec.tags),
        "source_sha256": hashlib.sha256(program.encode()).hexdigest(),
        "provenance": provenance,
    }
    py = out_dir / f"{spec.id}.py"
    for path, text in (
        (py, _header(spec, report, provenance) + program),
        (out_dir / f"{spec.id}.family.json", json.dumps(meta, indent=1) + "\n"),
    ):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return py


def load_user_families(directory: str | Path) -> dict[str, Family]:
    """The accepted compiled families in ``directory`` (``<id>.py`` + ``<id>.family.json``) as Family objects.

    Raises FamilySpecError if the directory is missing or a program no longer matches what was
    verified (edited by hand) or no longer passes the program policy.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FamilySpecError(f"{directory}: no such directory of compiled families")
    out: dict[str, Family] = {}
    for meta_path in sorted(directory.glob("*.family.json")):
        try:
            meta = json.loads(meta_path.read_text())
            text = (directory / f"{meta['id']}.py").read_text()
        except (OSError, ValueError, KeyError) as e:
            raise FamilySpecError(f"{meta_path}: unreadable compiled family: {e}") from None
        _, sep, program = text.partition(PROVENANCE_END + "\n")
        program = program if sep else text
        if hashlib.sha256(program.encode()).hexdigest() != meta.get("source_sha256"):
            raise FamilySpecError(f"{meta['id']}.py differs from the program that was verified; recompile it")
        try:
            compile_program(program, f"<{meta['id']}>")
        except ProgramRejected as e:
            raise FamilySpecError(f"{meta['id']}.py breaks the program policy: {e}") from None
        out[meta["id"]] = Family(
            id=meta["id"],
            templates=tuple(meta["templates"]),
            slots=dict(meta["slots"]),
            answer_type=meta["answer_type"],
            source=program,
            unit=meta.get("unit", ""),
            tolerance=float(meta.get("tolerance", 0.0)),
            options=tuple(meta.get("options", ())),
            symmetric=bool(meta.get("symmetric", False)),
            slot_values={k: tuple(v) for k, v in meta.get("slot_values", {}).items()},
            tags=(*meta.get("tags", ()), "user", "compiled"),
            definition=meta.get("definition", ""),
            provenance={k: str(v) for k, v in meta.get("provenance", {}).items()},
        )
    return out


def _check_reference(spec: FamilySpec, references: Mapping[str, Reference]) -> None:
    ref_id = spec.reference or (spec.id if spec.id in references else "")
    if not ref_id:
        return
    if ref_id not in references:
        raise FamilySpecError(f"family {spec.id}: reference {ref_id!r} is not a library family or a known oracle")
    ref = references[ref_id]
    if isinstance(ref, Family):
        if ref.slots != spec.slots:
            raise FamilySpecError(
                f"family {spec.id}: its slots {spec.slots} must match those of its reference {ref_id} {ref.slots}"
            )
        if ref.answer_type != spec.answer_type or (ref.options and set(ref.options) != set(spec.options)):
            raise FamilySpecError(
                f"family {spec.id}: answer type/options must match its reference {ref_id} "
                f"({ref.answer_type}{', options ' + str(list(ref.options)) if ref.options else ''})"
            )


# ------------------------------------------------------------------------------------------------
# entry point


def compile_families(
    yaml_path: str | Path,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    out_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    *,
    use_cache: bool = True,
    max_attempts: int = 3,
    consensus: int = 2,
    consensus_temperature: float = 0.7,
    episodes: int | Sequence[Episode] = 6,
    seed: int = 0,
    references: Mapping[str, Reference] | None = None,
    paraphrase: bool = True,
    timeout: float = 60.0,
    max_retries: int = 3,
    max_tokens: int = 256,
    client: ChatClient | None = None,
    pool: SandboxPool | None = None,
    log: Callable[[str], None] | None = None,
) -> CompileReport:
    """Compile and verify every family of a YAML file; accepted ones land in ``out_dir``.

    Endpoint/model/key default to ``OPENAI_BASE_URL``/``OPENAI_MODEL``/``OPENAI_API_KEY``.
    ``references`` adds (or overrides) references to the library families, e.g. test oracles.
    Invalid YAML or a missing endpoint/model raise (FamilySpecError, LLMError) before any
    request; per-family failures, endpoint errors included, are recorded in the report and the
    other families go on. Writes ``reports/<id>.json`` per family and ``reports/compile.json``.
    """
    from .library import FAMILIES

    if max_attempts < 1 or consensus < 2:
        raise ValueError("max_attempts must be >= 1 and consensus >= 2 (one sample verifies nothing)")
    t0 = time.monotonic()
    log = log or (lambda _msg: None)
    specs = load_family_specs(yaml_path)
    refs: dict[str, Reference] = {**FAMILIES, **(references or {})}
    for spec in specs:
        _check_reference(spec, refs)
    client = client or ChatClient(base_url, model, api_key, timeout=timeout, max_retries=max_retries)
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    api = api_version()
    cache = ReplyCache(cache_dir or default_cache_dir(), client.model, api) if use_cache else None
    eps = sample_episodes(episodes, seed) if isinstance(episodes, int) else list(episodes)
    own_pool = pool is None
    pool = pool or SandboxPool(workers=2)
    endpoint = _public_endpoint(client.base_url)
    reports = []
    try:
        compiler = _Compiler(
            client, cache, pool, eps, refs, max_attempts, consensus, consensus_temperature, max_tokens, seed, log
        )
        for spec in specs:
            ref = spec.reference or (spec.id if spec.id in refs else "")
            log(f"compiling {spec.id} ({'reference ' + ref if ref else 'no reference: needs consensus'})")
            report = compiler.compile(spec)
            if report.status == "accepted":
                report.templates = list(spec.templates)
                if paraphrase and spec.paraphrases:
                    before, started = client.requests, time.monotonic()
                    try:
                        kept, dropped = _paraphrase(compiler, spec)
                        report.templates += kept
                        report.paraphrases_dropped = dropped
                    except LLMError as e:
                        report.paraphrases_dropped = [f"paraphrasing failed: {client.redact(str(e))}"]
                    report.requests += client.requests - before
                    report.seconds = round(report.seconds + time.monotonic() - started, 2)
                accepted = next(a for a in report.attempts if a.program == report.program)
                provenance = {
                    "origin": "compiled",
                    "model": client.model,
                    "endpoint": endpoint,
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "prompt_hash": accepted.prompt_hash,
                    "api_version": api,
                    "compiler_version": COMPILER_VERSION,
                    "confidence": report.confidence + (f" ({report.reference})" if report.reference else ""),
                    "verification": _verification_line(report),
                    "attempts": str(len(report.attempts)),
                }
                report.path = str(_write_family(out, spec, report, provenance))
            log(report.line())
            reports.append(report)
    finally:
        if own_pool:
            pool.close()
    result = CompileReport(client.model, endpoint, api, str(out), reports, round(time.monotonic() - t0, 2))
    rdir = out / "reports"
    rdir.mkdir(parents=True, exist_ok=True)
    for r in reports:
        (rdir / f"{r.id}.json").write_text(json.dumps(dataclasses.asdict(r), indent=1) + "\n")
    result.report_path = str(rdir / "compile.json")
    Path(result.report_path).write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    return result
