"""Independent ground truth for render tests: exact ray casting against the scene meshes."""

from __future__ import annotations

import numpy as np

from synth.core.meshes import object_mesh, room_meshes
from synth.core.scene import ROOM_ID, Frame, Scene


def scene_triangles(scene: Scene, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """All triangles (T, 3, 3) of the scene at ``frame`` and the instance id of each."""
    tris, ids = [], []
    for mesh in (m for room in scene.rooms for m in room_meshes(room).values()):  # doors included
        tris.append(mesh.triangles())
        ids.append(np.full(len(mesh.faces), ROOM_ID))
    for pose in frame.object_poses:
        mesh = object_mesh(scene.object(pose.id), pose)
        tris.append(mesh.triangles())
        ids.append(np.full(len(mesh.faces), pose.id))
    return np.concatenate(tris), np.concatenate(ids)


def first_hits(origin: np.ndarray, dirs: np.ndarray, tris: np.ndarray, ids: np.ndarray):
    """Möller–Trumbore: distance along each ray (R,) and id of the first triangle hit."""
    v0, e1, e2 = tris[:, 0], tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
    best_t = np.full(len(dirs), np.inf)
    best_id = np.full(len(dirs), -1)
    for start in range(0, len(dirs), 64):
        d = dirs[start : start + 64][:, None, :]  # (r, 1, 3)
        p = np.cross(d, e2[None])  # (r, T, 3)
        det = np.einsum("tk,rtk->rt", e1, p)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        s = origin - v0  # (T, 3)
        u = np.einsum("tk,rtk->rt", s, p) * inv
        q = np.cross(s, e1)  # (T, 3)
        v = np.einsum("rk,tk->rt", d[:, 0], q) * inv
        t = np.einsum("tk,tk->t", e2, q)[None] * inv
        hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-6)
        t = np.where(hit, t, np.inf)
        k = np.argmin(t, axis=1)
        best_t[start : start + 64] = t[np.arange(len(k)), k]
        best_id[start : start + 64] = np.where(np.isfinite(best_t[start : start + 64]), ids[k], -1)
    return best_t, best_id
