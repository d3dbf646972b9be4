"""Turn an episode into verified QA items.

For each family: enumerate slot bindings over objects that are seen and unambiguously
described, run the family's program on them in the sandbox, keep answers that type-check and
are deterministic, and pick items so that answer values are as balanced as possible. A share
of items deliberately names an object the video never shows: their answer is the abstention.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from synth.core.evidence import remeasured
from synth.core.records import WHICH_VIEW, Difficulty, TraceStep
from synth.core.scene import Episode, Frame
from synth.programs import grounded
from synth.programs.difficulty import Adaptation, measure
from synth.programs.family import ABSTAIN, FLOOR, QA, Family, plural
from synth.programs.library import FAMILIES
from synth.programs.sandbox import Outcome, SandboxPool, Task
from synth.programs.scene_api import SceneAPI, prefix_episode, view_episode
from synth.programs.trace import trace_text

DISTRACTORS = 3


@dataclass
class GenerationReport:
    """What happened to every candidate binding (for the run summary and the dataset card).

    ``why`` counts, per family, the candidates whose program gave no answer, by the reason it gave:
    the evidence the video shows is insufficient or within the family's margin (e.g. an object cut
    by the border, a motion that does not show, two depths within 15%), or the question does not
    apply."""

    candidates: Counter = field(default_factory=Counter)
    asked: Counter = field(default_factory=Counter)
    why: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # dropped, by reason
    rejected: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def dropped(self, family: str) -> int:
        return sum(self.why.get(family, Counter()).values())

    def as_dict(self) -> dict[str, dict]:
        """Per family: candidates, dropped (no answer the evidence supports) and why, rejected, asked."""
        families = sorted(set(self.candidates) | set(self.asked))
        return {
            f: {
                "candidates": self.candidates[f],
                "dropped": self.dropped(f),
                "why": dict(self.why.get(f, {})),
                "rejected": len(self.rejected.get(f, [])),
                "asked": self.asked[f],
            }
            for f in families
        }


def unambiguous(episode: Episode) -> set[int]:
    """Objects whose description names exactly one object in the scene, and whose look-alikes
    (``synth.core.describe``) the video shows too: "the taller chair" needs both chairs seen."""
    counts = Counter(o.description for o in episode.scene.objects)
    api = SceneAPI(episode)
    return {
        o.id for o in episode.scene.objects if counts[o.description] == 1 and all(api.seen(i) for i in o.look_alikes)
    }


def check_answer(family: Family, value, api: SceneAPI) -> str | None:
    """None if ``value`` is a valid answer of the family's type, else the reason."""
    if family.answer_type == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif family.answer_type == "yes/no":
        ok = value in ("yes", "no")
    elif family.answer_type == "multiple choice":
        ok = isinstance(value, str) if family.orders else value in family.options
    elif grounded.is_grounded(family):
        ok = grounded.valid(family, value)
    else:
        ok = isinstance(value, int) and not isinstance(value, bool) and (value == 0 or value in api.object_ids())
    return None if ok else f"answer {value!r} is not a valid {family.answer_type}"


def evidence_frames(api: SceneAPI, objects: list[int]) -> list[int]:
    """The frames in which every one of ``objects`` is visible (``QA.evidence_frames``)."""
    return [f for f in range(api.num_frames) if all(api.is_visible(o, f) for o in objects)]


def _describe(episode: Episode, object_id: int) -> str:
    return FLOOR if object_id == 0 else episode.scene.object(object_id).description


def answer_text(family: Family, value, episode: Episode) -> tuple[str, float | None]:
    if family.answer_type == "number":
        return (f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)), float(value)
    if family.answer_type == "object":
        return _describe(episode, value), None
    if grounded.is_grounded(family):
        return grounded.text(value), None
    return str(value), None


def _render_slots(family: Family, slots: dict, episode: Episode) -> dict[str, str]:
    out = {}
    for name, kind in family.slots.items():
        v = slots[name]
        if kind == "object":
            out[name] = episode.scene.object(v).description
        elif kind == "frame":
            out[name] = str(v + 1)
        elif kind == "category":
            # options and maps name categories as such
            out[name] = v if name in family.option_slots or grounded.is_grounded(family) else plural(v)
        else:
            out[name] = v
    return out


