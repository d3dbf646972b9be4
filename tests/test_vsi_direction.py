"""VSI-Bench's relative direction (easy / medium / hard) and the house-level families (issue #28)
on the hand-built small house (tests/houses.py), toured by the z-buffer renderer: the answers
known by construction from its plan, the independent auditor agreeing, margin cases dropped."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synth.audit import View, audit_item
from synth.audit import answer as audited
from synth.audit.measures import ROOM_CELL, room_regions
from synth.backends.zbuffer.renderer import ZBufferRenderer
from synth.core.camera import intrinsics, look_at
from synth.core.evidence import with_evidence
from synth.core.scene import CameraFrame, Episode, Frame, ObjectPose, VideoSpec, VisibilityRule
from synth.planning.shoot import shoot
from synth.programs.generate import generate_questions
from synth.programs.library import FAMILIES
from synth.programs.sandbox import SandboxPool, Task
from tests.houses import _thing, house_objects, small_house

RULE = VisibilityRule(min_pixels=20, min_frames=2)
TOUR = VideoSpec(frames=120, width=128, height=96, fps=2.0)  # 60 s: the four rooms
# the small house's objects (tests/houses.py)
SOFA, COFFEE_TABLE, SHELF, ARMCHAIR, PLANT, REFRIGERATOR, DINING_TABLE, CABINET, BED = 1, 2, 4, 5, 6, 8, 9, 10, 11
DIRECTIONS = ("object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard")


@pytest.fixture(scope="module")
def toured():
    """The small house toured for 60 s at 2 fps, with its evidence, and the auditor's view of it."""
    episode, buffers = shoot(
        ZBufferRenderer(), small_house(), TOUR, RULE, np.random.default_rng(7), dynamic=False, trajectory="tour"
    )
    episode = with_evidence(episode, buffers.depth, buffers.instance)
    return episode, View(episode, buffers.depth, buffers.instance, RULE.min_pixels, RULE.min_frames), buffers


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=1) as p:
        yield p


def _run(pool, episode, family: str, **slots):
    (out,) = pool.run(episode.model_dump_json(), [Task(FAMILIES[family].source, slots)])
    assert out.ok, out.error
    return out.value, out.why


# standing by the sofa (2.5, 0.45) facing the coffee table (2.5, 1.6), i.e. north: the armchair
# (0.6, 1.6) is 59 degrees to the left, the shelf (4.8, 3.4) 38 degrees to the right, the plant
# (4.6, 0.4) 91 degrees to the right (on the border of the front and back quadrants); standing by
# the coffee table facing the plant (4.6, 0.4), the armchair is 150 degrees to the right; standing
# by the armchair (0.6, 1.6) facing the coffee table, i.e. east, the kitchen's dining table
# (6.9, 1.8) is 2 degrees to the left, nearly straight ahead
KNOWN = [
    ("object_rel_direction_easy", (SOFA, COFFEE_TABLE, ARMCHAIR), "left"),
    ("object_rel_direction_easy", (SOFA, COFFEE_TABLE, SHELF), "right"),
    ("object_rel_direction_easy", (SOFA, COFFEE_TABLE, PLANT), "right"),
    ("object_rel_direction_medium", (SOFA, COFFEE_TABLE, ARMCHAIR), "left"),
    ("object_rel_direction_medium", (SOFA, COFFEE_TABLE, PLANT), "right"),
    ("object_rel_direction_medium", (COFFEE_TABLE, PLANT, ARMCHAIR), "back"),
    ("object_rel_direction_hard", (SOFA, COFFEE_TABLE, ARMCHAIR), "front-left"),
    ("object_rel_direction_hard", (SOFA, COFFEE_TABLE, SHELF), "front-right"),
    ("object_rel_direction_hard", (COFFEE_TABLE, PLANT, ARMCHAIR), "back-right"),
]
DROPPED = [
    ("object_rel_direction_hard", (SOFA, COFFEE_TABLE, PLANT), "within the margin"),  # 91 degrees: the side
    ("object_rel_direction_medium", (SOFA, COFFEE_TABLE, SHELF), "ahead: no option for it"),
    ("object_rel_direction_easy", (ARMCHAIR, COFFEE_TABLE, DINING_TABLE), "within the margin"),
]


@pytest.mark.parametrize(("family", "ids", "expected"), KNOWN)
def test_relative_direction_known_by_construction(toured, pool, family, ids, expected):
    episode, view, _ = toured
    slots = dict(zip("abc", ids))
    assert all(view.seen(o) for o in ids), "the tour shows all three"
    value, why = _run(pool, episode, family, **slots)
    assert value == expected, why
    assert audited(view, family, slots, {}) == expected


