"""The evidence layer: what the rendered passes of one sample show, measured per object and frame.

``measure_evidence(episode, depth, instance)`` reads the sample's own passes -- instance ids
(F, H, W) uint16 and planar depth (F, H, W) float32 metres (``inf`` or 0 where no surface) --
and the episode's cameras (``K``, ``world_to_camera``, OpenCV) and object poses, and returns
an :class:`~synth.core.scene.Evidence` that ships in the episode JSON:

- per object and frame: visible mask bounding box and centroid (pixels), median visible depth
  (metres), the image borders the mask touches, the share of the mask's outline an occluder
  borders and the innermost visible pixel (the centre of the largest disc inside the mask); per
  object the extent of its visible surface in its own frame (back-projected pixels, 1st-99th
  percentile, all frames) and which of its fixed surface samples the video shows (a visible
  surface point within ``SEEN_RADIUS``);
- per moving object: whether the motion shows (the object's visible surface before the motion,
  kept static and re-projected into a frame after it, lands on its own mask there with matching
  depth, and the other way round; a turn of a rotationally symmetric object changes nothing);
- per room and frame: floor, wall and ceiling pixels (room pixels by the height of their surface
  point; in a house, by the room their point belongs to), and the share of each room's wall
  perimeter (doorway openings left out: there is no wall to see) some frame shows, with its longest
  unseen stretch (over a doorway, the wall above the opening, from either side, is what closes the
  room off: a viewer who never sees it cannot tell where one room ends); per frame the room the
  camera stands in.

Question families are defined on these quantities (through ``SceneAPI``) with margins, so an
answer is one a viewer of that video could give. For degraded variants the passes are the
variant's own (lens distortion moves pixels) and the visible pixel counts are the recount on
the delivered pixels (``degradations``).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage

from synth.core.camera import back_project, project
from synth.core.geometry import room_of, voxel_firsts, world_to_local
from synth.core.meshes import MeshCache
from synth.core.scene import (
    ROOM_ID,
    Episode,
    Evidence,
    MotionEvidence,
    ObjectEvidence,
    Room,
    StructureEvidence,
)
from synth.core.visibility import visibility_table

STRUCTURE_TOLERANCE = 0.02  # metres: room pixels this close to z = 0 are floor, to the room height ceiling
DEPTH_MATCH = 0.05  # metres: a re-projected surface point and the depth map agree
DEPTH_SHARE = 0.02  # ... or within this share of its distance (far away, grazing angles)
PERIMETER_BIN = 0.1  # metres
WALL_DISTANCE = 0.1  # metres: a wall pixel's point is this close to a footprint edge
ROOM_REACH = 0.15  # metres: a point (in a wall, a doorway) this close to a footprint belongs to that room
LINTEL_REACH = 0.3  # metres: a point over a doorway this close to the wall line shows the wall above it (either face)
LINTEL_CLEARANCE = 0.03  # metres: ... when at least this far above the opening's top (a shut door's leaf: above 0.3 m)
EXTENT_PERCENTILES = (1.0, 99.0)  # robust to mixed pixels at mask edges
SEEN_RADIUS = 0.02  # metres: a surface sample this close to a visible surface point is seen
OCCLUSION_GAP = 0.1  # metres: a neighbouring surface this much nearer than the mask's edge pixel hides it
OCCLUSION_SHARE = 0.05  # ... or this share of the edge pixel's depth, whichever is more
STRUCTURE_STRIDE = 2  # every other pixel in each direction for the room structure


def backproject(episode: Episode, frame: int, us: np.ndarray, vs: np.ndarray, z: np.ndarray) -> np.ndarray:
    """World points (N, 3) of pixels (u, v) with planar depth z (metres), through the frame's
    lens distortion if it has one (a degraded variant)."""
    return back_project(episode.frames[frame].camera, np.stack([us, vs], axis=1), z)


def _valid_depth(depth: np.ndarray) -> np.ndarray:
    return np.isfinite(depth) & (depth > 0)


def _pixels_by_id(instance: np.ndarray) -> list[dict[int, np.ndarray]]:
    """Per frame, the flat indices (row-major, ascending) of each id's pixels: one sort per
    frame instead of one comparison of the whole frame per object."""
    out = []
    for frame in instance.reshape(len(instance), -1):
        order = np.argsort(frame, kind="stable")
        ids, starts = np.unique(frame[order], return_index=True)
        out.append(dict(zip(ids.tolist(), np.split(order, starts[1:]))))
    return out


def _object_evidence(
    episode: Episode,
    object_id: int,
    depth: np.ndarray,
    instance: np.ndarray,
    pixels: list[dict[int, np.ndarray]],
    meshes: MeshCache | None = None,
) -> ObjectEvidence:
    """One object's image-space quantities per frame, and the extent of its visible surface in
    its own frame over the frames in which it is visible (``Episode.visibility``); ``pixels``:
    ``_pixels_by_id(instance)``."""
    n, h, w = instance.shape
    visible = episode.visible_pixels(object_id)
    boxes, centroids, depths, cuts, local, occluded, inner = [], [], [], [], [], [], []
    none = np.zeros(0, np.int64)
    for f in range(n):
        vs, us = np.divmod(pixels[f].get(object_id, none), w)
        if len(us) == 0:
            boxes.append(None)
            centroids.append(None)
            depths.append(None)
            cuts.append("")
            occluded.append(None)
            inner.append(None)
            continue
        u0, u1, v0, v1 = int(us.min()), int(us.max()), int(vs.min()), int(vs.max())
        boxes.append((u0, v0, u1, v1))
        share, centre = _outline(depth[f], instance[f], object_id, (u0, v0, u1, v1))
        occluded.append(share)
        inner.append(centre)
        centroids.append((round(float(us.mean()), 2), round(float(vs.mean()), 2)))
        z = depth[f][vs, us]
        ok = _valid_depth(z)
        depths.append(round(float(np.median(z[ok])), 4) if ok.any() else None)
        cuts.append("".join(s for s, hit in zip("lrtb", (u0 == 0, u1 == w - 1, v0 == 0, v1 == h - 1)) if hit))
        if visible[f] > 0 and ok.any():
            world = backproject(episode, f, us[ok], vs[ok], z[ok])
            local.append(world_to_local(world, episode.pose(object_id, f)))
    extent = seen = None
    if local:
        points = np.concatenate(local)
        lo, hi = np.percentile(points, EXTENT_PERCENTILES, axis=0)
        extent = tuple((round(float(a), 4), round(float(b), 4)) for a, b in zip(lo, hi))
        seen = _surface_seen(episode, object_id, points, meshes)
    return ObjectEvidence(
        id=object_id,
        box=boxes,
        centroid=centroids,
        depth=depths,
        cut=cuts,
        extent=extent,
        surface_seen=seen,
        occluded=occluded,
        inner=inner,
    )


def _outline(
    depth: np.ndarray, instance: np.ndarray, object_id: int, box: tuple[int, int, int, int]
) -> tuple[float, tuple[int, int, float]]:
    """For one object's mask in one frame (``box``: its bounding box, inclusive): the share of
    its outline pixels (mask pixels with a 4-neighbour in the image outside the mask) that have
    such a neighbour nearer by ``OCCLUSION_GAP`` (or ``OCCLUSION_SHARE`` of the pixel's depth),
    rounded to 3 decimals (0 when the outline lies only on the image border); and its innermost
    pixel (u, v) with that pixel's Euclidean distance to the nearest pixel outside the mask or
    the image (``scipy.ndimage.distance_transform_edt``; the first such pixel in row-major order)."""
    u0, v0, u1, v1 = box
    h, w = instance.shape
    a, b, c, d = max(v0 - 1, 0), min(v1 + 2, h), max(u0 - 1, 0), min(u1 + 2, w)
    mask = instance[a:b, c:d] == object_id
    z = np.where(_valid_depth(depth[a:b, c:d]), depth[a:b, c:d], np.inf)
    edge = np.zeros_like(mask)
    hidden = np.zeros_like(mask)
    for axis in (0, 1):
        for step in (1, -1):
            near = np.roll(mask, step, axis=axis)
            other = np.roll(z, step, axis=axis)
            inside = np.ones_like(mask)  # the neighbour lies in the crop (np.roll wraps around)
            index = [slice(None), slice(None)]
            index[axis] = slice(0, 1) if step == 1 else slice(-1, None)
            inside[tuple(index)] = False
            outside = mask & inside & ~near
            edge |= outside
            with np.errstate(invalid="ignore"):  # inf - inf where a mask pixel has no depth: never hidden
                hidden |= outside & (other < z - np.maximum(OCCLUSION_GAP, OCCLUSION_SHARE * z))
    share = round(float(hidden.sum() / edge.sum()), 3) if edge.any() else 0.0
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return share, (int(col + c), int(row + a), round(float(distance[row, col]), 2))


def _surface_seen(episode: Episode, object_id: int, points: np.ndarray, meshes: MeshCache | None = None) -> str:
    """``ObjectEvidence.surface_seen``: which of the object's surface samples lie within
    ``SEEN_RADIUS`` of one of its visible surface ``points`` (N, 3), its local frame."""
    import base64

    from scipy.spatial import cKDTree

    from synth.core.meshes import surface_samples

    keep = voxel_firsts(points, 0.005)  # one point per 5 mm voxel
    samples = surface_samples(episode.scene.object(object_id), episode.scene.asset_root, meshes)
    near, _ = cKDTree(points[keep]).query(samples, distance_upper_bound=SEEN_RADIUS)
    return base64.b64encode(np.packbits(np.isfinite(near)).tobytes()).decode()


def surface_seen_mask(evidence: ObjectEvidence) -> np.ndarray | None:
    """The bits of ``evidence.surface_seen`` as a bool array over the object's surface samples."""
    import base64

    from synth.core.meshes import SURFACE_SAMPLES

    if evidence.surface_seen is None:
        return None
    bits = np.unpackbits(np.frombuffer(base64.b64decode(evidence.surface_seen), np.uint8))
    return bits[:SURFACE_SAMPLES].astype(bool)


def _surface(episode: Episode, frame: int, object_id: int, depth: np.ndarray, instance: np.ndarray) -> np.ndarray:
    vs, us = np.nonzero(instance[frame] == object_id)
    z = depth[frame][vs, us]
    ok = _valid_depth(z)
    return backproject(episode, frame, us[ok], vs[ok], z[ok])


def _static_match(
    episode: Episode, object_id: int, src: int, dst: int, depth: np.ndarray, instance: np.ndarray
) -> tuple[int, int, np.ndarray]:
    """Surface points of ``object_id`` seen in frame ``src``, kept where they were and projected
    into frame ``dst``: (points compared, points landing on the object's own mask at matching
    depth, projected pixel positions of the compared points)."""
    h, w = instance.shape[1:]
    uv, z = project(episode.frames[dst].camera, _surface(episode, src, object_id, depth, instance))
    u, v = np.round(uv[:, 0]).astype(int), np.round(uv[:, 1]).astype(int)
    inside = (z > 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    u, v, z, uv = u[inside], v[inside], z[inside], uv[inside]
    d = depth[dst][v, u]
    d = np.where(_valid_depth(d), d, np.inf)
    tol = np.maximum(DEPTH_MATCH, DEPTH_SHARE * z)  # a pixel spans more depth far away and at grazing angles
    hidden = d < z - tol  # something (perhaps the object itself) is in front
    on_own = np.zeros(len(z), bool)
    for du in (-1, 0, 1):  # within a pixel: rounding must not unseat thin parts (legs, poles)
        for dv in (-1, 0, 1):
            uu, vv = np.clip(u + du, 0, w - 1), np.clip(v + dv, 0, h - 1)
            on_own |= (instance[dst][vv, uu] == object_id) & (np.abs(depth[dst][vv, uu] - z) <= tol)
    keep = ~hidden
    return int(keep.sum()), int((on_own & keep).sum()), uv[keep]


def _motion_evidence(episode: Episode, depth: np.ndarray, instance: np.ndarray) -> list[MotionEvidence]:
    out = []
    for m in episode.motions:
        pixels = np.asarray(episode.visible_pixels(m.id))
        n = len(episode.frames)
        # compare the frame before the motion that shows most of the object with the one after it
        # that does; failing those, a frame in mid-motion: seen moving is seen moved
        before = [f for f in range(m.start_frame + 1) if pixels[f] > 0] or [
            f for f in range(m.end_frame) if pixels[f] > 0
        ][:1]
        after = [f for f in range(m.end_frame, n) if pixels[f] > 0] or [
            f for f in range(m.start_frame + 1, n) if pixels[f] > 0
        ][-1:]
        if before and after and max(before) >= min(after):  # one frame on each side at least
            before, after = [min(before)], [max(after)]
        if not before or not after or before[0] >= after[-1]:
            out.append(
                MotionEvidence(
                    id=m.id,
                    before=max(before, key=lambda f: pixels[f]) if before else -1,
                    after=max(after, key=lambda f: pixels[f]) if after else -1,
                    consistency=1.0,
                    shift_px=0.0,
                    points=0,
                )
            )
            continue
        b = max(before, key=lambda f: pixels[f])
        a = max(after, key=lambda f: pixels[f])
        n_ba, hit_ba, uv = _static_match(episode, m.id, b, a, depth, instance)
        n_ab, hit_ab, _ = _static_match(episode, m.id, a, b, depth, instance)
        shares = [hit / n for hit, n in ((hit_ba, n_ba), (hit_ab, n_ab)) if n > 0]
        vs, us = np.nonzero(instance[a] == m.id)
        shift = float(np.hypot(us.mean() - uv[:, 0].mean(), vs.mean() - uv[:, 1].mean())) if len(uv) else 0.0
        out.append(
            MotionEvidence(
                id=m.id,
                before=b,
                after=a,
                consistency=round(min(shares), 4) if shares else 1.0,
                shift_px=round(shift, 2),
                points=min(n_ba, n_ab),
            )
        )
    return out


def _ring_locate(ring: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (N,) of points ``pts`` (N, 2) to the closed polyline ``ring`` (M, 2, first corner
    not repeated), and the position of each point's nearest point along it, metres from the first
    corner (the first nearest segment on a tie): shapely's ``distance`` and ``line_locate_point``
    on a ``LinearRing``, vectorised over the points."""
    a = ring
    ab = np.roll(ring, -1, axis=0) - a
    length = np.hypot(ab[:, 0], ab[:, 1])
    start = np.concatenate([[0.0], np.cumsum(length)[:-1]])
    ap = pts[:, None, :] - a[None]  # (N, M, 2)
    t = np.clip((ap * ab[None]).sum(-1) / np.maximum(length**2, 1e-300)[None], 0.0, 1.0)
    d = np.hypot(ap[..., 0] - t * ab[None, :, 0], ap[..., 1] - t * ab[None, :, 1])
    k = np.argmin(d, axis=1)
    rows = np.arange(len(pts))
    return d[rows, k], start[k] + t[rows, k] * length[k]


def _structure(episode: Episode, depth: np.ndarray, instance: np.ndarray) -> list[StructureEvidence]:
    """Per room of the scene, its floor, wall and ceiling pixels per frame and the share of its
    perimeter seen as wall. With several rooms a room pixel counts for the room its surface point
    belongs to (``geometry.room_of``): a room's structure seen through a doorway counts for that
    room, not for the one the camera stands in. Over a doorway's opening the perimeter is seen where
    some frame shows the wall above it (a room pixel within ``LINTEL_REACH`` of the wall line, at
    least ``LINTEL_CLEARANCE`` over the opening, below the ceiling; from either room) or, where a
    closed door shuts it, the door."""
    rooms = episode.scene.rooms
    rings, perimeters, seen, openings, spans = [], [], [], [], []
    for k, room in enumerate(rooms):
        ring = np.asarray(room.footprint, float)
        if len(ring) > 1 and np.array_equal(ring[0], ring[-1]):
            ring = ring[:-1]
        rings.append(ring)
        perimeters.append(float(np.hypot(*(np.roll(ring, -1, axis=0) - ring).T).sum()))
        seen.append(np.zeros(max(1, int(math.ceil(perimeters[-1] / PERIMETER_BIN))), bool))
        spans.append(_doorway_spans(rooms, k, ring))
        openings.append(_doorway_bins(spans[-1], len(seen[-1]), perimeters[-1]))
    over = [np.zeros_like(s) for s in seen]  # bins whose wall above a doorway some frame shows
    counts = np.zeros((len(rooms), 3, instance.shape[0]), dtype=np.int64)  # room, (floor, wall, ceiling), frame
    s = STRUCTURE_STRIDE
    for f in range(instance.shape[0]):
        inst, z = instance[f, ::s, ::s], depth[f, ::s, ::s]
        vs, us = np.nonzero((inst == ROOM_ID) & _valid_depth(z))
        pts = backproject(episode, f, us * s, vs * s, z[vs, us])
        owner = np.zeros(len(pts), int) if len(rooms) == 1 else room_of(rooms, pts[:, :2], ROOM_REACH)
        for k, room in enumerate(rooms):
            mine = pts[owner == k]
            is_floor = mine[:, 2] < STRUCTURE_TOLERANCE
            is_ceiling = mine[:, 2] > room.height - STRUCTURE_TOLERANCE
            is_wall = ~(is_floor | is_ceiling)
            counts[k, :, f] = (int(is_floor.sum()) * s * s, int(is_wall.sum()) * s * s, int(is_ceiling.sum()) * s * s)
            n_bins = len(seen[k])
            wall_pts = mine[is_wall]
            if len(wall_pts):
                dist, at = _ring_locate(rings[k], wall_pts[:, :2])
                at = at[dist <= WALL_DISTANCE]
                seen[k][np.clip((at / PERIMETER_BIN).astype(int), 0, n_bins - 1)] = True
            if spans[k]:
                high = pts[(pts[:, 2] > min(low for _, _, low in spans[k]))]
                high = high[high[:, 2] < room.height - STRUCTURE_TOLERANCE]
                if len(high):
                    dist, at = _ring_locate(rings[k], high[:, :2])
                    for a, b, low in spans[k]:
                        hit = at[(dist <= LINTEL_REACH) & (at > a) & (at < b) & (high[:, 2] > low)]
                        over[k][np.clip((hit / PERIMETER_BIN).astype(int), 0, n_bins - 1)] = True
    for k in range(len(rooms)):
        seen[k] = np.where(openings[k], over[k], seen[k])  # in a doorway only the wall above it counts
    return [
        StructureEvidence(
            room=k,
            floor=counts[k, 0].tolist(),
            wall=counts[k, 1].tolist(),
            ceiling=counts[k, 2].tolist(),
            wall_coverage=round(float(seen[k][~openings[k]].mean()) if (~openings[k]).any() else 1.0, 4),
            wall_max_gap=round(_longest_false_run(seen[k]) * perimeters[k] / len(seen[k]), 3),
        )
        for k in range(len(rooms))
    ]


def _doorway_spans(rooms: list[Room], k: int, ring: np.ndarray) -> list[tuple[float, float, float]]:
    """Each doorway of room ``k`` as (start, end) metres along its perimeter from the first corner,
    and the height (metres) above which a room pixel over it shows what closes it: the wall over the
    opening, or where a closed door (hung on either side) shuts it, the door above 0.3 m."""
    room = rooms[k]
    lengths = np.hypot(*(np.roll(ring, -1, axis=0) - ring).T)
    start = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    out = []
    for d in room.doorways:
        a = float(start[d.wall] + d.center - d.width / 2)
        here = room.opening_centre(d)
        behind = rooms[d.to_room].doorways if 0 <= d.to_room < len(rooms) else []
        shut = d.door == "closed" or any(
            e.door == "closed" and e.to_room == k and math.dist(rooms[d.to_room].opening_centre(e), here) < d.width
            for e in behind
        )
        out.append((a, a + d.width, 0.3 if shut else d.height + LINTEL_CLEARANCE))
    return out


def _doorway_bins(spans: list[tuple[float, float, float]], n_bins: int, perimeter: float) -> np.ndarray:
    """Which 0.1 m bins of a room's perimeter (from its first corner) lie in a doorway's opening
    (``_doorway_spans``; bin centre inside it): wall coverage leaves them out."""
    centres = (np.arange(n_bins) + 0.5) * perimeter / n_bins
    out = np.zeros(n_bins, bool)
    for a, b, _ in spans:
        out |= (centres > a) & (centres < b)
    return out


def camera_rooms(episode: Episode) -> list[int]:
    """Per frame, the index in ``Scene.rooms`` of the room the camera stands in (-1: none; in a
    doorway, the nearer room), from the camera centres of ``world_to_camera``."""
    if not episode.scene.rooms:
        return []
    centres = []
    for frame in episode.frames:
        T = np.asarray(frame.camera.world_to_camera, float)
        centres.append(-T[:3, :3].T @ T[:3, 3])
    return room_of(episode.scene.rooms, np.asarray(centres)[:, :2], ROOM_REACH).tolist()


def _longest_false_run(seen: np.ndarray) -> int:
    """Longest cyclic run of False."""
    if seen.all():
        return 0
    if not seen.any():
        return len(seen)
    k = int(np.argmax(seen))  # start the cycle at a True
    rolled = np.roll(seen, -k)
    best = run = 0
    for x in rolled:
        run = 0 if x else run + 1
        best = max(best, run)
    return best


def measure_evidence(
    episode: Episode, depth: np.ndarray, instance: np.ndarray, meshes: MeshCache | None = None
) -> Evidence:
    """The evidence of one sample from its own passes: ``depth`` (F, H, W) metres, ``instance``
    (F, H, W) object ids, seen through the episode's cameras (lens distortion included, for a
    variant that has it); objects count as visible in a frame where ``episode.visibility`` says
    so (a degraded variant's recount). ``meshes``: where the objects' meshes may be kept already
    (a render worker's ``Renderer.meshes``). Raises ValueError if the passes do not match the frames."""
    depth, instance = np.asarray(depth, np.float32), np.asarray(instance)
    if instance.shape != depth.shape or instance.shape[0] != len(episode.frames):
        raise ValueError(f"passes of shape {instance.shape} / {depth.shape} do not match {len(episode.frames)} frames")
    pixels = _pixels_by_id(instance)
    with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="evidence") as pool:
        structures = pool.submit(_structures, episode, depth, instance)
        motions = pool.submit(_motion_evidence, episode, depth, instance)
        ids = [o.id for o in episode.scene.objects]
        objects = pool.map(lambda i: _object_evidence(episode, i, depth, instance, pixels, meshes), ids)
        return Evidence(
            objects=list(objects),
            motions=motions.result(),
            **structures.result(),
            camera_room=camera_rooms(episode),
        )


def _structures(episode: Episode, depth: np.ndarray, instance: np.ndarray) -> dict:
    """``structure`` for a one-room scene, ``rooms`` for several."""
    if not episode.scene.rooms:
        return {"structure": None}
    per_room = _structure(episode, depth, instance)
    if len(per_room) == 1:
        return {"structure": per_room[0]}
    return {"structure": None, "rooms": per_room}


def remeasured(episode: Episode, depth: np.ndarray, instance: np.ndarray, meshes: MeshCache | None = None) -> Episode:
    """The episode with its visibility counted on ``instance`` and its evidence measured on the
    passes: what a new render of an episode's frames (a minimal pair, a video with a view after
    it) needs before programs read it."""
    shown = visibility_table(instance, [o.id for o in episode.scene.objects])
    return with_evidence(episode.model_copy(update={"visibility": shown}), depth, instance, meshes)


def with_evidence(
    episode: Episode, depth: np.ndarray, instance: np.ndarray, meshes: MeshCache | None = None
) -> Episode:
    """The episode carrying the evidence measured from its passes (see :func:`measure_evidence`)."""
    return episode.model_copy(update={"evidence": measure_evidence(episode, depth, instance, meshes)})
