"""Independent oracles for every library family, written with numpy straight from the
episode model (not through the scene API or the library programs). Each returns what the
family's program must return for the same slots: the answer, or None when not applicable."""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon

from sim_adapters.scene import Episode


class View:
    def __init__(self, ep: Episode, min_px: int, min_frames: int):
        self.ep, self.min_px, self.min_frames = ep, min_px, min_frames
        self.vis = {v.id: np.asarray(v.pixels) for v in ep.visibility}
        self.n = len(ep.frames)
        self.pos = {
            p.id: np.array([[q.position for q in f.object_poses if q.id == p.id][0] for f in ep.frames])
            for p in ep.frames[0].object_poses
        }
        self.yaw = {
            p.id: np.array([[q.yaw for q in f.object_poses if q.id == p.id][0] for f in ep.frames])
            for p in ep.frames[0].object_poses
        }
        self.obj = {o.id: o for o in ep.scene.objects}

    def visible(self, i, f):
        return self.vis[i][f] >= self.min_px

    def seen(self, i):
        return int((self.vis[i] >= self.min_px).sum()) >= self.min_frames

    def cam(self, f):
        T = np.asarray(self.ep.frames[f].camera.world_to_camera)
        R, t = T[:3, :3], T[:3, 3]
        c = -R.T @ t
        return c, R, t, np.arctan2(R[2, 1], R[2, 0])

    def to_cam(self, i, f):
        _, R, t, _ = self.cam(f)
        return R @ self.pos[i][f] + t

    def u(self, i, f):
        x = self.to_cam(i, f)
        K = np.asarray(self.ep.frames[f].camera.K)
        return K[0, 0] * x[0] / x[2] + K[0, 2]

    def top(self, i):
        return self.pos[i][0, 2] + self.obj[i].box.size[2] / 2

    def bottom(self, i):
        return self.pos[i][0, 2] - self.obj[i].box.size[2] / 2


def wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


def side_of(vec_forward, vec_target):
    ang = np.degrees(np.arctan2(np.cross(vec_forward, vec_target), np.dot(vec_forward, vec_target)))
    return ang


