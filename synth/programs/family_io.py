"""Families on disk: the one file format of library and compiled families, and user YAML in.

A family is two files in one directory:

- ``<id>.py``: its program, exactly the source text that runs (and that ``program_id`` hashes);
- ``<id>.family.yaml``: every other field of the ``Family`` (templates, slots, answer type,
  unit, tolerance, options, symmetric, slot_values, keep, balance_by, distractors, levels, tags,
  definition, provenance), as YAML, fields at their default left out; compiled families add
  ``source_sha256``, so that a program edited after it was verified is refused.

``write_family`` writes that format and ``load_families`` reads it, for ``programs/library/``
(in a fixed order) and for a directory of compiled families alike. ``load_family_specs`` reads
the YAML a user writes to describe families to compile (``FamilySpec``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from synth.programs.family import Family, FamilySpec, FamilySpecError
from synth.programs.restricted import ProgramRejected, compile_program

SUFFIX = ".family.yaml"


def describe(error: ValidationError) -> str:
    """The messages of a pydantic ValidationError, one clause each, naming the field where useful."""
    parts = []
    for e in error.errors():
        msg = e["msg"].removeprefix("Value error, ")
        loc = ".".join(str(x) for x in e["loc"])
        parts.append(msg if e["type"] == "value_error" or not loc else f"{loc}: {msg}")
    return "; ".join(parts)


def family_yaml(family: Family, seal: bool = False) -> str:
    """The ``<id>.family.yaml`` text of ``family``; ``seal`` adds the program's sha256."""
    meta: dict[str, Any] = family.model_dump(mode="json", exclude={"source"}, exclude_defaults=True)
    if seal:
        meta["source_sha256"] = hashlib.sha256(family.source.encode()).hexdigest()
    note = "compiled and verified by `synth compile`: recompile instead of editing" if seal else "vetted"
    head = f"# question family {family.id!r}, {note}; program: {family.id}.py; format: synth/programs/family_io.py\n"
    return head + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=110)


def write_family(directory: str | Path, family: Family, seal: bool = False) -> Path:
    """Write ``family`` as ``<id>.py`` + ``<id>.family.yaml`` into ``directory`` (created if
    missing; each file replaced atomically, the program first). Returns the program's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    py = directory / f"{family.id}.py"
    for path, text in ((py, family.source), (directory / f"{family.id}{SUFFIX}", family_yaml(family, seal))):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return py


def read_family(directory: str | Path, family_id: str) -> Family:
    """The family ``family_id`` stored in ``directory``.

    Raises FamilySpecError if a file is missing or unreadable, the metadata is invalid, a sealed
    program differs from the one verified, or the program breaks the program policy.
    """
    meta_path = Path(directory) / f"{family_id}{SUFFIX}"
    try:
        meta = yaml.safe_load(meta_path.read_text())
        source = meta_path.with_name(f"{family_id}.py").read_text()
    except (OSError, yaml.YAMLError) as e:
        raise FamilySpecError(f"{meta_path}: unreadable family: {e}") from None
    if not isinstance(meta, dict) or meta.get("id") != family_id:
        raise FamilySpecError(f"{meta_path}: expected a mapping with id: {family_id}")
    sha = meta.pop("source_sha256", None)
    if sha is not None and hashlib.sha256(source.encode()).hexdigest() != sha:
        raise FamilySpecError(f"{family_id}.py differs from the program that was verified; recompile it")
    try:
        compile_program(source, f"<{family_id}>")
    except ProgramRejected as e:
        raise FamilySpecError(f"{family_id}.py breaks the program policy: {e}") from None
    try:
        return Family.model_validate({**meta, "source": source})
    except ValidationError as e:
        raise FamilySpecError(f"{meta_path}: {describe(e)}") from None


def load_families(directory: str | Path, order: Sequence[str] | None = None) -> dict[str, Family]:
    """The families stored in ``directory``, by id: all of them sorted by id, or with ``order``
    exactly those, in that order.

    Raises FamilySpecError if the directory is missing, holds families in the older format of
    compiled families (``<id>.family.json``), does not hold exactly ``order``, or any family
    does not read (see ``read_family``).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FamilySpecError(f"{directory}: no such directory of families")
    if any(directory.glob("*.family.json")):
        raise FamilySpecError(f"{directory}: holds families in an older format (<id>.family.json); recompile them")
    found = sorted(p.name.removesuffix(SUFFIX) for p in directory.glob(f"*{SUFFIX}"))
    if order is not None and sorted(order) != found:
        raise FamilySpecError(
            f"{directory}: expected exactly the families {sorted(order)}, found {found} (list new ones in the order)"
        )
    return {fid: read_family(directory, fid) for fid in (found if order is None else order)}


def load_user_families(directory: str | Path) -> dict[str, Family]:
    """The compiled families in ``directory`` (written by ``synth compile``), sorted by id: see
    ``load_families``. A run uses them like library families."""
    return load_families(directory)


# ------------------------------------------------------------------------------------------------
# user families (YAML)

# what a user may write: the spec's fields (no program, no provenance) and ``question``, the
# shorthand for one template; a choice slot may be written ``{choice: [value, ...]}``
_YAML_KEYS = (set(FamilySpec.model_fields) - {"source", "provenance"}) | {"question"}


def _spec(entry: Any, where: str) -> FamilySpec:
    if not isinstance(entry, dict):
        raise FamilySpecError(f"{where}: a family must be a mapping, got {type(entry).__name__}")
    where = f"{where} ({entry.get('id') or 'no id'})"
    unknown = set(entry) - _YAML_KEYS
    if unknown:
        raise FamilySpecError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_YAML_KEYS)}")
    data = {k: v for k, v in entry.items() if v is not None}
    question = data.pop("question", None)
    if not data.get("templates") and question:
        data["templates"] = [question]
    if isinstance(data.get("templates"), str):
        data["templates"] = [data["templates"]]
    data.setdefault("templates", [])
    if isinstance(data.get("slots"), dict):
        slots, values = {}, dict(data.get("slot_values") or {})
        for name, kind in data["slots"].items():
            if isinstance(kind, dict) and set(kind) == {"choice"}:  # {move: {choice: [forward, backward]}}
                slots[name], values[name] = "choice", kind["choice"]
            else:
                slots[name] = kind
        data["slots"] = slots
        if values:
            data["slot_values"] = values
    try:
        return FamilySpec.model_validate(data)
    except ValidationError as e:
        raise FamilySpecError(f"{where}: {describe(e)}") from None


def load_family_specs(path: str | Path) -> list[FamilySpec]:
    """Parse and validate a user families YAML file (``families: [...]``, or a bare list).

    Raises FamilySpecError naming the file, the family and the field for unreadable or invalid
    YAML, an invalid family, or duplicate ids.
    """
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
