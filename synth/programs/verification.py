"""Verifying a program: sample episodes, running on them, reference answers, the checks.

``sample_episodes`` makes small episodes from a scene source and a renderer (the caller picks
them: ``synth.cli.compile.verification_episodes``); ``draw_samples`` binds a family's slots on
them; ``run_on_samples`` runs a program on every binding in the sandbox; ``reference_values``
gives the answers of a reference (a library family or an oracle); ``verify_program`` applies
every check and returns a ``Check``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synth.core.evidence import with_evidence
from synth.core.plugin import Renderer, SceneSource
from synth.core.scene import Episode, VideoSpec, VisibilityRule
from synth.planning.shoot import shoot
from synth.programs import scene_api
from synth.programs.family import Family, FamilySpec
from synth.programs.parsing import signature_problem
from synth.programs.prompting import answer_spec
from synth.programs.restricted import ProgramRejected, compile_program
from synth.programs.sandbox import SandboxPool, Task

MIN_PIXELS, MIN_FRAMES = 30, 2  # visibility thresholds on the (low-resolution) sample episodes

BINDINGS_PER_EPISODE = 8


def sample_episodes(
    scenes: SceneSource,
    renderer: Renderer,
    n: int = 6,
    seed: int = 0,
    frames: int = 8,
    width: int = 160,
    height: int = 120,
) -> list[Episode]:
    """``n`` small episodes to verify programs on, with their evidence: scene ``910_000 + 1000 * seed + i``
    of ``scenes`` (e.g. the procedural source), planned and rendered by ``renderer`` (e.g. the software
    z-buffer, which measures visibility exactly and quickly), every second one with object motion.
    The caller owns ``renderer`` (and closes it)."""
    video = VideoSpec(frames=frames, width=width, height=height)
    rule = VisibilityRule(min_pixels=MIN_PIXELS, min_frames=MIN_FRAMES)
    episodes = []
    for i in range(n):
        rng = np.random.default_rng([seed, i, 7])
        episode, buffers = shoot(renderer, scenes(910_000 + 1000 * seed + i), video, rule, rng, dynamic=i % 2 == 1)
        episodes.append(with_evidence(episode, buffers.depth, buffers.instance))
    return episodes


# where reference answers come from: a library family, or an oracle(episode, slots, min_pixels, min_frames)
Reference = Family | Callable[[Episode, dict, int, int], Any]


@dataclass
class Sample:
    """One sample episode: its JSON (what the sandbox gets), its SceneAPI and the slot bindings to try."""

    episode: Episode
    json: str
    api: Any  # SceneAPI
    bindings: list[dict]


def draw_samples(spec: FamilySpec, episodes: Sequence[Episode], seed: int) -> list[Sample]:
    """Up to BINDINGS_PER_EPISODE slot bindings per episode, drawn as a run would draw them
    (episodes that offer none are left out, so the list may be shorter than ``episodes``)."""
    from synth.programs.generate import _bindings, unambiguous
    from synth.programs.scene_api import SceneAPI

    family = spec.family()
    out = []
    for i, ep in enumerate(episodes):
        api = SceneAPI(ep)
        seen = sorted(o for o in unambiguous(ep) if api.seen(o))
        rng = np.random.default_rng([seed, i, int(hashlib.sha256(spec.id.encode()).hexdigest()[:8], 16)])
        bindings = _bindings(family, api, seen, rng)[:BINDINGS_PER_EPISODE]
        if bindings:
            out.append(Sample(ep, ep.model_dump_json(), api, bindings))
    return out


def agree(a: Any, b: Any, number: bool) -> bool:
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


def run_on_samples(source: str, samples: list[Sample], pool: SandboxPool, stop_on_error: bool = False) -> list:
    """Sandbox outcomes of ``source`` for every sample binding, in order.

    With ``stop_on_error`` the first binding runs alone and the first failing episode ends the
    run (a runaway program costs one CPU limit, not one per binding); the list is then shorter.
    """
    out = []
    for k, s in enumerate(samples):
        tasks = [Task(source, b) for b in s.bindings]
        if stop_on_error and k == 0:
            out += pool.run(s.json, tasks[:1])
            if not out[0].ok:
                return out
            tasks = tasks[1:]
        out += pool.run(s.json, tasks)
        if stop_on_error and not all(o.ok for o in out):
            return out
    return out


def reference_values(reference: Reference, samples: list[Sample], pool: SandboxPool) -> list[Any]:
    """The reference's answer for every sample binding, in order (None where it does not apply or fails)."""
    if isinstance(reference, Family):
        return [o.value if o.ok else None for o in run_on_samples(reference.source, samples, pool)]
    return [reference(s.episode, dict(b), MIN_PIXELS, MIN_FRAMES) for s in samples for b in s.bindings]


def verify_program(
    spec: FamilySpec, source: str, samples: list[Sample], pool: SandboxPool, expected: list[Any] | None = None
) -> Check:
    """Restricted compile, then on every sample binding: runs, deterministic, right type, answers
    often enough, not always the same answer, and (given ``expected``) agrees with the reference.

    Agreement: numbers within 1% (or 0.01), everything else equal. Returning None where the
    reference answers is allowed (it only loses items, and at most half of them); answering
    where the reference returns None (question ambiguous or not applicable) is a disagreement.
    """
    from synth.programs.generate import check_answer, split_answer

    try:
        compile_program(source, f"<{spec.id}>")
    except ProgramRejected as e:
        return Check(False, f"does not compile under the program policy: {e}")
    problem = signature_problem(source, spec)
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
        if v is not None and family.chosen_slots:
            v = split_answer(family, v, b)[0]
            if v is None:
                bad = f'a dict of "answer" and {list(family.chosen_slots)}'
                return Check(False, f"on {_where(k, b)}: it must return {bad}", summary=summary)
        if v is not None and (bad := check_answer(family, v, api)):
            return Check(False, f"on {_where(k, b)}: {bad}; it must return {answer_spec(spec)}", summary=summary)
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
        wrong = [(w, v, e) for w, v, e in zip(where, values, expected) if v is not None and not agree(v, e, number)]
        summary.update(
            reference_answered=base,
            agreed=sum(1 for v, e in zip(values, expected) if v is not None and agree(v, e, number)),
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
