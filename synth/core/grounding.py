"""The geometry of grounded answers (issue #33): how close a reply's coordinates are to an item's
(``synth.core.records.GROUNDED``; the answer text and its conventions: ``records.Grounding``).

Each answer type has one measure and one threshold, the item's ``QA.tolerance``:

- ``2d box`` (``[x1, y1, x2, y2]``, pixel edges, ``pixels`` or ``0-1000``): right when the
  intersection over union of the two boxes is at least the tolerance (0.5: PASCAL VOC's
  detection criterion, Everingham et al. 2010, and RefCOCO's Acc@0.5, which Qwen2.5-VL and InternVL
  report). IoU is unchanged by scaling each axis, so 0-1000 boxes are compared as they are.
- ``2d point`` (``[x, y]``): right when the reply's point lies within tolerance x the frame's
  diagonal (``hypot(width, height)`` pixels) of the answer's; 0-1000 points are converted to
  pixels of the ``Grounding``'s frame size first, so that both axes count alike. (No threshold is
  standard for points; a share of the diagonal does not depend on the resolution.)
- ``3d box`` (``[x, y, z, l, w, h, roll, pitch, yaw]``, camera frame, metres and radians; the box's
  axes are the columns of ``synth.core.rotations.euler_matrix(roll, pitch, yaw)``, ``l``, ``w``,
  ``h`` its sizes along them): right when the IoU of the two oriented boxes is at least the
  tolerance (0.25: ScanRefer's Acc@0.25, and the IoU threshold of EmbodiedScan's 9-DoF box
  detection). The intersection is computed exactly, as the convex polytope the two boxes' twelve
  half-spaces bound (``scipy.spatial.HalfspaceIntersection`` from their Chebyshev centre, found by
  ``scipy.optimize.linprog``), its volume the ``ConvexHull``'s; 0 when the boxes do not overlap.
- ``3d point`` (``[x, y, z]``, camera frame, metres): right when the reply lies within tolerance x
  the answer's distance from the camera (``norm([x, y, z])``) of the answer: an error relative to
  the distance, as depth errors grow with it.
- ``cognitive map`` (``{"category": [[column, row]], ...}`` on a ``cells`` x ``cells`` grid):
  VSI-Bench's cognitive-map probe (Yang et al., "Thinking in Space", 2024, section 5.2, "Probing
  via cognitive maps"): the Euclidean grid distance of every pair of objects is compared, a pair
  being right when the reply's distance deviates from the true one by at most one grid cell (the
  tolerance, in cells; an item whose tolerance is 0 takes the probe's ``PROBE_CELLS``). The item's
  score is the share of right pairs over all pairs of the answer's categories (a category the
  reply leaves out makes its pairs wrong): a fraction, not 0/1. Distances alone are compared, so a
  map rotated or mirrored on the grid scores the same. The rule follows the paper's wording (the
  probe's code is not part of lmms-eval's vsibench task). A category given several cells (the
  probe's own ``[(x, y), ...]`` lists allow it) is placed at their mean.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np

from synth.core.records import Grounding
from synth.core.rotations import euler_matrix

Cells = dict[str, tuple[tuple[float, float], ...]]  # a cognitive map: category -> its cells (column, row)
# a pair of distances within this of the tolerance counts as within it (cells given as floats)
_SLACK = 1e-9
PROBE_CELLS = 1.0  # VSI-Bench's cognitive-map probe: a pair's distance may be off by one cell
# two boxes whose common part holds no ball wider than this share of their smallest size do not overlap
_THIN = 1e-6


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two 2D boxes ``[x1, y1, x2, y2]`` (any unit, the same for both;
    each axis's two edges in either order); 0 where either box has no area."""
    (ax1, ax2), (ay1, ay2) = sorted(a[0::2]), sorted(a[1::2])
    (bx1, bx2), (by1, by2) = sorted(b[0::2]), sorted(b[1::2])
    inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return float(inter / union) if union > 0 else 0.0


def _box3d(box: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre (3,), half sizes (3,) and rotation (3, 3) (columns: the box's axes in the camera's)
    of a 9-DoF box."""
    x, y, z, length, width, height, roll, pitch, yaw = (float(v) for v in box)
    return np.array([x, y, z]), np.array([length, width, height]) / 2, euler_matrix(roll, pitch, yaw)


def box3d_corners(box: Sequence[float]) -> np.ndarray:
    """The 8 corners (8, 3) of a 9-DoF box ``[x, y, z, l, w, h, roll, pitch, yaw]`` (module
    docstring), in its frame's coordinates (metres)."""
    centre, half, rotation = _box3d(box)
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))
    return centre + (signs * half) @ rotation.T


