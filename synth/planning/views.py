"""Candidate extra views for "which view would settle it" (issue #34, item 4).

An object the video never shows, and that its description names unambiguously, cannot be asked
about: every question naming it is an abstention. ``candidate_views`` picks such an object and
``VIEWS`` camera views after the video (the objects where the last frame has them): one standing
``STANDOFF`` from it and looking at it, which shows it by at least ``CLEAR_PIXELS`` x the
visibility rule's pixels, and the others looking at objects the video shows, from elsewhere in its
room, whose frustum holds no part of its box (so no pixel of it can show); at the video's camera
height and intrinsics, ``CLEARANCE`` from walls and furniture, in random order. Which of them
settles a question is for the question programs to say, on the rendered views
(``synth.programs.generate.settle_items``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

from synth.core.camera import camera_center, look_at, project
from synth.core.geometry import footprint
from synth.core.scene import CameraFrame, Episode, Frame, VisibilityRule

VIEWS = 4
CLEAR_PIXELS = 4  # x the visibility rule's minimum of pixels the settling view shows of the object
STANDOFF = (1.0, 3.0)  # metres from the object's centre a settling view stands
CLEARANCE = 0.3  # metres from walls and furniture a view stands
TRIES = 48  # camera positions tried per kind of view
NEAR = 0.05  # metres: a point nearer the camera's plane than this cannot be in the frame

Measure = Callable[[list[Frame]], dict[int, list[int]]]  # visible pixels per object per frame (a session's)


@dataclass(frozen=True)
class ViewSet:
    """The object no frame shows and the candidate views (frames after the video's last)."""

    target: int
    frames: list[Frame]


def candidate_views(
    episode: Episode, rule: VisibilityRule, measure: Measure, rng: np.random.Generator
) -> ViewSet | None:
    """The candidate views of the episode (module docstring); None where no object the video never
    shows gets one view that shows it and ``VIEWS`` - 1 that do not."""
    scene = episode.scene
    last = episode.frames[-1]
    height = float(camera_center(episode.frames[0].camera.world_to_camera)[2])
    names = Counter(o.description for o in scene.objects)
    shown = {v.id: sum(v.pixels) for v in episode.visibility}
    hidden = [o.id for o in scene.objects if not shown.get(o.id) and names[o.description] == 1]
    centres = {p.id: np.asarray(p.position, float) for p in last.object_poses}
    landmarks = [centres[o.id] for o in scene.objects if shown.get(o.id)]
    furniture = unary_union([footprint(o.box).buffer(CLEARANCE) for o in scene.objects])
    rooms = [Polygon(r.footprint) for r in scene.rooms]
    for target in (hidden[i] for i in rng.permutation(len(hidden))):
        room = next((r for r in rooms if r.contains(Point(centres[target][:2]))), None)
        if room is None or not landmarks:
            continue
        free = room.buffer(-CLEARANCE).difference(furniture)
        toward = _views(free, height, last, rng, [centres[target]], (centres[target], STANDOFF))
        away = _views(free, height, last, rng, landmarks, None)
        if not toward or not away:
            continue
        counts = measure(toward).get(target, [0] * len(toward))
        settle = [f for f, c in zip(toward, counts) if c >= CLEAR_PIXELS * rule.min_pixels]
        pose = next(p for p in last.object_poses if p.id == target)
        corners = np.asarray(scene.object(target).box.at(pose).corners())
        blind = [f for f in away if not _in_view(f, corners, episode.width, episode.height)]
        if settle and len(blind) >= VIEWS - 1:
            picked = [settle[0], *blind[: VIEWS - 1]]
            return ViewSet(target, [picked[i] for i in rng.permutation(VIEWS)])
    return None


def _in_view(frame: Frame, corners: np.ndarray, width: int, height: int) -> bool:
    """Whether any part of a box (its 8 world corners) can fall in the frame: some corner in front
    of the camera and, where all are, their projections' bounds meet the image."""
    uv, z = project(frame.camera, corners)
    if (z <= NEAR).all():
        return False
    if (z <= NEAR).any():  # the box reaches behind the camera: it may fill the view
        return True
    (u0, v0), (u1, v1) = uv.min(axis=0), uv.max(axis=0)
    return bool(u1 >= -1 and u0 <= width and v1 >= -1 and v0 <= height)


def _views(free, height: float, last: Frame, rng: np.random.Generator, looks: list[np.ndarray], around) -> list[Frame]:
    """Up to ``TRIES`` views from points of the ``free`` floor (``around``: (centre, (near, far)),
    at that distance from the centre; None: anywhere), each looking at one of ``looks`` (drawn)."""
    if free.is_empty:
        return []
    x0, y0, x1, y1 = free.bounds
    out = []
    for _ in range(TRIES):
        if around:
            (cx, cy, _), (near, far) = around
            angle, r = rng.uniform(0, 2 * math.pi), rng.uniform(near, far)
            x, y = cx + r * math.cos(angle), cy + r * math.sin(angle)
        else:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        at = looks[int(rng.integers(len(looks)))]
        eye = np.array([x, y, height])
        if not free.contains(Point(x, y)) or np.linalg.norm((at - eye)[:2]) < 0.5:
            continue
        camera = CameraFrame(K=last.camera.K, world_to_camera=tuple(tuple(r) for r in look_at(eye, at).tolist()))
        out.append(last.model_copy(update={"camera": camera}))
    return out
