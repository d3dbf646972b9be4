"""Task-aware camera planning (InfiniBench-style) with ego actions and object motion.

It depends only on the scene model (rooms or a navigable floor region, object boxes, which
objects may move) and on the renderer's camera model (the intrinsics ``K`` it can honour).

Given a scene and the objects an episode is about, the planner samples candidate paths built
from discrete ego actions (move forward/backward, step left/right, turn left/right), each
eased over its share of the frames, with bounded linear and angular speed, at eye height,
inside the room and clear of furniture. Candidates are scored by coverage *measured from
instance masks* (a low-resolution id render supplied by the caller): each target should be
visible by the episode's ``VisibilityRule`` (``min_frames`` frames of ``min_pixels`` pixels). The best
candidate wins and its coverage is recorded.

Dynamic episodes first move one object (slide, rotate or lift) over part of the episode,
without interpenetration; the moved object becomes a target, and candidates that show it both
before the motion starts and after it ends win over those that do not (a motion nobody sees
cannot be asked about).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from synth.core.camera import look_at
from synth.core.geometry import footprint
from synth.core.scene import (
    ROOM_ID,
    Box3D,
    CameraFrame,
    Coverage,
    EgoAction,
    Episode,
    Frame,
    ObjectMotion,
    ObjectPose,
    ObjectVisibility,
    Scene,
    SceneObject,
    VideoSpec,
    VisibilityRule,
)

# frames -> visible pixels per object per frame (measured on the full-resolution pixel scale)
Measure = Callable[[list[Frame]], dict[int, list[int]]]

WALL_CLEARANCE = 0.4  # metres between the camera and walls
FURNITURE_CLEARANCE = 0.3  # metres between the camera and floor-standing furniture
STEP_OVER = 0.05  # metres: what is no higher is walked over (a rug)
MAX_SPEED = 1.0  # m/s
MAX_TURN_RATE = math.radians(60)  # rad/s
PITCH = math.radians(-12)
MOTION_GAP = 0.02  # metres a moved object keeps from others


class NoCameraPath(ValueError):
    """The scene leaves no collision-free camera path (the caller may try another scene)."""


@dataclass(frozen=True)
class Plan:
    frames: list[Frame]
    actions: list[EgoAction]
    motions: list[ObjectMotion]
    targets: list[Coverage]
    coverage: float  # share of targets that reach the visibility goal

    def episode(
        self,
        scene: Scene,
        video: VideoSpec,
        rule: VisibilityRule,
        visibility: list[ObjectVisibility],
        renderer: dict[str, str | int | float] | None = None,
    ) -> Episode:
        """The episode this plan becomes once its frames are measured: ``visibility`` per object
        (from the rendered instance masks), the targets' coverage recounted on it."""
        pixels = {v.id: v.pixels for v in visibility}
        n = rule.min_pixels
        targets = [
            Coverage(id=c.id, frames_visible=sum(p >= n for p in pixels[c.id]), max_pixels=max(pixels[c.id]))
            for c in self.targets
        ]
        return Episode(
            scene=scene,
            video=video,
            visibility_rule=rule,
            frames=self.frames,
            visibility=visibility,
            renderer=renderer or {},
            actions=self.actions,
            motions=self.motions,
            targets=targets,
        )


def _smoothstep(t):
    return t * t * (3 - 2 * t)


def as_tuples(m: np.ndarray):
    """A matrix (rows of numbers) as nested tuples of floats, as the scene model stores it."""
    return tuple(tuple(float(x) for x in row) for row in m)


def rest_poses(scene: Scene) -> dict[int, ObjectPose]:
    """Every object's pose at rest (its box), by id."""
    return {o.id: ObjectPose(id=o.id, position=o.box.center, rotation=o.box.rotation) for o in scene.objects}


def floor_region(scene: Scene) -> Polygon:
    """Where things may stand: the source's navigable polygons, else its rooms' floors."""
    polys = [Polygon(p) for p in scene.navigable] or [Polygon(r.footprint) for r in scene.rooms]
    if not polys:
        raise ValueError(f"scene {scene.seed} declares no rooms and no navigable floor")
    return polys[0] if len(polys) == 1 else unary_union(polys)


def _ceiling(scene: Scene) -> float:
    return min((r.height for r in scene.rooms), default=math.inf)