def _bindings(family: Family, api: SceneAPI, objects: list[int], rng: np.random.Generator) -> list[dict]:
    """Candidate slot values: object tuples in random order, each with a frame that shows them,
    random categories and choice values; every combination of the ``balance_by`` choice values."""
    if family.category_pool == "seen" or len(family.drawn_slots()) > 3:
        return _drawn_bindings(family, api, objects, rng)
    obj_slots = family.drawn_slots()
    contexts = [
        dict(zip(family.balance_by, c)) for c in itertools.product(*(family.slot_values[b] for b in family.balance_by))
    ]
    if obj_slots:
        combos = itertools.combinations if family.symmetric else itertools.permutations
        pools = [list(c) for c in combos(objects, len(obj_slots))]
    else:
        pools = [[]]
    rng.shuffle(pools)
    out = []
    cats = sorted({api.object(o).category for o in objects})
    for ids in pools[: family.candidates * 4]:
        slots = dict(zip(obj_slots, ids))
        for name, kind in family.slots.items():
            if kind == "frame":  # a frame that shows every named object, uncut by the border where one does
                shared = evidence_frames(api, ids)
                full = [f for f in shared if all(api.in_full_view(o, f) for o in ids)]
                if not shared:
                    break
                slots[name] = int(rng.choice(full or shared))
            elif kind == "category":
                if not cats:
                    break
                slots[name] = cats[int(rng.integers(len(cats)))]
            elif kind == "choice" and name not in family.balance_by:
                values = family.slot_values[name]
                slots[name] = values[int(rng.integers(len(values)))]
        else:
            out += [{**slots, **context} for context in contexts]
        if len(out) >= family.candidates * len(contexts):
            break
    return out


