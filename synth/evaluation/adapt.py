"""Steering a run by a model's eval report (issue #32: ``synth run --adapt-from REPORT``).

A ``synth eval`` report gives, per family and difficulty level, how many items the model was
asked and its mean score (accuracy, or MRA for numbers). ``adapt`` picks, per family, a keep
probability per level such that the family's expected score in the next run lands in the target
band: where the family scores above the band, its easier-than-target levels are kept less
(in proportion), below it the harder ones; the expected score is the level scores weighted by
the items each level had (abstention items, which have no level, keep theirs). Solving for one
factor ``k`` on the levels on the far side of the target t (the band's middle):
``(k*S_far + S_near) / (k*N_far + N_near) = t``, so ``k = (S_near - t*N_near) / (t*N_far - S_far)``,
clipped to ``[MIN_KEEP, 1]``. A family no level can bring into the band (every level on one
side) gets half the questions (``share`` 0.5), one already in it is left alone. The scene knob
are the lever where choosing candidates cannot reach the band (``adapt(scene=True)``,
``--adapt-scene``):
- objects per room (``_objects``): where such families among those that objects per room makes
  harder (``DENSITY_TAGS``: counting, relative direction) score above the band together, a
  procedural room's object range grows by a quarter (shrinks below it), within 4-40 objects;
- rooms per house (``ROOMS_KNOB``): where such house families (``HOUSE_TAGS``: rooms visited, the room
  an object is in) score above the band together, a procedural house is drawn with up to one room
  more (one fewer below), 3-8, and no more than the tour's duration can visit;
- path length (``TARGETS_KNOB``): where such temporal families (``TEMPORAL_TAGS``) score above the
  band together, each clip's camera path is planned around one object more (one fewer below), 1-10;
- degradation severity (``_severities``): where a degradation type's variants score above the band,
  its severity goes one above the highest scored (one below the lowest below the band), 1-5.
A run whose source or variants the knob does not fit records it without using it.

The weights depend on the report alone: the same report and seed give the same dataset. Rounds
chain (report -> run -> eval -> report): ``synth eval`` records the scored dataset's own weights
in its report, and each round multiplies them by the factors its per-level scores (measured on
that adapted data) call for.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from synth.backends.procedural.settings import MAX_OBJECTS, MAX_ROOMS, MIN_OBJECTS, MIN_ROOMS, OBJECTS_BOUNDS
from synth.core.records import LEVELS
from synth.evaluation.scorer import Group, Report, family_tags
from synth.programs.difficulty import Adaptation, FamilyWeights

BAND = (0.4, 0.7)  # default target band of a family's score (fractions)
# the families objects per room makes harder (more to count, more look-alikes and clutter beside the
# named objects), by tag; their score outside the band scales a room's object range by OBJECTS_STEP
DENSITY_TAGS = ("counting", "relative direction")
OBJECTS_STEP = 1.25
SCENE_EVIDENCE = 30  # items of such families a report needs before the knob moves (it changes every family's scenes)
# the families the rooms of a house make harder (more rooms to count, tell apart and find objects in),
# by tag: their score outside the band adds a room to a house (takes one away), MIN_ROOMS-MAX_ROOMS
HOUSE_TAGS = ("house",)
ROOMS_KNOB = ("max_rooms", HOUSE_TAGS, MAX_ROOMS, (MIN_ROOMS, MAX_ROOMS))
# the families a longer camera path makes harder (more objects to keep in order), by tag: their score
# outside the band plans each clip around one object more (one fewer), 1-10 (RunConfig.targets, default 3)
TEMPORAL_TAGS = ("temporal",)
TARGETS_KNOB = ("targets", TEMPORAL_TAGS, 3, (1, 10))
SEVERITY_BOUNDS = (1, 5)  # a degradation's severities
SEVERITY_KNOB = "severity:"  # the knob of a degradation type's severity: "severity:fog"
MIN_KEEP = 0.05  # the smallest keep probability of a level (bounds how far one round steers)
UNREACHABLE_SHARE = 0.5  # questions per episode, relative, of a family no level mix brings into the band


def read_report(path: str | Path) -> tuple[Report, str]:
    """The report at ``path`` and its SHA-256; ValueError (one line) if it is not a ``synth eval``
    report with per-level scores."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ValueError(f"--adapt-from {p}: cannot read it ({e.strerror or e})") from None
    try:
        report = Report.model_validate_json(raw)
    except ValidationError as e:
        raise ValueError(f"--adapt-from {p}: not a synth eval report ({e.error_count()} problems)") from None
    if not report.family_levels:
        raise ValueError(f"--adapt-from {p}: the report has no per-level scores (items without difficulty)")
    return report, hashlib.sha256(raw).hexdigest()


def _keeps(levels: dict[str, Group], target: float) -> dict[str, float] | None:
    """Keep probability per level moving the expected score to ``target``; None if none can."""
    rated = {lv: g for lv, g in levels.items() if lv in LEVELS}
    n = sum(g.n for g in levels.values())
    s = sum(g.n * g.score for g in levels.values())
    if n == 0 or not rated:
        return None
    above = s / n > target  # which side of the target the family is: thin out the levels on that side
    far = {lv for lv, g in rated.items() if (g.score > target if above else g.score < target)}
    if not far or far == set(levels):
        return None
    n_far = sum(levels[lv].n for lv in far)
    s_far = sum(levels[lv].n * levels[lv].score for lv in far)
    k = (s - s_far - target * (n - n_far)) / (target * n_far - s_far)
    k = min(1.0, max(MIN_KEEP, k))
    return {lv: round(k, 4) if lv in far else 1.0 for lv in LEVELS}