@pytest.mark.parametrize(("family", "ids", "why"), DROPPED)
def test_relative_direction_margin_cases_are_dropped(toured, pool, family, ids, why):
    value, reason = _run(pool, toured[0], family, **dict(zip("abc", ids)))
    assert value is None and reason == why


def test_items_of_a_tour_agree_with_the_auditor(toured, pool):
    """Every item the three direction tiers, the room families and route planning ask on the tour:
    the auditor gives the same answer, from centres, rooms and walks it measures in the
    back-projected depth."""
    episode, view, _ = toured
    families = {
        f: FAMILIES[f]
        for f in (*DIRECTIONS, "rooms_visited", "larger_room", "object_room", "object_room_size", "route_planning")
    }
    items = generate_questions(episode, np.random.default_rng(0), pool, per_family=6, families=families)
    asked = [q for q in items if not q.abstain]
    assert {q.family for q in asked} >= {*DIRECTIONS, "larger_room", "object_room"}
    findings = [audit_item(view, "house", q.model_dump(mode="json")) for q in asked]
    assert all(f.agrees for f in findings), [f.line() for f in findings if not f.agrees]


def _panorama(pitch_east: float) -> tuple:
    """The small house, without the living room's tall shelf, seen from the middle of the living
    room (2.5, 2.0), eye 1.5 m, turning on the spot in 30-degree steps, looking 5 degrees down, the
    three views towards the kitchen's doorway (east: -30, 0, 30 degrees) ``pitch_east`` degrees down:
    its evidence and the auditor's view."""
    scene = small_house()
    scene = scene.model_copy(update={"objects": [o for o in scene.objects if o.id != SHELF]})
    eye = np.array([2.5, 2.0, 1.5])
    poses = [ObjectPose(id=o.id, position=o.box.center, yaw=o.box.yaw) for o in scene.objects]
    K = tuple(map(tuple, intrinsics(TOUR.width, TOUR.height, math.radians(70))))
    frames = []
    for f, a in enumerate(range(-150, 210, 30)):
        down = math.tan(math.radians(pitch_east if abs(a) <= 30 else 5))
        T = look_at(eye, eye + [math.cos(math.radians(a)), math.sin(math.radians(a)), -down])
        camera = CameraFrame(K=K, world_to_camera=tuple(map(tuple, T)))
        frames.append(Frame(index=f, time=f / 2, camera=camera, object_poses=poses))
    video = TOUR.model_copy(update={"frames": len(frames)})
    buf = ZBufferRenderer().open(scene, video).render(frames)
    episode = with_evidence(
        Episode(scene=scene, video=video, visibility_rule=RULE, frames=frames), buf.depth, buf.instance
    )
    return episode, View(episode, buf.depth, buf.instance, RULE.min_pixels, RULE.min_frames)


def test_a_doorway_closes_a_room_only_where_the_wall_over_it_shows():
    """Turning on the spot in the living room shows its walls all round. The wall over a doorway is
    what closes a room off from the next (a 50-house tour run: a bathroom whose doorway was never
    seen from far enough merged with the bedroom in the auditor's rooms). Looking 5 degrees down
    the views show it over each doorway; looking 35 degrees down towards the kitchen they show the
    east wall but not over its doorway: the evidence leaves the doorway's width unseen (0.9 m, over
    the 0.5 m the room families allow), and the auditor's rooms do not close the living room."""
    level, level_view = _panorama(5)
    down, down_view = _panorama(35)
    living = 0
    assert level.evidence.rooms[living].wall_max_gap <= 0.5
    assert down.evidence.rooms[living].wall_coverage >= 0.97  # the walls themselves still show
    assert down.evidence.rooms[living].wall_max_gap >= 0.8
    inside = np.array([2.5, 2.0])

    def living_room_area(view):
        labels, origin, _ = room_regions(view)
        i, j = np.floor((inside - origin) / ROOM_CELL).astype(int)
        return float((labels == labels[i, j]).sum()) * ROOM_CELL**2 if labels[i, j] else 0.0

    assert living_room_area(level_view) == pytest.approx(20.0, rel=0.15)
    assert living_room_area(down_view) == 0.0


def test_rooms_visited_is_dropped_while_a_room_has_walls_unseen(toured, pool):
    """The tour walks through all four rooms but leaves 1.2 m of the hallway's walls unseen (more
    than the 0.5 m the count allows): no count, though the auditor closes the hallway's pocket from
    the wall's other faces (its rooms are still the four)."""
    episode, view, _ = toured
    assert max(s.wall_max_gap for s in episode.evidence.rooms) > 0.5
    assert _run(pool, episode, "rooms_visited") == (None, "a room partly shown")
    assert audited(view, "rooms_visited", {}, {}) == 4.0


