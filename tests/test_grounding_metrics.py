"""Grounded answers (issue #33), the scoring side: 2D IoU, oriented 3D IoU against Monte Carlo,
point distances, VSI-Bench's cognitive-map score; replies read in each model family's style;
``synth eval``'s scores of perfect and shuffled replies."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from synth.core.grounding import box3d_corners, box3d_iou, box_iou, grounded_score, map_score, point_hit
from synth.core.records import QA, Grounding
from synth.core.rotations import euler_matrix, matrix_euler
from synth.evaluation.answers import parse
from synth.evaluation.items import Item
from synth.evaluation.prompt import expected_reply, prompt
from synth.evaluation.scorer import Report, format_report, score
from tests.test_eval import shuffled_replies

PIXELS = Grounding(convention="pixels", frame=2, width=448, height=336)
PER_MILLE = Grounding(convention="0-1000", frame=2, width=448, height=336)
CAMERA = Grounding(convention="camera", frame=1, width=448, height=336)
GRID = Grounding(convention="grid", width=448, height=336, cells=10)


def test_box_iou_of_hand_made_boxes():
    assert box_iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert box_iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert box_iou([0, 0, 10, 10], [2, 2, 4, 4]) == pytest.approx(4 / 100)
    assert box_iou([0, 0, 10, 10], [10, 0, 20, 10]) == 0.0  # touching edges share no area
    assert box_iou([0, 0, 10, 10], [30, 30, 40, 40]) == 0.0
    assert box_iou([10, 10, 0, 0], [0, 0, 10, 10]) == 1.0  # corners in either order
    assert box_iou([0, 0, 0, 10], [0, 0, 0, 10]) == 0.0  # no area
    # a one-pixel object at column 3, row 4 is [3, 4, 4, 5]; IoU is the same in 0-1000 units
    box, other = [3, 4, 40, 50], [10, 8, 60, 44]
    scale = np.array([1000 / 448, 1000 / 336] * 2)
    assert box_iou(np.array(box) * scale, np.array(other) * scale) == pytest.approx(box_iou(box, other))


def _inside(box, points: np.ndarray) -> np.ndarray:
    centre, half, rotation = np.array(box[:3]), np.array(box[3:6]) / 2, euler_matrix(*box[6:])
    return np.all(np.abs((points - centre) @ rotation) <= half, axis=1)


def _monte_carlo_iou(a, b, rng: np.random.Generator, n: int = 200_000) -> float:
    corners = np.concatenate([box3d_corners(a), box3d_corners(b)])
    points = rng.uniform(corners.min(axis=0), corners.max(axis=0), (n, 3))
    ia, ib = _inside(a, points), _inside(b, points)
    return (ia & ib).sum() / (ia | ib).sum()


def _random_box(rng: np.random.Generator, near=None) -> list[float]:
    centre = rng.normal(0, 0.3, 3) if near is None else np.array(near[:3]) + rng.normal(0, 0.35, 3)
    return [*centre, *rng.uniform(0.3, 1.5, 3), *rng.uniform(-math.pi, math.pi, 3)]


def test_box3d_iou_is_exact_against_monte_carlo():
    rng = np.random.default_rng(7)
    compared = 0
    for _ in range(12):
        a = _random_box(rng)
        b = _random_box(rng, near=a)
        exact, sampled = box3d_iou(a, b), _monte_carlo_iou(a, b, rng)
        assert exact == pytest.approx(sampled, abs=0.01), (a, b)
        compared += exact > 0.05
    assert compared >= 6  # most pairs overlap: the comparison is not all zeros


def test_box3d_corners_and_iou_of_special_cases():
    box = [0.2, -0.1, 3.0, 1.2, 0.6, 0.8, 0.3, -0.2, 1.1]
    corners = box3d_corners(box)
    assert corners.shape == (8, 3) and np.allclose(corners.mean(axis=0), box[:3])
    local = (corners - box[:3]) @ euler_matrix(*box[6:])  # in the box's own axes: every sign of the half sizes
    assert np.allclose(np.abs(local), [0.6, 0.3, 0.4]) and len({tuple(np.sign(c)) for c in local}) == 8
    assert box3d_iou(box, box) == pytest.approx(1.0)
    rotation = euler_matrix(*box[6:])
    for axis in np.eye(3):  # half a turn about each of the box's own axes: the same box
        half_turn = 2 * np.outer(axis, axis) - np.eye(3)
        turned = [*box[:6], *matrix_euler(rotation @ half_turn)]
        assert box3d_iou(box, turned) == pytest.approx(1.0), axis
    assert box3d_iou(box, [5.0, 5.0, 9.0, *box[3:]]) == 0.0  # far apart
    assert box3d_iou([0, 0, 3, 1, 1, 1, 0, 0, 0], [1, 0, 3, 1, 1, 1, 0, 0, 0]) == 0.0  # touching faces
    assert box3d_iou([0, 0, 3, 1, 1, 1, 0, 0, 0], [0.5, 0, 3, 1, 1, 1, 0, 0, 0]) == pytest.approx(1 / 3)
    assert box3d_iou([0, 0, 3, 2, 2, 2, 0, 0, 0], [0, 0, 3, 1, 1, 1, 0, 0, math.pi / 4]) == pytest.approx(1 / 8)
    assert box3d_iou(box, [*box[:3], 0.0, 0.6, 0.8, *box[6:]]) == 0.0  # no volume


def test_points_within_a_share_of_the_diagonal_or_of_the_distance():
    diagonal = math.hypot(448, 336)  # 560 px: 5% is 28 px
    assert point_hit([100 + 27.9, 100], [100, 100], 0.05, PIXELS)
    assert not point_hit([100 + 28.1, 100], [100, 100], 0.05, PIXELS)
    assert point_hit([100, 100 + 0.05 * diagonal], [100, 100], 0.05, PIXELS)
    # 0-1000 points are compared in pixels: 28 px is 62.5 per mille across, 83.3 down
    assert point_hit([500 + 62, 500], [500, 500], 0.05, PER_MILLE) and point_hit(
        [500, 500 + 83], [500, 500], 0.05, PER_MILLE
    )
    assert not point_hit([500 + 63, 500], [500, 500], 0.05, PER_MILLE)
    assert not point_hit([500, 500 + 84], [500, 500], 0.05, PER_MILLE)
    # 3D: within 15% of the answer's distance from the camera (5 m away: 0.75 m)
    assert point_hit([0, 3, 4.74], [0, 3, 4], 0.15, CAMERA) and not point_hit([0, 3, 4.76], [0, 3, 4], 0.15)
    with pytest.raises(ValueError):
        point_hit([1, 2], [1, 2], 0.05)  # a 2D point needs its frame


TRUTH_MAP = {"chair": [[1, 1]], "table": [[4, 1]], "bed": [[8, 7]], "lamp": [[2, 6]]}


def test_map_score_is_the_share_of_pairs_whose_distance_is_within_a_cell():
    assert map_score(TRUTH_MAP, TRUTH_MAP) == 1.0
    rotated = {k: [[9 - r, c] for c, r in v] for k, v in TRUTH_MAP.items()}  # a quarter turn on the grid
    mirrored = {k: [[9 - c, r] for c, r in v] for k, v in TRUTH_MAP.items()}
    shifted = {k: [(c + 0.5, r - 1)] for k, v in TRUTH_MAP.items() for c, r in v}  # tuples, moved
    assert map_score(rotated, TRUTH_MAP) == map_score(mirrored, TRUTH_MAP) == map_score(shifted, TRUTH_MAP) == 1.0
    # one object 3 cells off: two of its pairs move by more than a cell (to the chair 9.2 -> 7.6, to the
    # table 7.2 -> 5.0), the third not (to the lamp 6.1 -> 6.3): 4 of 6 pairs right
    off = {**TRUTH_MAP, "bed": [[8, 4]]}
    assert map_score(off, TRUTH_MAP) == pytest.approx(4 / 6)
    near = {**TRUTH_MAP, "bed": [[8, 6]]}  # one cell off: every distance moves by at most one
    assert map_score(near, TRUTH_MAP) == 1.0
    missing = {k: v for k, v in TRUTH_MAP.items() if k != "lamp"}  # its 3 pairs are wrong
    assert map_score(missing, TRUTH_MAP) == pytest.approx(3 / 6)
    spelled = {"Chair": [1, 1], "TABLE": (4, 1), "bed": [[8, 7]], "lamp": [(2, 6)]}  # one cell bare, any case
    assert map_score(spelled, TRUTH_MAP) == 1.0
    assert map_score({}, TRUTH_MAP) == 0.0
    assert map_score(off, TRUTH_MAP, tolerance=3.0) == 1.0
    assert grounded_score("cognitive map", json.dumps(TRUTH_MAP), off, 0.0, GRID) == pytest.approx(4 / 6)  # one cell


def test_grounded_score_thresholds_each_type():
    assert grounded_score("2d box", "[0, 0, 10, 10]", (0, 0, 10, 14), 0.5, PIXELS) == 1.0  # IoU 0.71
    assert grounded_score("2d box", "[0, 0, 10, 10]", (5, 0, 15, 10), 0.5, PIXELS) == 0.0  # IoU 0.33
    assert grounded_score("2d box", "[0, 0, 10, 10]", (0, 0, 10), 0.5, PIXELS) == 0.0  # three numbers
    assert grounded_score("2d box", "[0, 0, 10, 10]", None, 0.5, PIXELS) == 0.0
    assert grounded_score("2d point", [100, 100], (110, 110), 0.05, PIXELS) == 1.0
    box = [0, 0, 3, 1, 1, 1, 0, 0, 0]
    assert grounded_score("3d box", json.dumps(box), (0.5, 0, 3, 1, 1, 1, 0, 0, 0), 0.25, CAMERA) == 1.0  # 1/3
    assert grounded_score("3d box", json.dumps(box), (0.7, 0, 3, 1, 1, 1, 0, 0, 0), 0.25, CAMERA) == 0.0  # 0.18
    assert grounded_score("3d point", "[0, 0, 4]", (0, 0.5, 4), 0.15, CAMERA) == 1.0
    assert grounded_score("3d point", "[0, 0, 4]", (0, 0.7, 4), 0.15, CAMERA) == 0.0
    with pytest.raises(ValueError):
        grounded_score("number", "3", (3,), 0.1, None)


def _qa(answer_type: str, answer, grounding: Grounding, tolerance: float, n: int = 0, family: str = "") -> QA:
    return QA(
        id=f"{family or answer_type.replace(' ', '_')}-{n}",
        family=family or answer_type.replace(" ", "_"),
        program_id="f@0",
        question="In frame 3, where is the chair?",
        slots={"frame": 2},
        answer=json.dumps(answer),
        answer_type=answer_type,
        tolerance=tolerance,
        grounding=grounding,
    )


BOX = _qa("2d box", [10, 20, 110, 220], PIXELS, 0.5)


@pytest.mark.parametrize(
    "reply",
    [
        "[10, 20, 110, 220]",
        "Answer: [10, 20, 110, 220]",
        "The chair in frame 3 is at [10, 20, 110, 220].",
        '```json\n[\n  {"bbox_2d": [10, 20, 110, 220], "label": "chair 2"}\n]\n```',  # Qwen2.5-VL
        "<|object_ref_start|>the chair<|object_ref_end|><|box_start|>(10,20),(110,220)<|box_end|>",  # Qwen2-VL
        "(10, 20), (110, 220)",
        "<ref>chair</ref><box>[[10, 20, 110, 220]]</box>",  # InternVL
        "x1=10, y1=20, x2=110, y2=220",
        '<think>first [1, 2, 3, 4]</think>\nAnswer:\n```json\n[{"bbox_2d": [10, 20, 110, 220]}]\n```\nThe chair.',
        r"\boxed{[10, 20, 110, 220]}",
        "[[10, 20, 110, 220], [300, 20, 400, 220]]",  # several boxes: the first
    ],
)
def test_box_replies_in_each_models_style(reply):
    assert parse(reply, BOX).coords == (10, 20, 110, 220)


def test_point_map_and_abstention_replies():
    point = _qa("2d point", [50, 60], PER_MILLE, 0.05)
    for reply in ('{"point_2d": [50, 60], "label": "cup 1"}', '[{"point_2d": [50, 60]}]', "In frame 3: (50, 60)"):
        assert parse(reply, point).coords == (50, 60), reply
    box3d = _qa("3d box", [0.1, -0.2, 3, 1, 0.5, 0.8, 0, 0.1, 1.57], CAMERA, 0.25)
    assert parse('{"bbox_3d": [0.1, -0.2, 3, 1, 0.5, 0.8, 0, 0.1, 1.57]}', box3d).coords[8] == 1.57
    centre = _qa("3d point", [0.1, -0.2, 3], CAMERA, 0.15)
    assert parse("x = 0.1 m, y = -0.2 m, z = 3 m", centre).coords == (0.1, -0.2, 3)
    cells = {"chair": ((1, 2),), "coffee table": ((3, 4),)}
    grid = _qa("cognitive map", {"chair": [[1, 2]], "coffee table": [[3, 4]]}, GRID, 0.0)
    for reply in (
        '{"chair": [[1, 2]], "coffee table": [[3, 4]]}',
        "{'chair': [(1, 2)], 'coffee table': (3, 4)}",  # the probe's Python tuples
        'Answer:\n```json\n{\n  "Chair": [1, 2],\n  "coffee_table": [[3, 4]]\n}\n```',
    ):
        assert parse(reply, grid).cells == cells, reply
    for qa in (BOX, point, box3d, centre, grid):
        assert parse("It cannot be determined from the video.", qa).abstain
        assert not parse("somewhere on the left", qa).understood
        assert not parse("<think>it is at [1, 2, 3, 4]", qa).understood  # cut off while reasoning
        assert parse(expected_reply(qa), qa).understood  # the training target reads back
    assert parse(expected_reply(grid), grid).cells == {"chair": ((1, 2),), "coffee table": ((3, 4),)}


def test_prompt_states_each_convention():
    assert "[x1, y1, x2, y2]" in prompt(BOX) and "pixels of the 448x336 frame" in prompt(BOX)
    assert "0-1000 scale" in prompt(_qa("2d point", [5, 6], PER_MILLE, 0.05))
    box3d = prompt(_qa("3d box", [0] * 9, CAMERA, 0.25))
    assert "[x, y, z, l, w, h, roll, pitch, yaw]" in box3d and "z forward" in box3d and "radians" in box3d
    assert "10x10 grid" in prompt(_qa("cognitive map", {"a": [[1, 1]], "b": [[2, 2]]}, GRID, 0.0))


def _grounded_items(rng: random.Random, per_family: int = 40) -> list[Item]:
    """Items of the five grounded answer types with random answers (each family one type)."""
    categories = ("chair", "table", "bed", "lamp")
    made = {
        "2d box": lambda: [
            (x := rng.randint(0, 300)),
            (y := rng.randint(0, 200)),
            x + rng.randint(20, 140),
            y + rng.randint(20, 130),
        ],
        "2d point": lambda: [rng.randint(0, 1000), rng.randint(0, 1000)],
        "3d box": lambda: [
            *(
                round(rng.uniform(a, b), 3)
                for a, b in ((-1, 1), (-0.5, 0.5), (2, 5), (0.3, 1.5), (0.3, 1.5), (0.3, 1.5))
            ),
            0.0,
            0.0,
            round(rng.uniform(-math.pi, math.pi), 3),
        ],
        "3d point": lambda: [
            round(rng.uniform(-1, 1), 3),
            round(rng.uniform(-0.5, 0.5), 3),
            round(rng.uniform(2, 5), 3),
        ],
        "cognitive map": lambda: {
            c: [list(cell)]
            for c, cell in zip(categories, rng.sample([(i, j) for i in range(10) for j in range(10)], 4))
        },
    }
    settings = {
        "2d box": (PIXELS, 0.5),
        "2d point": (PER_MILLE, 0.05),
        "3d box": (CAMERA, 0.25),
        "3d point": (CAMERA, 0.15),
        "cognitive map": (GRID, 0.0),
    }
    items = []
    for answer_type, make in made.items():
        grounding, tolerance = settings[answer_type]
        for k in range(per_family):
            qa = _qa(answer_type, make(), grounding, tolerance, k)
            items.append(Item(f"ep{k:04d}/{qa.id}", f"ep{k:04d}", k, "clean", qa))
    return items


def test_eval_scores_perfect_grounded_replies_100_and_shuffled_ones_near_chance():
    rng = random.Random(3)
    items = _grounded_items(rng)
    perfect = score(items, {i.id: expected_reply(i.qa) for i in items})
    assert perfect.score == 1.0 and perfect.overall.accuracy == 1.0 and perfect.overall.map == 1.0
    assert perfect.overall.mra is None and perfect.overall.unanswered == 0
    hits = {f: (g.accuracy, g.map) for f, g in perfect.families.items()}
    assert hits == {
        **{f: (1.0, None) for f in ("2d_box", "2d_point", "3d_box", "3d_point")},
        "cognitive_map": (None, 1.0),
    }
    worse = score(items, shuffled_replies(items, rng))
    assert worse.overall.unanswered == 0
    for family, group in worse.families.items():  # a box or point of another item hits only by chance
        assert group.score < (0.5 if family == "cognitive_map" else 0.2), (family, group.score)
    assert worse.score < 0.25
    report = format_report(worse)
    assert " map " in report.splitlines()[1] and ", map " in report.splitlines()[-1]
    assert Report.model_validate_json(worse.model_dump_json()) == worse
