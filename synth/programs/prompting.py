"""What the compiler asks the model: the scene API reference, the prompts, the paraphrase prompt.

The API reference is generated from ``synth.programs.scene_api`` by introspection (signatures,
docstrings, dataclass fields and their comments); ``api_version`` hashes it, so cached replies
are reused only for the same API. The system prompt holds the rules, that reference and one
worked example; the user prompt describes one family (``FamilySpec``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import io
import json
import re
import tokenize
from collections.abc import Callable
from typing import Any

from synth.programs import scene_api
from synth.programs.family import FamilySpec
from synth.programs.restricted import BUILTINS, MATH

COMPILER_VERSION = "1"  # part of every prompt hash: bump when the prompt format changes

# ------------------------------------------------------------------------------------------------
# API reference, generated from synth/programs/scene_api.py


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
    """The scene API as programs see it, generated from ``synth.programs.scene_api`` by introspection."""
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
# prompts

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


def answer_spec(spec: FamilySpec) -> str:
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
    """The family as the model sees it: question, slots, return type, definition, signature."""
    lines = [f"Question: {spec.templates[0]}", "Slots:", *_slot_lines(spec), f"Return: {answer_spec(spec)}"]
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
# paraphrases

PARAPHRASE_PROMPT = """Rewrite this question for a video question-answering dataset in {n} different ways.
Keep its meaning and its unit. Keep every placeholder in curly braces exactly as written: {placeholders}.
Write the {n} questions as a numbered list, nothing else.

Question: {question}"""


def paraphrase_prompt(spec: FamilySpec) -> str:
    """The request for ``spec.paraphrases`` more phrasings of the family's first template."""
    placeholders = ", ".join("{" + s + "}" for s in spec.slots) or "(none)"
    return PARAPHRASE_PROMPT.format(n=spec.paraphrases, placeholders=placeholders, question=spec.templates[0])