def plan_motion(scene: Scene, n_frames: int, rng: np.random.Generator) -> tuple[ObjectMotion, list[dict]] | None:
    """Move one object that supports nothing; per-frame poses of every object, or None."""
    supporters = {o.supported_by for o in scene.objects}
    movable = [o for o in scene.objects if o.movable and o.id not in supporters]
    room = floor_region(scene)
    if n_frames < 4 or not movable:
        return None
    for _ in range(30):
        obj = movable[int(rng.integers(len(movable)))]
        on_floor = obj.supported_by == 0
        kind = str(rng.choice(["slide", "slide", "rotate"] + ([] if on_floor else ["lift"])))
        start = int(rng.integers(max(1, n_frames // 5), n_frames // 2 + 1))
        end = min(n_frames - 1, start + max(2, n_frames // 3))
        shift, turn = np.zeros(3), 0.0
        if kind == "slide":
            ang = rng.uniform(-math.pi, math.pi)
            dist = rng.uniform(0.4, 1.0) if on_floor else rng.uniform(0.15, 0.35)
            shift = np.array([math.cos(ang) * dist, math.sin(ang) * dist, 0.0])
        elif kind == "rotate":
            turn = float(rng.choice([-1, 1]) * rng.uniform(math.radians(45), math.radians(90)))
        else:
            shift = np.array([0.0, 0.0, rng.uniform(0.15, 0.3)])
        if turn and not obj.box.upright:
            continue  # a tipped-over object is not turned about +Z
        end_box = Box3D(center=tuple(np.asarray(obj.box.center) + shift), size=obj.box.size, yaw=obj.box.yaw + turn)
        if not _motion_is_free(scene, obj, end_box, room):
            continue
        motion = ObjectMotion(
            id=obj.id,
            kind=kind,
            start_frame=start,
            end_frame=end,
            translation=tuple(float(x) for x in shift),
            rotation=turn,
        )
        poses = []
        for f in range(n_frames):
            s = float(_smoothstep(np.clip((f - start) / (end - start), 0.0, 1.0)))
            p = rest_poses(scene)
            c = np.asarray(obj.box.center) + s * shift
            rot = {"yaw": obj.box.yaw + s * turn} if turn else {"rotation": obj.box.rotation}
            p[obj.id] = ObjectPose(id=obj.id, position=tuple(float(x) for x in c), **rot)
            poses.append(p)
        return motion, poses
    return None


def _motion_is_free(scene: Scene, obj, end_box: Box3D, room: Polygon) -> bool:
    """The swept footprint stays in the room (or on the supporter) and clear of everything else."""
    steps = [
        Box3D(
            center=tuple(np.asarray(obj.box.center) * (1 - t) + np.asarray(end_box.center) * t),
            size=obj.box.size,
            **(
                {"yaw": obj.box.yaw * (1 - t) + end_box.yaw * t}
                if end_box.rotation != obj.box.rotation
                else {"rotation": obj.box.rotation}
            ),
        )
        for t in np.linspace(0, 1, 9)
    ]
    swept = unary_union([footprint(b) for b in steps])
    if obj.supported_by == 0:
        if not room.buffer(-0.05).contains(swept):
            return False
    elif not footprint(scene.object(obj.supported_by).box).contains(swept):
        return False
    zlo = min(b.center[2] - b.size[2] / 2 for b in steps)
    zhi = max(b.center[2] + b.size[2] / 2 for b in steps)
    if zhi > _ceiling(scene) - 0.05:
        return False
    for other in scene.objects:
        if other.id == obj.id:
            continue
        olo, ohi = other.box.center[2] - other.box.size[2] / 2, other.box.center[2] + other.box.size[2] / 2
        if min(zhi, ohi) - max(zlo, olo) > 1e-6 and swept.distance(footprint(other.box)) < MOTION_GAP:
            return False
    return True


def obstacles(scene: Scene) -> list[SceneObject]:
    """The objects a walking camera keeps clear of: what the room holds (on the floor or hung on
    a wall), except what it walks over (a rug: at most ``STEP_OVER`` high)."""
    return [o for o in scene.objects if o.supported_by == ROOM_ID and o.box.center[2] + o.box.size[2] / 2 > STEP_OVER]


def free_space(scene: Scene, moved: Polygon | None = None) -> Polygon:
    """Floor region where the camera may stand (clear of walls, furniture and a moved object)."""
    room = floor_region(scene).buffer(-WALL_CLEARANCE)
    blocks = [footprint(o.box).buffer(FURNITURE_CLEARANCE) for o in obstacles(scene)]
    if moved is not None:
        blocks.append(moved.buffer(FURNITURE_CLEARANCE))
    return room.difference(unary_union(blocks))


def _candidate_path(free: Polygon, targets: np.ndarray, n_frames: int, fps: float, rng: np.random.Generator):
    """Positions (n, 2), headings (n,), eye height and the ego actions, or None if it collides."""
    minx, miny, maxx, maxy = free.bounds
    for _ in range(50):
        p0 = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
        if free.contains(Point(p0)):
            break
    else:
        return None
    centroid = targets[:, :2].mean(axis=0)
    heading0 = math.atan2(*(centroid - p0)[::-1]) + rng.uniform(-0.5, 0.5)
    n_prims = int(rng.integers(2, 4)) if n_frames > 5 else 1
    cuts = np.sort(rng.choice(np.arange(2, n_frames - 2), size=n_prims - 1, replace=False)) if n_prims > 1 else []
    bounds = [0, *[int(c) for c in cuts], n_frames - 1]
    pos, head = [p0.copy()], [heading0]
    for k in range(n_prims):
        span = bounds[k + 1] - bounds[k]
        dur = span / fps
        kind = rng.choice(["forward", "backward", "strafe", "strafe", "turn", "turn"])
        move, turn = np.zeros(2), 0.0
        if kind == "turn":
            turn = float(rng.choice([-1, 1]) * rng.uniform(0.3, 1.0) * min(MAX_TURN_RATE * dur, math.radians(120)))
        else:
            d = rng.uniform(0.3, 1.0) * MAX_SPEED * dur
            move = {
                "forward": np.array([d, 0.0]),
                "backward": np.array([-d, 0.0]),
                "strafe": np.array([0.0, float(rng.choice([-1, 1])) * d]),
            }[kind]
        h_start, p_start = head[-1], pos[-1]
        for j in range(1, span + 1):
            s = float(_smoothstep(np.array(j / span)))
            h = h_start + s * turn
            c, si = math.cos(h_start), math.sin(h_start)
            offset = s * np.array([c * move[0] - si * move[1], si * move[0] + c * move[1]])
            pos.append(p_start + offset)
            head.append(h)
    pos = np.array(pos)
    moves = np.ptp(pos, axis=0).max() > 1e-6
    if not free.contains(LineString(pos) if moves else Point(pos[0])):
        return None
    return pos, np.array(head), rng.uniform(1.35, 1.65)


def ego_actions(pos: np.ndarray, head: np.ndarray) -> list[EgoAction]:
    """The ego action of each frame after the first, from positions (F, 2) and headings (F,)."""
    out = []
    for f in range(1, len(pos)):
        d = pos[f] - pos[f - 1]
        c, s = math.cos(head[f - 1]), math.sin(head[f - 1])
        out.append(
            EgoAction(
                frame=f,
                forward=float(c * d[0] + s * d[1]),
                left=float(-s * d[0] + c * d[1]),
                turn_left=float(math.remainder(head[f] - head[f - 1], 2 * math.pi)),
            )
        )
    return out


def plan_episode(
    scene: Scene,
    video: VideoSpec,
    rule: VisibilityRule,
    K: np.ndarray,
    rng: np.random.Generator,
    measure: Measure,
    dynamic: bool = False,
    n_targets: int = 3,
    candidates: int = 8,
) -> Plan:
    """Choose targets (and a motion), then the candidate path that covers them best. ``K`` is
    the 3x3 intrinsic matrix the renderer honours at ``video``'s size (``Renderer.intrinsics``);
    ``measure`` counts visible pixels per object per frame (``RenderSession.measure_visibility``)."""
    n_frames, fps = video.frames, video.fps
    min_pixels, min_frames = rule.min_pixels, rule.min_frames
    motion = plan_motion(scene, n_frames, rng) if dynamic else None
    poses = motion[1] if motion else [rest_poses(scene)] * n_frames
    ids = [o.id for o in scene.objects]
    chosen = [int(x) for x in rng.choice(ids, size=min(n_targets, len(ids)), replace=False)]
    if motion and motion[0].id not in chosen:
        chosen[-1] = motion[0].id
    moved_fp = None
    if motion:
        m = motion[0]
        moved_fp = unary_union([footprint(scene.object(m.id).box.at(poses[f][m.id])) for f in range(n_frames)])
    free = free_space(scene, moved_fp)
    if free.is_empty:
        raise NoCameraPath(f"scene {scene.seed} leaves no free floor space for a camera")
    K = as_tuples(np.asarray(K, dtype=float))
    centers = np.array([scene.object(i).box.center for i in chosen])
    best, best_key = None, None
    tries = 0
    while candidates > 0 and tries < 400:
        tries += 1
        path = _candidate_path(free, centers, n_frames, fps, rng)
        if path is None:
            continue
        candidates -= 1
        pos, head, eye = path
        frames = []
        for f in range(n_frames):
            eye_pt = np.array([pos[f, 0], pos[f, 1], eye])
            look = eye_pt + np.array(
                [math.cos(head[f]) * math.cos(PITCH), math.sin(head[f]) * math.cos(PITCH), math.sin(PITCH)]
            )
            cam = CameraFrame(K=K, world_to_camera=as_tuples(look_at(eye_pt, look)))
            frames.append(Frame(index=f, time=f / fps, camera=cam, object_poses=list(poses[f].values())))
        vis = measure(frames)
        cover = [
            Coverage(id=i, frames_visible=sum(p >= min_pixels for p in vis.get(i, [])), max_pixels=max(vis.get(i, [0])))
            for i in chosen
        ]
        score = sum(min(c.frames_visible, min_frames) for c in cover) / (min_frames * len(cover))
        # a motion a viewer can see: the moved object in view before it starts and after it ends
        shown = (
            motion is not None
            and any(p >= min_pixels for p in vis.get(motion[0].id, [])[: motion[0].start_frame])
            and any(p >= min_pixels for p in vis.get(motion[0].id, [])[motion[0].end_frame + 1 :])
        )
        key = (shown, score, sum(min(c.frames_visible, n_frames) for c in cover))
        if best_key is None or key > best_key:
            best, best_key = (frames, ego_actions(pos, head), cover), key
    if best is None:
        raise NoCameraPath(f"no collision-free camera path found in scene {scene.seed}")
    frames, actions, cover = best
    achieved = sum(c.frames_visible >= min_frames for c in cover) / len(cover)
    return Plan(frames=frames, actions=actions, motions=[motion[0]] if motion else [], targets=cover, coverage=achieved)