def _balanced(
    family: Family, candidates: list[tuple[dict, object]], n: int, rng: np.random.Generator
) -> list[tuple[dict, object]]:
    """Round-robin over distinct answers so that no answer dominates the family; with
    ``balance_by``, whole sets holding every answer once for the same shown choice values."""
    if family.balance_by:
        answers = family.options if family.answer_type == "multiple choice" else ("yes", "no")
        groups: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for c in candidates:
            groups[tuple(c[0][b] for b in family.balance_by)][c[1]].append(c)
        sets = [
            [by_answer[a][j] for a in answers]
            for by_answer in groups.values()
            for j in range(min(len(by_answer[a]) for a in answers))
        ]
        order = rng.permutation(len(sets))
        return [c for k in order[: n // len(answers)] for c in sets[k]]
    by_answer: dict[str, list] = defaultdict(list)
    for c in candidates:
        by_answer[repr(c[1])].append(c)
    keys = list(by_answer)
    rng.shuffle(keys)
    picked = []
    while len(picked) < n and any(by_answer.values()):
        for k in keys:
            if by_answer[k] and len(picked) < n:
                picked.append(by_answer[k].pop(0))
    return picked


def _perspective(family: Family, api: SceneAPI, slots: dict) -> str | None:
    """``QA.perspective`` of a contrast family's item: is the farther of its two objects (larger
    median visible depth in the item's frame) lower in the frame (larger mask centroid v), against
    the prior that higher is farther ("counter"), or not ("consistent")."""
    frame = int(next(v for k, v in slots.items() if family.slots[k] == "frame"))
    a, b = (slots[s] for s in family.object_slots())
    depth = {o: api.visible_depth(o, frame) for o in (a, b)}
    centre = {o: api.mask_centroid(o, frame) for o in (a, b)}
    if None in depth.values() or None in centre.values() or depth[a] == depth[b]:
        return None
    far, near = (a, b) if depth[a] > depth[b] else (b, a)
    return "counter" if centre[far][1] > centre[near][1] else "consistent"


def _contrast_pairs(family: Family, candidates: list[tuple], n: int, rng: np.random.Generator) -> list[tuple]:
    """For a contrast family: as many items against the perspective prior as with it, ``n // 2``
    pairs (at least one) where both kinds are among ``candidates`` (each kind balanced by answer
    as ``_balanced``); other families: ``_balanced``."""
    if not family.contrast:
        return _balanced(family, candidates, n, rng)
    kinds = [[c for c in candidates if c[-1] == kind] for kind in ("counter", "consistent")]
    pairs = min(len(kinds[0]), len(kinds[1]), max(1, n // 2))
    return [c for kind in kinds for c in _balanced(family, kind, pairs, rng)]


def _choices(
    family: Family, correct: str, slots: dict, episode: Episode, seen: list[int], rng: np.random.Generator
) -> list[str] | None:
    """The options asked, in order, the abstention last; None when no wrong option is available."""
    if family.option_slots:
        options = _slot_options(family, correct, slots, episode, rng)
        if options is None:
            return None
    elif family.answer_type == "multiple choice":
        options = list(family.options)
        if family.offer:
            wrong = [o for o in options if o != correct]
            picks = rng.permutation(len(wrong))[: family.offer - (correct != ABSTAIN)]
            options = [*([] if correct == ABSTAIN else [correct]), *(wrong[i] for i in picks)]
    elif family.answer_type == "object":
        if family.symmetric and family.object_slots() and correct != ABSTAIN:  # choose among the named objects
            options = [_describe(episode, slots[s]) for s in family.object_slots()]
        else:
            pool = [_describe(episode, o) for o in distractor_pool(family, episode, seen) if o not in slots.values()]
            pool = [p for p in dict.fromkeys(pool) if p != correct]
            if not pool:
                return None
            picks = rng.permutation(len(pool))[: DISTRACTORS + (correct == ABSTAIN)]
            options = [*([] if correct == ABSTAIN else [correct]), *(pool[i] for i in picks)]
    else:
        return []
    rng.shuffle(options)
    return [*options, ABSTAIN]


# -- VSI-Bench (issue #28): drawn bindings, options made from the slots -------------------------------
def _drawn_bindings(family: Family, api: SceneAPI, objects: list[int], rng: np.random.Generator) -> list[dict]:
    """Candidate slot values for families with four or more object slots or ``category_pool="seen"``
    (object and category slots only): distinct objects drawn at random (every ordered tuple of
    four or more is too many to enumerate); each category with a seen object once for a single
    category slot, distinct ones drawn at random for several."""
    obj_slots = family.drawn_slots()
    cat_slots = [s for s, k in family.slots.items() if k == "category"]
    if len(family.object_slots()) + len(cat_slots) != len(family.slots):
        raise ValueError(f"{family.id}: drawn bindings take object and category slots only")
    pool = api.object_ids() if family.category_pool == "seen" else objects
    cats = sorted({api.object(o).category for o in pool if api.seen(o)})
    if len(objects) < len(obj_slots) or len(cats) < len(cat_slots):
        return []
    n = family.candidates * 4
    if len(cat_slots) == 1 and not obj_slots:
        return [{cat_slots[0]: cats[i]} for i in rng.permutation(len(cats))[:n]]
    out, drawn = [], set()
    for _ in range(n):
        ids = [int(x) for x in rng.choice(objects, len(obj_slots), replace=False)] if obj_slots else []
        names = [cats[i] for i in rng.choice(len(cats), len(cat_slots), replace=False)] if cat_slots else []
        if grounded.is_grounded(family):  # a map's categories are a set: listed in one order
            names.sort()
        key = (tuple(sorted(ids)) if family.symmetric else tuple(ids), tuple(names))
        if key not in drawn:
            drawn.add(key)
            out.append({**dict(zip(obj_slots, ids)), **dict(zip(cat_slots, names))})
    return out


def _slot_options(
    family: Family, correct: str, slots: dict, episode: Episode, rng: np.random.Generator
) -> list[str] | None:
    """The options of a family with ``option_slots``: the objects they name, or orders of their
    categories (the answer and ``DISTRACTORS`` other orders drawn at random, "a, b, c, d"); None
    when the answer is not one of them."""
    values = [slots[s] for s in family.option_slots]
    if not family.orders:
        options = [_describe(episode, v) for v in values]
        return options if correct in (*options, ABSTAIN) else None
    orders = [", ".join(p) for p in itertools.permutations(values)]
    if correct != ABSTAIN and correct not in orders:
        return None
    wrong = [o for o in orders if o != correct]
    picks = rng.permutation(len(wrong))[: DISTRACTORS + (correct == ABSTAIN)]
    return [*([] if correct == ABSTAIN else [correct]), *(wrong[i] for i in picks)]


def distractor_pool(family: Family, episode: Episode, seen: list[int]) -> list[int]:
    """The seen objects an object answer's wrong options come from (``Family.distractors``)."""
    if family.distractors == "movable":
        return [o for o in seen if episode.scene.object(o).movable]
    if family.distractors == "supporters":
        below = {o.supported_by for o in episode.scene.objects}
        return [o for o in seen if o in below]
    return seen


def generate_questions(
    episode: Episode,
    rng: np.random.Generator,
    pool: SandboxPool,
    per_family: int = 3,
    abstention_share: float = 0.1,
    families: dict[str, Family] | None = None,
    report: GenerationReport | None = None,
    adaptation: Adaptation | None = None,
    balance_perspective: bool = False,
) -> list[QA]:
    """Up to ``per_family`` verified questions per family, plus abstention items; each answered
    item with its ``Difficulty``. ``adaptation`` (an adapted run) scales a family's questions and
    keeps its candidates with a probability per difficulty level. ``balance_perspective``: families
    with ``contrast`` ask pairs, one item against the perspective prior and one with it."""
    families = families or FAMILIES
    report = report or GenerationReport()
    api = SceneAPI(episode)
    clear = unambiguous(episode)
    seen = sorted(o for o in clear if api.seen(o))
    unseen = sorted(o for o in clear if not api.glimpsed(o))

    # one random stream per family: changing one family never changes the questions of another
    base = int(rng.integers(2**32))
    rngs = {f.id: np.random.default_rng([base, zlib.crc32(f.id.encode())]) for f in families.values()}
    plan = [(family, slots) for family in families.values() for slots in _bindings(family, api, seen, rngs[family.id])]
    outcomes = pool.run(episode.model_dump_json(), [Task(f.source, s) for f, s in plan])
    valid: dict[str, list] = defaultdict(list)
    for (family, slots), out in zip(plan, outcomes):
        reason = _problem(family, out, api, slots)
        report.candidates[family.id] += 1
        if reason == "n/a":
            report.why[family.id][out.why or "no answer"] += 1
        elif reason:
            report.rejected[family.id].append(reason)
        else:
            value, chosen = split_answer(family, out.value, slots)
            if chosen and not set(chosen.values()) <= set(seen):
                report.why[family.id]["picks an object described like another"] += 1
            elif rngs[family.id].random() < family.keep.get(answer_text(family, value, episode)[0], 1.0):
                difficulty = _difficulty(family, api, {**slots, **chosen}, value, out.margin)
                if adaptation is None or adaptation.keep(family.id, difficulty.level, rngs[family.id]):
                    valid[family.id].append(({**slots, **chosen}, value, difficulty))

    items: list[QA] = []
    for family in families.values():
        frng = rngs[family.id]
        n = adaptation.per_family(family.id, per_family) if adaptation else per_family
        candidates = valid[family.id]
        if family.contrast:
            candidates = [(*c, _perspective(family, api, c[0])) for c in candidates]
        picked = (_contrast_pairs if balance_perspective else _balanced)(family, candidates, n, frng)
        for slots, value, difficulty, *label in picked:
            text, number = answer_text(family, value, episode)
            qa = _qa(family, slots, text, number, episode, api, seen, frng, len(items), difficulty=difficulty)
            if qa is not None and label:
                qa = qa.model_copy(update={"perspective": label[0]})
            if qa is None:
                report.why[family.id]["no wrong option to offer"] += 1
                continue
            items.append(qa)
        n_obj = len(family.object_slots())
        if n_obj and unseen and len(seen) >= n_obj - 1 and frng.random() < abstention_share:
            names = family.object_slots()
            others = [int(x) for x in frng.permutation(seen)[: n_obj - 1]]
            hidden = int(frng.integers(n_obj))
            slots = {name: others.pop() if k != hidden else int(frng.choice(unseen)) for k, name in enumerate(names)}
            for name, kind in family.slots.items():
                if kind == "frame":
                    slots[name] = int(frng.integers(api.num_frames))
                elif kind == "choice":
                    slots[name] = family.slot_values[name][int(frng.integers(len(family.slot_values[name])))]
            qa = _qa(family, slots, ABSTAIN, None, episode, api, seen, frng, len(items), abstain=True)
            if qa is not None:
                items.append(qa)
        report.asked[family.id] += sum(1 for q in items if q.family == family.id)
    items = order_checks(episode, items, pool, families, np.random.default_rng([base, 34]))
    if any(f.streaming for f in families.values()):
        streamed = streaming_items(episode, items, pool, families)
        report.asked.update(Counter(q.family for q in streamed))
        items += streamed
    return with_traces(episode, items, pool, families)


def with_traces(episode: Episode, items: list[QA], pool: SandboxPool, families: dict[str, Family]) -> list[QA]:
    """``items`` with the reasoning trace of each answered one (``synth.programs.trace``: its
    program run again in the sandbox, recorded, on the video its question is about; the steps and
    their text); abstentions have none."""
    by_program = {f.program_id: f for f in families.values()}
    live = [q for q in items if not q.abstain]
    tasks = [Task(by_program[q.program_id].source, q.slots, trace=True) for q in live]
    traced = {q.id: _traced(q, out, episode) for q, (out, _) in zip(live, _run_at_queries(episode, live, tasks, pool))}
    return [traced.get(q.id, q) for q in items]


def retrace(episode: Episode, items: list[QA], pool: SandboxPool, families: dict[str, Family]) -> list[str]:
    """``synth verify --traces``: each answered item's program run again, recorded; a message per
    item whose shipped trace (any step's call, argument or value) or text differs, or is missing
    ("which view would settle it" items have none: their answer rests on the views' passes, which
    ``synth verify --evidence`` audits)."""
    shipped = [q for q in items if not q.abstain and q.settles is None]
    known = {f.program_id for f in families.values()}
    if unknown := [q.id for q in shipped if q.program_id not in known]:
        return [f"{i}: unknown program" for i in unknown]
    again = {q.id: q for q in with_traces(episode, shipped, pool, families)}
    problems = []
    for q in shipped:
        if q.trace is None:
            problems.append(f"{q.id}: no trace")
        elif q.trace != again[q.id].trace:
            k = next((k for k, (a, b) in enumerate(zip(q.trace, again[q.id].trace or [])) if a != b), len(q.trace))
            problems.append(f"{q.id}: trace step {k + 1} is not what the program reads")
        elif q.reasoning != again[q.id].reasoning:
            problems.append(f"{q.id}: the trace's text is not its steps'")
    return problems


def _traced(qa: QA, out: Outcome, episode: Episode) -> QA:
    """``qa`` with the trace ``out`` recorded (None where the program failed)."""
    if not out.ok or out.trace is None:
        return qa.model_copy(update={"trace": None, "reasoning": None})
    qa = qa.model_copy(update={"trace": [TraceStep(**s) for s in out.trace]})
    return qa.model_copy(update={"reasoning": trace_text(qa, episode)})


def order_checks(
    episode: Episode, items: list[QA], pool: SandboxPool, families: dict[str, Family], rng: np.random.Generator
) -> list[QA]:
    """``items`` with ``needs_order`` and ``single_frame`` set on the answered ones (issue #34):
    each program runs again on the video reversed and on one shuffle of its frames (drawn from
    ``rng``; frame slots follow their frame), and on one frame alone (a frame slot's frame, else
    the middle one of the item's evidence frames; an object counts as seen in it as the
    visibility rule's pixels say). An item needs the order where either reordering changes its
    answer or leaves the program without one; one frame settles it where that frame alone gives
    the same answer (``view_episode`` withholds what only the whole video measures)."""
    by_program = {f.program_id: f for f in families.values()}
    live = [q for q in items if not q.abstain and q.query_frame is None]
    if not live:
        return items
    n = len(episode.frames)
    orders = [list(range(n))[::-1], [int(i) for i in rng.permutation(n)]]
    kept = [_same_answers(episode, order, live, pool, by_program) for order in orders]
    needs = {q.id: not all(k[i] for k in kept) for i, q in enumerate(live)}
    alone: dict[int, list[QA]] = defaultdict(list)
    for q in live:
        frame_slots = [v for k, v in q.slots.items() if by_program[q.program_id].slots.get(k) == "frame"]
        if frame_slots or q.evidence_frames:
            alone[int(frame_slots[0]) if frame_slots else q.evidence_frames[len(q.evidence_frames) // 2]].append(q)
    single = {}
    for frame, qs in alone.items():
        single.update({q.id: ok for q, ok in zip(qs, _same_answers(episode, [frame], qs, pool, by_program))})
    return [
        q.model_copy(update={"needs_order": needs[q.id], "single_frame": single.get(q.id, False)})
        if q.id in needs
        else q
        for q in items
    ]


def _same_answers(
    episode: Episode, frames: list[int], items: list[QA], pool: SandboxPool, by_program: dict[str, Family]
) -> list[bool]:
    """Per item: whether its program gives the same answer on the video of ``frames``
    (``view_episode``; a video of fewer frames than the visibility rule's ``min_frames`` counts
    an object seen in all of them)."""
    view = view_episode(episode, frames)
    if len(frames) < view.visibility_rule.min_frames:
        view = view.model_copy(
            update={"visibility_rule": view.visibility_rule.model_copy(update={"min_frames": len(frames)})}
        )
    where = {f: i for i, f in enumerate(frames)}
    tasks, slots = [], []
    for q in items:
        kinds = by_program[q.program_id].slots
        moved = {k: where.get(int(v), -1) if kinds.get(k) == "frame" else v for k, v in q.slots.items()}
        tasks.append(Task(by_program[q.program_id].source, moved))
        slots.append(moved)
    api = SceneAPI(view)
    out = []
    for q, moved, outcome in zip(items, slots, pool.run(view.model_dump_json(), tasks)):
        family = by_program[q.program_id]
        ok = _problem(family, outcome, api, moved) is None
        out.append(ok and answer_text(family, split_answer(family, outcome.value, moved)[0], episode)[0] == q.answer)
    return out


QUERIES = 3  # moments at which a streaming question is asked again


def query_frames(num_frames: int, count: int = QUERIES) -> list[int]:
    """The frames at which a streaming question is asked: ``count`` spread evenly before the end
    of the video (at a quarter, half and three quarters of ``num_frames`` for 3), each once."""
    return sorted({max(0, round(num_frames * (k + 1) / (count + 1)) - 1) for k in range(count)})


def streaming_items(episode: Episode, items: list[QA], pool: SandboxPool, families: dict[str, Family]) -> list[QA]:
    """The answered items of streaming families (``Family.streaming``) asked again at each of
    ``query_frames``: the same question and options, answered by the same program on the episode
    cut at that frame (``prefix_episode``; its ``query_frame``, id ``{id}@{frame}``), where the
    prefix gives an answer of the family's type that is among the options and shows every object
    the question names; its evidence frames are the prefix's. Ordered by item, then frame."""
    by_program = {f.program_id: f for f in families.values() if f.streaming}
    base = [q for q in items if q.program_id in by_program and not q.abstain and q.query_frame is None]
    found: dict[str, list[QA]] = defaultdict(list)
    for frame in query_frames(len(episode.frames)) if base else []:
        prefix = prefix_episode(episode, frame)
        api = SceneAPI(prefix)
        outs = pool.run(prefix.model_dump_json(), [Task(by_program[q.program_id].source, q.slots) for q in base])
        for qa, out in zip(base, outs):
            family = by_program[qa.program_id]
            objs = [qa.slots[s] for s in family.object_slots()]
            if _problem(family, out, api, qa.slots) or not all(api.seen(o) for o in objs):
                continue
            text, number = answer_text(family, split_answer(family, out.value, qa.slots)[0], episode)
            if qa.choices and text not in qa.choices:
                continue
            evidence = evidence_frames(api, objs)
            value = split_answer(family, out.value, qa.slots)[0]
            update = {"answer": text, "value": number, "evidence_frames": evidence, "query_frame": frame}
            update |= {"needs_order": None, "single_frame": None}
            update["difficulty"] = _difficulty(family, api, qa.slots, value, out.margin)
            found[qa.id].append(qa.model_copy(update={"id": f"{qa.id}@{frame}", **update}))
    return [q for qa in base for q in found[qa.id]]


def _run_at_queries(
    episode: Episode, items: list[QA], tasks: list[Task], pool: SandboxPool
) -> list[tuple[Outcome, SceneAPI]]:
    """Each task run (in order) on the episode as its item's question sees it: the whole video,
    or cut at its ``query_frame``; with the ``SceneAPI`` of that view."""
    out: list = [None] * len(items)
    for frame in dict.fromkeys(q.query_frame for q in items):
        view = episode if frame is None else prefix_episode(episode, frame)
        at = [k for k, q in enumerate(items) if q.query_frame == frame]
        api = SceneAPI(view)
        for k, outcome in zip(at, pool.run(view.model_dump_json(), [tasks[k] for k in at])):
            out[k] = (outcome, api)
    return out


def _problem(family: Family, out: Outcome, api: SceneAPI, slots: dict) -> str | None:
    if not out.ok:
        return out.error
    if out.value is None:
        return "n/a"
    if not out.deterministic:
        return "not deterministic"
    value, chosen = split_answer(family, out.value, slots)
    if value is None:
        return f"answer {out.value!r} does not give the answer and the objects {list(family.chosen_slots)} it picks"
    if bad := [o for o in chosen.values() if not (isinstance(o, int) and o in api.object_ids() and api.seen(o))]:
        return f"picks objects {bad} that are not seen objects"
    return check_answer(family, value, api)


def split_answer(family: Family, value, slots: dict) -> tuple[object, dict]:
    """A program's answer and the objects it picked for ``Family.chosen_slots`` (slot -> id): for
    other families ``value`` itself and {}; for those, the dict's "answer" and its chosen slots,
    or (None, {}) where the dict lacks one or names other objects than ``slots`` already hold."""
    if not family.chosen_slots:
        return value, {}
    if not isinstance(value, dict) or set(value) != {"answer", *family.chosen_slots}:
        return None, {}
    chosen = {k: value[k] for k in family.chosen_slots}
    if any(k in slots and slots[k] != v for k, v in chosen.items()):
        return None, {}
    return value["answer"], chosen


def _difficulty(
    family: Family, api: SceneAPI, slots: dict, value, margin: float | None, severity: int = 0
) -> Difficulty:
    """The ``Difficulty`` of an item of ``family`` with these slots (picked ones included) and
    answer ``value``, whose program recorded ``margin``, in the view ``api`` gives."""
    counted = family.answer_type == "number" and not family.unit and float(value).is_integer()
    objects = [slots[s] for s in family.object_slots()]
    found = measure(family.levels, api, objects, margin, int(value) if counted else None)
    return found.model_copy(update={"severity": severity}) if severity else found


def _qa(family, slots, text, number, episode, api, seen, rng, n, abstain=False, difficulty=None) -> QA | None:
    template = family.templates[int(rng.integers(len(family.templates)))]
    choices = _choices(family, text, slots, episode, seen, rng)
    if choices is None:
        return None
    objs = [slots[s] for s in family.object_slots()]
    evidence = [] if abstain else evidence_frames(api, objs)
    return QA(
        id=f"{family.id}-{n}",
        family=family.id,
        program_id=family.program_id,
        question=template.format(**_render_slots(family, slots, episode)),
        slots=slots,
        answer=text,
        value=number,
        choices=choices,
        answer_type=family.answer_type,
        abstain=abstain,
        unit=family.unit,
        tolerance=family.tolerance,
        definition=family.definition,
        evidence_frames=evidence,
        difficulty=difficulty,
        grounding=grounded.grounding(family, slots, episode) if grounded.is_grounded(family) else None,
    )


def reanswer(
    episode: Episode,
    items: list[QA],
    pool: SandboxPool,
    families: dict[str, Family] | None = None,
    severity: int = 0,
) -> list[QA]:
    """The same questions answered on another rendition of the episode (a degraded variant with
    its own visibility, of this ``severity``): each program runs again; where the variant no
    longer shows what the question needs (an object not seen, or no answer), the item becomes an
    abstention; the others are measured again (``Difficulty``, with the severity)."""
    by_program = {f.program_id: f for f in (families or FAMILIES).values()}
    live = [q for q in items if not q.abstain]
    tasks = [Task(by_program[q.program_id].source, q.slots, trace=True) for q in live]
    answers = {q.id: out for q, out in zip(live, _run_at_queries(episode, live, tasks, pool))}
    result = []
    for q in items:
        family = by_program[q.program_id]
        objs = [q.slots[s] for s in family.object_slots()]
        if q.abstain or q.id not in answers:
            result.append(q)
            continue
        out, api = answers[q.id]
        text = number = None
        value = split_answer(family, out.value, q.slots)[0] if out.ok else None
        if value is not None and check_answer(family, value, api) is None:
            text, number = answer_text(family, value, episode)
        if text is None or not all(api.seen(o) for o in objs) or (q.choices and text not in q.choices):
            lost = {"answer": ABSTAIN, "value": None, "abstain": True, "evidence_frames": [], "difficulty": None}
            lost |= {"needs_order": None, "single_frame": None, "trace": None, "reasoning": None}
            result.append(q.model_copy(update=lost))
        else:
            evidence = evidence_frames(api, objs)
            difficulty = _difficulty(family, api, q.slots, value, out.margin, severity)
            update = {"answer": text, "value": number, "evidence_frames": evidence, "difficulty": difficulty}
            result.append(_traced(q.model_copy(update=update), out, episode))
    return result


def recompute(
    episode: Episode,
    items: list[QA],
    pool: SandboxPool,
    families: dict[str, Family] | None = None,
) -> list[str]:
    """Re-run every item's program on the shipped episode; a message per mismatch."""
    by_program = {f.program_id: f for f in (families or FAMILIES).values()}
    api = SceneAPI(episode)
    problems, tasks, owners = [], [], []
    for qa in items:
        family = by_program.get(qa.program_id)
        if family is None:
            problems.append(f"{qa.id}: unknown program {qa.program_id}")
        elif qa.settles is not None:  # which view settles it: the views' passes say (the auditor reads them)
            if all(api.seen(qa.slots[s]) for s in family.object_slots()):
                problems.append(f"{qa.id}: asks which view would settle it, but the video shows every object")
        elif qa.abstain and not all(api.seen(qa.slots[s]) for s in family.object_slots()):
            continue  # an object it names is not seen: abstaining is right
        else:
            tasks.append(Task(family.source, qa.slots))
            owners.append((qa, family))
    for (qa, family), (out, api) in zip(owners, _run_at_queries(episode, [q for q, _ in owners], tasks, pool)):
        value = split_answer(family, out.value, qa.slots)[0] if out.ok else None
        if qa.abstain:
            if value is not None and (not qa.choices or answer_text(family, value, episode)[0] in qa.choices):
                problems.append(f"{qa.id}: abstention, but the video shows every object and the program answers")
            continue
        if value is None:
            problems.append(f"{qa.id}: program gave no answer ({out.error or 'not applicable'})")
            continue
        text, number = answer_text(family, value, episode)
        if (text, number) != (qa.answer, qa.value):
            problems.append(f"{qa.id}: shipped answer {qa.answer!r}, recomputed {text!r}")
        if not all(api.seen(qa.slots[s]) for s in family.object_slots()):
            problems.append(f"{qa.id}: names an object that is not seen in the video")
    return problems


# -- minimal pairs (issue #34) ------------------------------------------------------------------------
PAIR_CANDIDATES = 24  # bindings naming the moved object tried per family


def pair_items(
    episode: Episode,
    paired: Episode,
    moved: int,
    pool: SandboxPool,
    families: dict[str, Family] | None = None,
    per_family: int = 2,
    seed: int = 0,
) -> tuple[list[QA], list[QA]]:
    """Minimal pairs: items whose answer flips between ``episode`` and ``paired`` (the same episode
    with object ``moved`` moved, ``synth.planning.pairs``), asked of both: for each family with
    fixed answers (multiple choice options, yes/no) and object slots, bindings that name the moved
    object among the objects both videos show unambiguously; each program runs on both renders
    and an item is kept where both give a valid answer and they differ. Returns the items as asked
    of ``episode`` and the same items (same id, question and options) of ``paired``, each with its
    own answer, evidence frames, difficulty and trace, up to ``per_family`` per family."""
    families = families or FAMILIES
    api, moved_api = SceneAPI(episode), SceneAPI(paired)
    seen = sorted(o for o in unambiguous(episode) & unambiguous(paired) if api.seen(o) and moved_api.seen(o))
    if moved not in seen:
        return [], []
    rng = np.random.default_rng([seed, 34, moved])
    plan = []
    for family in families.values():
        fixed = family.answer_type == "yes/no" or (family.answer_type == "multiple choice" and not family.orders)
        if not fixed or family.chosen_slots or family.streaming or not family.object_slots():
            continue
        named = [b for b in _bindings(family, api, seen, rng) if moved in (b[s] for s in family.object_slots())]
        plan += [(family, b) for b in named[:PAIR_CANDIDATES]]
    tasks = [Task(f.source, s) for f, s in plan]
    before, after = pool.run(episode.model_dump_json(), tasks), pool.run(paired.model_dump_json(), tasks)
    found: dict[str, list] = defaultdict(list)
    for (family, slots), one, other in zip(plan, before, after):
        if _problem(family, one, api, slots) or _problem(family, other, moved_api, slots):
            continue
        if one.value != other.value and len(found[family.id]) < per_family:
            found[family.id].append((slots, one, other))
    clean, moved_items = [], []
    for family in families.values():
        for slots, one, other in found[family.id]:
            qa = _qa(
                family, slots, str(one.value), None, episode, api, seen, rng, len(clean),
                difficulty=_difficulty(family, api, slots, one.value, one.margin),
            )  # fmt: skip
            if qa is None:
                continue
            qa = qa.model_copy(update={"id": f"pair-{qa.id}"})
            twin = {
                "answer": str(other.value),
                "evidence_frames": evidence_frames(moved_api, [slots[s] for s in family.object_slots()]),
                "difficulty": _difficulty(family, moved_api, slots, other.value, other.margin),
            }
            clean.append(qa)
            moved_items.append(qa.model_copy(update=twin))
    return with_traces(episode, clean, pool, families), with_traces(paired, moved_items, pool, families)


# -- "which view would settle it" (issue #34) ---------------------------------------------------------
SETTLE_BINDINGS = 8  # bindings naming the unseen object tried per family
SETTLE_MOST = 6  # items per episode


def viewed_episode(episode: Episode, depth: np.ndarray, instance: np.ndarray, view: Frame, view_passes) -> Episode:
    """The episode's video followed by ``view`` held for the visibility rule's ``min_frames`` (a
    candidate extra view, ``SampleMeta.views``), with visibility and evidence measured on the
    passes: ``depth``, ``instance`` (F, H, W) the video's, ``view_passes`` (depth, instance) of
    the view (H, W)."""
    hold = episode.visibility_rule.min_frames
    n = len(episode.frames)
    fps = episode.video.fps
    frames = [*episode.frames, *(view.model_copy(update={"index": n + k, "time": (n + k) / fps}) for k in range(hold))]
    d = np.concatenate([depth, np.repeat(view_passes[0][None], hold, axis=0)])
    ids = np.concatenate([instance, np.repeat(view_passes[1][None], hold, axis=0)])
    longer = episode.model_copy(
        update={"frames": frames, "video": episode.video.model_copy(update={"frames": n + hold}), "actions": []}
    )
    return remeasured(longer, d, ids)


def settle_items(
    episode: Episode,
    passes: tuple[np.ndarray, np.ndarray],
    views: list[Frame],
    view_passes: tuple[np.ndarray, np.ndarray],
    target: int,
    pool: SandboxPool,
    families: dict[str, Family] | None = None,
    seed: int = 0,
) -> list[QA]:
    """ "Which view would settle it" items about ``target``, an object the video never shows: for
    static families with object slots (no frame, picked or category slots; not grounded: a view
    after the video changes neither the camera's path nor an order of frames), bindings naming
    it with objects the video shows unambiguously, asked of the video followed by each candidate
    view (``viewed_episode``); kept where exactly one view makes the question answerable (the
    program answers and every named object is seen), up to ``SETTLE_MOST`` (a family once)."""
    families = families or FAMILIES
    api = SceneAPI(episode)
    seen = sorted(o for o in unambiguous(episode) if api.seen(o))
    rng = np.random.default_rng([seed, 34, 4])
    plan = []
    for family in families.values():
        kinds = set(family.slots.values())
        if not family.object_slots() or kinds & {"frame", "category"} or family.chosen_slots or family.streaming:
            continue
        if "static" not in family.tags or "temporal" in family.tags:  # not about the camera's path or the order
            continue
        if grounded.is_grounded(family) or len(seen) < len(family.object_slots()) - 1:
            continue
        for _ in range(SETTLE_BINDINGS):
            names = family.object_slots()
            others = [int(x) for x in rng.permutation(seen)[: len(names) - 1]]
            at = int(rng.integers(len(names)))
            slots = {s: target if k == at else others.pop() for k, s in enumerate(names)}
            for name, kind in family.slots.items():
                if kind == "choice":
                    slots[name] = family.slot_values[name][int(rng.integers(len(family.slot_values[name])))]
            plan.append((family, slots))
    answerable = []
    for k, view in enumerate(views):
        longer = viewed_episode(episode, *passes, view, (view_passes[0][k], view_passes[1][k]))
        wider = SceneAPI(longer)
        outs = pool.run(longer.model_dump_json(), [Task(f.source, s) for f, s in plan])
        answerable.append(
            [
                _problem(f, out, wider, s) is None and all(wider.seen(s[n]) for n in f.object_slots())
                for (f, s), out in zip(plan, outs)
            ]
        )
    items, asked = [], set()
    for j, (family, slots) in enumerate(plan):
        settles = [answerable[k][j] for k in range(len(views))]
        if sum(settles) != 1 or family.id in asked or len(items) >= SETTLE_MOST:
            continue
        inner = _qa(family, slots, ABSTAIN, None, episode, api, seen, rng, 0, abstain=True)
        if inner is None:
            continue
        asked.add(family.id)
        choices = [f"view {k + 1}" for k in range(len(views))]
        items.append(
            QA(
                id=f"{WHICH_VIEW}-{len(items)}",
                family=WHICH_VIEW,
                program_id=family.program_id,
                question=f"{inner.question} The video alone does not show enough to answer that. Which of the "
                f"{len(views)} views shown after the video would: {', '.join(choices[:-1])} or {choices[-1]}?",
                slots={**slots, "family": family.id},
                answer=choices[settles.index(True)],
                choices=choices,
                answer_type="multiple choice",
                definition=f"The candidate view (each shown after the video for {episode.visibility_rule.min_frames} "
                f"frames) with which the {family.id} question can be answered by its own rule ({family.definition}); "
                "asked only where exactly one of them does.",
                settles=settles,
            )
        )
    return items