def oracle(family: str, ep: Episode, slots: dict, min_px: int, min_frames: int):
    v = View(ep, min_px, min_frames)
    a, b, c = slots.get("a"), slots.get("b"), slots.get("c")
    last = v.n - 1
    if family == "metric_distance":
        return round(float(np.linalg.norm(v.pos[a][0] - v.pos[b][0])), 2)
    if family == "object_height":
        return round(v.obj[a].box.size[2], 2)
    if family == "object_longest_side":
        return round(float(np.max(v.obj[a].box.size)) * 100)
    if family == "room_floor_area":
        return round(Polygon(ep.scene.room.footprint).area, 1)
    if family == "room_ceiling_height":
        return round(ep.scene.room.height, 2)
    if family == "object_count":
        ids = [o.id for o in ep.scene.objects if o.category == slots["category"]]
        if any(v.vis[i].max() > 0 and not v.seen(i) for i in ids):
            return None
        return sum(v.seen(i) for i in ids)
    if family in ("relative_direction_lr", "where_when_appeared"):
        f = (
            slots["frame"]
            if family == "relative_direction_lr"
            else next((k for k in range(v.n) if v.visible(b, k)), -1)
        )
        if f < 0 or not (v.visible(a, f) and v.visible(b, f)):
            return None
        du = v.u(a, f) - v.u(b, f)
        return None if abs(du) < 0.08 * ep.width else ("left" if du < 0 else "right")
    if family == "relative_vertical":
        if v.bottom(a) > v.top(b) + 0.05:
            return "above"
        return "below" if v.top(a) < v.bottom(b) - 0.05 else None
    if family == "relative_depth":
        f = slots["frame"]
        if not (v.visible(a, f) and v.visible(b, f)):
            return None
        za, zb = v.to_cam(a, f)[2], v.to_cam(b, f)[2]
        return None if abs(za - zb) < 0.15 * min(za, zb) else (a if za < zb else b)
    if family == "closest_object":
        others = [i for i in v.obj if i != a]
        d = np.array([np.linalg.norm(v.pos[i][0] - v.pos[a][0]) for i in others])
        order = np.argsort(d, kind="stable")
        if len(d) < 2 or d[order[1]] < d[order[0]] * 1.15 or not v.seen(others[order[0]]):
            return None
        return others[order[0]]
    if family == "taller_than":
        diff = v.top(a) - v.top(b)
        return None if abs(diff) < 0.1 else ("yes" if diff > 0 else "no")
    if family == "support":
        return v.obj[a].supported_by
    if family == "first_appearance":
        firsts = {i: next((k for k in range(v.n) if v.visible(i, k)), -1) for i in (a, b, c)}
        ranked = sorted(firsts.values())
        if ranked[0] < 0 or ranked[0] == ranked[1]:
            return None
        return min(firsts, key=firsts.get)
    if family == "which_object_moved":
        moved = [
            i
            for i in v.obj
            if np.linalg.norm(v.pos[i][last] - v.pos[i][0]) > 0.05 or abs(wrap(v.yaw[i][last] - v.yaw[i][0])) > 0.1
        ]
        return moved[0] if len(moved) == 1 and v.seen(moved[0]) else None
    cam0, _, _, h0 = v.cam(0)
    camL, _, _, hL = v.cam(last)
    if family in ("camera_turn_direction", "camera_rotation_angle"):
        turn = wrap(hL - h0)
        if abs(np.degrees(turn)) < 10:
            return None
        return (
            ("left" if turn > 0 else "right")
            if family == "camera_turn_direction"
            else round(abs(float(np.degrees(turn))))
        )
    if family == "camera_translation":
        d = float(np.linalg.norm(camL - cam0))
        return None if d < 0.2 else round(d, 2)
    rot0 = np.array([[np.cos(h0), np.sin(h0)], [-np.sin(h0), np.cos(h0)]])  # world xy -> (ahead, left)
    if family == "ego_movement":
        ahead, left = rot0 @ (camL - cam0)[:2]
        big, small = max(abs(ahead), abs(left)), min(abs(ahead), abs(left))
        if big < 0.3 or small > 0.5 * big:
            return None
        if abs(ahead) >= abs(left):
            return "forward" if ahead > 0 else "backward"
        return "left" if left > 0 else "right"
    if family == "object_movement":
        d = (v.pos[a][last] - v.pos[a][0])[:2]
        if np.linalg.norm(d) < 0.15:
            return None
        away, left = rot0 @ d
        if min(abs(away), abs(left)) > 0.5 * max(abs(away), abs(left)):
            return None
        if abs(away) >= abs(left):
            return "away from the camera" if away > 0 else "toward the camera"
        return "to the left" if left > 0 else "to the right"
    if family == "allocentric_side":
        f2, t2 = (v.pos[b][0] - v.pos[a][0])[:2], (v.pos[c][0] - v.pos[a][0])[:2]
        if np.linalg.norm(f2) < 0.5 or np.linalg.norm(t2) < 0.5:
            return None
        ang = side_of(f2, t2)
        return None if abs(ang) < 15 or abs(ang) > 165 else ("left" if ang > 0 else "right")
    target = (v.pos[a][last] - camL)[:2]
    heading = np.array([np.cos(hL), np.sin(hL)])
    if family == "goal_aiming":
        ang = side_of(heading, target)
        if abs(ang) < 10:
            return "straight ahead"
        return None if abs(ang) < 20 or abs(ang) > 170 else ("turn left" if ang > 0 else "turn right")
    if family == "action_distance":
        step = heading * (1.0 if slots["move"] == "forward" else -1.0)
        before, after = np.linalg.norm(target), np.linalg.norm(target - step)
        return None if abs(after - before) < 0.15 else ("closer" if after < before else "farther")
    if family == "action_side":
        q = np.pi / 2 if slots["turn"] == "left" else -np.pi / 2
        new = np.array([np.cos(hL + q), np.sin(hL + q)])
        ang = side_of(new, target)
        return None if abs(ang) < 15 or abs(ang) > 165 else ("left" if ang > 0 else "right")
    raise KeyError(f"no oracle for family {family}")