def _first_frames(toured, k: int):
    """The tour cut after its first ``k`` frames, with the evidence of those frames."""
    episode, _, buffers = toured
    cut = episode.model_copy(
        update={
            "frames": episode.frames[:k],
            "video": episode.video.model_copy(update={"frames": k}),
            "visibility": [v.model_copy(update={"pixels": v.pixels[:k]}) for v in episode.visibility],
            "actions": [a for a in episode.actions if a.frame < k],
            "targets": [],
        }
    )
    return with_evidence(cut, buffers.depth[:k], buffers.instance[:k])


def test_rooms_visited_is_dropped_while_a_room_is_half_shown(toured, pool):
    """The tour's first 20 frames (10 s in the living room, the kitchen glimpsed through its
    doorway): some room shows part of its structure only, so no count is given."""
    value, why = _run(pool, _first_frames(toured, 20), "rooms_visited")
    assert value is None and why == "a room partly shown"


# the living room (sofa) is 20 m^2, the bedroom (bed) 16, the kitchen (refrigerator, dining table) 14
LARGER = [((SOFA, REFRIGERATOR), SOFA, ""), ((BED, SOFA), SOFA, ""), ((BED, DINING_TABLE), None, "within the margin")]


@pytest.mark.parametrize(("ids", "expected", "why"), LARGER)
def test_larger_room_known_by_construction(toured, pool, ids, expected, why):
    """Areas 20 vs 14 and 16 vs 20 m^2 are told apart (the auditor's rooms, measured from the wall
    points, agree); 16 vs 14 (1.14 x) is within the 1.2 x margin."""
    episode, view, _ = toured
    slots = dict(zip("ab", ids))
    value, reason = _run(pool, episode, "larger_room", **slots)
    assert (value, reason) == (expected, why)
    if expected is not None:
        assert audited(view, "larger_room", slots, {}) == expected


def test_larger_room_is_dropped_for_one_room_or_walls_unseen(toured, pool):
    episode = toured[0]
    assert _run(pool, episode, "larger_room", a=SOFA, b=ARMCHAIR) == (None, "the same room")
    assert _run(pool, episode, "larger_room", a=CABINET, b=SOFA) == (None, "not well inside a room")  # 0.18 m
    # the first 20 frames do not show the bedroom
    assert _run(pool, _first_frames(toured, 20), "larger_room", a=BED, b=SOFA) == (None, "walls not all seen")


# the armchair is in the living room with the sofa; the dining table in the kitchen with the refrigerator
SAME_ROOM = [((ARMCHAIR, SOFA, BED), SOFA), ((DINING_TABLE, BED, REFRIGERATOR), REFRIGERATOR)]


@pytest.mark.parametrize(("ids", "expected"), SAME_ROOM)
def test_object_room_known_by_construction(toured, pool, ids, expected):
    """Which room an object is in, named by what else is in it: the program and the auditor (its own
    rooms from the wall points) agree."""
    episode, view, _ = toured
    slots = dict(zip("abc", ids))
    assert _run(pool, episode, "object_room", **slots) == (expected, "")
    assert audited(view, "object_room", slots, {}) == expected


def test_object_room_is_dropped_for_one_room_or_walls_unseen(toured, pool):
    episode = toured[0]
    assert _run(pool, episode, "object_room", a=BED, b=SOFA, c=ARMCHAIR) == (None, "the two share a room")
    assert _run(pool, episode, "object_room", a=BED, b=SOFA, c=DINING_TABLE) == (None, "in neither room")
    assert _run(pool, episode, "object_room", a=CABINET, b=SOFA, c=BED) == (None, "not well inside a room")
    first = _first_frames(toured, 20)  # the first 20 frames do not show the bedroom
    assert _run(pool, first, "object_room", a=ARMCHAIR, b=SOFA, c=BED) == (None, "walls not all seen")


@pytest.fixture(scope="module")
def rug_tour():
    """The small house with a rug over most of the bedroom's floor (3.4 x 3.0 m of its 4 x 4), toured:
    the bedroom's floor shows around the rug only, on a small share of the room (a furnished room
    the camera stands in shows little floor: the floor at its feet is below the view)."""
    rug = _thing(14, "rug", 2.0, 8.0, 0.0, (3.4, 3.0, 0.01), (0.6, 0.2, 0.2))
    scene = small_house().model_copy(update={"objects": [*house_objects(), rug]})
    episode, buffers = shoot(
        ZBufferRenderer(), scene, TOUR, RULE, np.random.default_rng(1), dynamic=False, trajectory="tour"
    )
    episode = with_evidence(episode, buffers.depth, buffers.instance)
    return episode, View(episode, buffers.depth, buffers.instance, RULE.min_pixels, RULE.min_frames)