def adapt(report: Report, digest: str, band: tuple[float, float] = BAND, scene: bool = False) -> Adaptation:
    """The weights steering each family of ``report`` into ``band`` (see the module doc), and with
    ``scene`` the scene knob too (else the scored run's knobs, if any, are kept). Where
    the scored dataset was itself adapted (``report.adaptation``), its weights are the starting
    point: a family in the band keeps them, another multiplies them by this round's factors
    (scaled so that its most kept level has 1), so that rounds chain."""
    low, high = band
    target = (low + high) / 2
    before = report.adaptation.families if report.adaptation else {}
    families = dict(before)
    unreachable = []  # this report's families outside the band that no mix of their levels brings into it
    for fid, levels in report.family_levels.items():
        old = before.get(fid, FamilyWeights())
        if low <= report.families[fid].score <= high:
            continue
        keeps = _keeps(levels, target)
        if keeps is None:
            families[fid] = FamilyWeights(share=UNREACHABLE_SHARE, levels=old.levels)
            unreachable.append(fid)
            continue
        weights = {lv: old.levels.get(lv, 1.0) * keeps[lv] for lv in LEVELS}
        top = max(weights.values())
        levels_kept = {lv: round(max(MIN_KEEP, w / top), 4) for lv, w in weights.items()}
        families[fid] = FamilyWeights(share=old.share, levels=levels_kept)
    knobs = report.adaptation.scene if report.adaptation else {}
    if scene:
        knobs = {
            **_objects(report, unreachable, knobs, band),
            **_stepped(report, unreachable, knobs, band, ROOMS_KNOB),
            **_stepped(report, unreachable, knobs, band, TARGETS_KNOB),
            **_severities(report, knobs, band),
        }
    return Adaptation(report_sha256=digest, band=band, families=dict(sorted(families.items())), scene=knobs)


def _objects(
    report: Report, unreachable: list[str], before: dict[str, int], band: tuple[float, float]
) -> dict[str, int]:
    """The scene knob: a sampled room's object range (``min_objects``, ``max_objects``), times
    ``OBJECTS_STEP`` where the ``unreachable`` families (no mix of their levels reaches the band)
    that objects per room makes harder (``DENSITY_TAGS``) score above ``band`` together, divided by
    it below, within ``OBJECTS_BOUNDS``, given ``SCENE_EVIDENCE`` items of them; else ``before``
    (the scored run's own knobs)."""
    tags = family_tags()
    rooms = [f for f in unreachable if not set(tags.get(f, ())) & set(HOUSE_TAGS)]  # counting rooms: the house knob's
    step = _side(report, rooms, DENSITY_TAGS, band)
    knobs = {k: v for k, v in before.items() if k in ("min_objects", "max_objects")}
    if not step:
        return knobs
    factor = OBJECTS_STEP if step > 0 else 1 / OBJECTS_STEP
    least, most = OBJECTS_BOUNDS
    lo, hi = before.get("min_objects", MIN_OBJECTS), before.get("max_objects", MAX_OBJECTS)
    return {k: min(most, max(least, round(v * factor))) for k, v in (("min_objects", lo), ("max_objects", hi))}


def _side(report: Report, families: list[str], tags: tuple[str, ...], band: tuple[float, float]) -> int:
    """+1 where ``families`` with one of ``tags`` score above ``band`` together, -1 below, 0 within
    it or with fewer than ``SCENE_EVIDENCE`` items of them."""
    known = family_tags()
    groups = [report.families[f] for f in families if set(known.get(f, ())) & set(tags)]
    n = sum(g.n for g in groups)
    if n < SCENE_EVIDENCE:
        return 0
    score = sum(g.n * g.score for g in groups) / n
    return 1 if score > band[1] else -1 if score < band[0] else 0


def _stepped(
    report: Report,
    unreachable: list[str],
    before: dict[str, int],
    band: tuple[float, float],
    knob: tuple[str, tuple[str, ...], int, tuple[int, int]],
) -> dict[str, int]:
    """A knob moved one step: ``knob`` is (its name, the tags of the families it steers, its
    default, its bounds); one more where the ``unreachable`` families with those tags score above
    ``band`` together, one fewer below, within the bounds; else ``before``'s value, if any. The
    house knob (``ROOMS_KNOB``: a house's most rooms; a run of fixed ``--rooms`` keeps them) and the
    path knob (``TARGETS_KNOB``: the objects a clip's camera path is planned to show)."""
    name, tags, default, (least, most) = knob
    step = _side(report, unreachable, tags, band)
    if not step:
        return {k: v for k, v in before.items() if k == name}
    return {name: min(most, max(least, before.get(name, default) + step))}


def _severities(report: Report, before: dict[str, int], band: tuple[float, float]) -> dict[str, int]:
    """The degradation knob: per degradation type the report scores (``Report.degradations``) on
    ``SCENE_EVIDENCE`` items or more, over all its severities, a severity one above the highest
    it scored where that is above ``band``, one below the lowest where it is below, within
    ``SEVERITY_BOUNDS`` (``"severity:fog": 3``); types within the band keep ``before``'s."""
    out = {k: v for k, v in before.items() if k.startswith(SEVERITY_KNOB)}
    least, most = SEVERITY_BOUNDS
    for kind, by_severity in report.degradations.items():
        scored = {sev: g for sev, g in by_severity.items() if sev > 0}
        n = sum(g.n for g in scored.values())
        if kind == "clean" or n < SCENE_EVIDENCE:
            continue
        score = sum(g.n * g.score for g in scored.values()) / n
        if score > band[1]:
            out[SEVERITY_KNOB + kind] = min(most, max(scored) + 1)
        elif score < band[0]:
            out[SEVERITY_KNOB + kind] = max(least, min(scored) - 1)
    return out