def _halfspaces(centre: np.ndarray, half: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """The box as 6 half-spaces ``[n, d]`` with ``n . p + d <= 0`` inside (scipy's convention)."""
    normals = np.concatenate([rotation.T, -rotation.T])
    offsets = -(normals @ centre) - np.concatenate([half, half])
    return np.column_stack([normals, offsets])


def _intersection_volume(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.optimize import linprog
    from scipy.spatial import ConvexHull, HalfspaceIntersection

    (ca, ha, ra), (cb, hb, rb) = _box3d(a), _box3d(b)
    spaces = np.concatenate([_halfspaces(ca, ha, ra), _halfspaces(cb, hb, rb)])
    normals, offsets = spaces[:, :3], spaces[:, 3]
    # the Chebyshev centre: the centre of the widest ball inside both boxes (maximise its radius r)
    norms = np.linalg.norm(normals, axis=1, keepdims=True)
    found = linprog(
        c=[0, 0, 0, -1], A_ub=np.hstack([normals, norms]), b_ub=-offsets, bounds=[(None, None)] * 3 + [(0, None)]
    )
    if not found.success or found.x[3] <= _THIN * min(ha.min(), hb.min()):
        return 0.0
    corners = HalfspaceIntersection(spaces, found.x[:3]).intersections
    return float(ConvexHull(corners).volume)


def box3d_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Exact intersection over union of two oriented 9-DoF boxes (module docstring); 0 where they
    do not overlap or either has no volume (a size of 0 or less)."""
    if min(a[3:6]) <= 0 or min(b[3:6]) <= 0:
        return 0.0
    inter = _intersection_volume(a, b)
    return inter / (float(np.prod(a[3:6])) + float(np.prod(b[3:6])) - inter)


def point_hit(
    reply: Sequence[float], truth: Sequence[float], tolerance: float, grounding: Grounding | None = None
) -> bool:
    """Whether the point ``reply`` is within ``tolerance`` of ``truth`` (module docstring): 2D
    points (``grounding`` gives the frame: ``pixels`` or ``0-1000``) relative to the frame's
    diagonal, 3D points (``camera``, or no ``grounding``) relative to the truth's distance from the
    camera."""
    p, t = np.asarray(reply, dtype=float), np.asarray(truth, dtype=float)
    if len(t) == 2:
        if grounding is None:
            raise ValueError("a 2D point needs its Grounding (the frame's width and height)")
        size = np.array([grounding.width, grounding.height], dtype=float)
        if grounding.convention == "0-1000":
            p, t = p * size / 1000, t * size / 1000
        return bool(np.linalg.norm(p - t) <= tolerance * math.hypot(*size))
    return bool(np.linalg.norm(p - t) <= tolerance * np.linalg.norm(t))


def map_cells(value: object) -> Cells | None:
    """A cognitive map as ``{category: ((column, row), ...)}``: from a mapping whose values are one
    cell (``[x, y]``, ``(x, y)``) or a list of them (``[[x, y]]``, ``[(x, y)]``); categories in lower
    case with single spaces (``"Coffee_Table"`` is ``"coffee table"``). None for anything else."""
    if not isinstance(value, Mapping):
        return None
    out: Cells = {}
    for key, cells in value.items():
        if not isinstance(cells, list | tuple):
            return None
        if len(cells) == 2 and all(isinstance(c, Real) for c in cells):
            cells = [cells]
        try:
            pairs = tuple((float(x), float(y)) for x, y in cells)
        except (TypeError, ValueError):
            return None
        out[" ".join(str(key).replace("_", " ").lower().split())] = pairs
    return out


def map_score(pred: Mapping, truth: Mapping, tolerance: float = PROBE_CELLS) -> float:
    """VSI-Bench's cognitive-map score (module docstring): the share of the pairs of ``truth``'s
    categories whose grid distance in ``pred`` is within ``tolerance`` cells of the true one.
    Both are maps as :func:`map_cells` reads them; a category ``pred`` lacks makes its pairs wrong.
    A map of one category scores 1 if ``pred`` places it."""
    predicted, true = map_cells(pred) or {}, map_cells(truth) or {}
    centre = {k: np.mean(v, axis=0) for k, v in predicted.items() if v}
    true_centre = {k: np.mean(v, axis=0) for k, v in true.items() if v}
    pairs = list(itertools.combinations(sorted(true_centre), 2))
    if not pairs:
        return float(bool(true_centre) and set(true_centre) <= set(centre))
    right = sum(
        a in centre
        and b in centre
        and abs(np.linalg.norm(centre[a] - centre[b]) - np.linalg.norm(true_centre[a] - true_centre[b]))
        <= tolerance + _SLACK
        for a, b in pairs
    )
    return right / len(pairs)


# the number of coordinates a reply to each vector answer type gives
LENGTHS = {"2d box": 4, "2d point": 2, "3d box": 9, "3d point": 3}
# the name of each answer type's measure (``synth eval``'s metric); all but "map" score 0 or 1
METRICS = {"2d box": "IoU", "3d box": "IoU", "2d point": "distance", "3d point": "distance", "cognitive map": "map"}


def grounded_score(
    answer_type: str,
    truth: str | Sequence[float] | Mapping,
    reply: Sequence[float] | Mapping | None,
    tolerance: float,
    grounding: Grounding | None,
) -> float:
    """The score in [0, 1] of ``reply`` (coordinates, or a cognitive map; None: none given) for the
    grounded answer ``truth`` (its JSON text, or the value it holds) of ``answer_type``: 1 or 0 for
    boxes and points, the share of right object pairs for a cognitive map (module docstring). A
    reply with the wrong number of coordinates scores 0."""
    value = json.loads(truth) if isinstance(truth, str) else truth
    if reply is None:
        return 0.0
    if answer_type == "cognitive map":
        return map_score(reply, value, tolerance or PROBE_CELLS) if isinstance(reply, Mapping) else 0.0
    if answer_type not in LENGTHS:
        raise ValueError(f"{answer_type!r} is not a grounded answer type")
    if isinstance(reply, Mapping) or len(reply) != LENGTHS[answer_type]:
        return 0.0
    if answer_type == "2d box":
        return float(box_iou(reply, value) >= tolerance)
    if answer_type == "3d box":
        return float(box3d_iou(reply, value) >= tolerance)
    return float(point_hit(reply, value, tolerance, grounding))