def test_object_room_size_known_by_construction(rug_tour, toured, pool):
    """The living room (the sofa's) is 5 x 4 m, the kitchen (the dining table's) 3.5 x 4 m: on a tour
    that shows every wall the program says so and the auditor's own rooms agree within the
    tolerance. Where a room a doorway joins them to has walls unseen (the first tour's hallway:
    1.2 m), the auditor could not close the rooms apart: not asked."""
    episode, view = rug_tour
    for oid, area in ((SOFA, 20.0), (DINING_TABLE, 14.0)):
        assert _run(pool, episode, "object_room_size", a=oid) == (area, "")
        assert abs(audited(view, "object_room_size", {"a": oid}, {}) - area) <= 0.15 * area
    assert _run(pool, toured[0], "object_room_size", a=SOFA) == (None, "walls not all seen")


def test_a_room_whose_floor_shows_on_a_small_share_counts(rug_tour, pool):
    """The tour shows all four rooms, every wall but for stretches of 0.1 m: 4, by the program and the
    auditor. Regression (the first generated house of a vsi-tour run): a room whose floor the video
    shows, but on a small share of its outline, is a room the video shows, for the auditor too."""
    episode, view = rug_tour
    labels, origin, _ = room_regions(view)
    bedroom = np.argwhere(labels == labels[tuple(np.floor((np.array([2.0, 8.0]) - origin) / ROOM_CELL).astype(int))])
    assert labels[tuple(bedroom[0])] > 0, "the auditor finds the bedroom"
    floor = np.concatenate([p[p[:, 2] < 0.03, :2] for p in view.room_points()])
    cells = {tuple(c) for c in np.floor((floor - origin) / ROOM_CELL).astype(int)}
    assert sum(tuple(c) in cells for c in bedroom) < 0.3 * len(bedroom), "its floor shows on a small share"
    value, why = _run(pool, episode, "rooms_visited")
    assert value == 4, why
    assert audited(view, "rooms_visited", {}, {}) == 4.0


class _Points:
    """The auditor's view reduced to what ``room_regions`` reads: room points per frame (the
    structure a video shows, here written directly) and the visibility rule."""

    def __init__(self, frames: list[np.ndarray]):
        self.frames, self.min_px, self.min_frames = frames, 20, 2

    def room_points(self) -> list[np.ndarray]:
        return self.frames


def _grid(xs, ys, zs) -> np.ndarray:
    return np.stack(np.meshgrid(xs, ys, zs, indexing="ij"), -1).reshape(-1, 3)


def test_a_door_leaf_open_into_a_room_does_not_cut_its_corner_off():
    """A 3 x 2.5 m room (walls up to its 2.4 m ceiling, its floor seen) with a door leaf standing open
    into it, 0.9 m long and 2 m tall, 0.35 m from a corner (in the 50-house run two bathrooms read
    16% small this way, and a bedroom lost a corner cut off by two leaves): the auditor's room is the
    whole floor, less the wall points' own cells."""
    step = 0.02
    walls = np.concatenate(
        [
            _grid(np.arange(0, 3, step), [0.0, 2.5], np.arange(0.3, 2.4, 0.1)),
            _grid([0.0, 3.0], np.arange(0, 2.5, step), np.arange(0.3, 2.4, 0.1)),
        ]
    )
    leaf = _grid([2.65], np.arange(1.6, 2.5, step), np.arange(0.3, 2.0, 0.1))
    floor = _grid(np.arange(0.05, 3.0, 0.05), np.arange(0.05, 2.5, 0.05), [0.0])
    ceiling = _grid(np.arange(0.05, 3.0, 0.1), np.arange(0.05, 2.5, 0.1), [2.4])
    frame = np.concatenate([walls, leaf, floor, ceiling])
    labels, _, floor_frames = room_regions(_Points([frame, frame]))
    assert len(floor_frames) == 2  # one room
    whole = 7.5 - 2 * (3 + 2.5) * ROOM_CELL  # less a strip of the wall points' cells all round
    assert (labels == 1).sum() * ROOM_CELL**2 == pytest.approx(whole, rel=0.03)  # the corner cut off: -6.8%
