"""The auditor's lens on one sample: :class:`View` reads an episode's instance masks, depth and
cameras, with the auditor's own pinhole and Brown-Conrady lens model (written apart from the
programs' camera code on purpose), and turns masked pixels into world surface points."""

from __future__ import annotations

import math

import numpy as np

from synth.core.scene import ROOM_ID, Episode

ROBUST = (0.5, 99.5)  # percentiles of surface points taken as their extent (mixed pixels at mask edges)
VOXEL = 0.02  # metres: surface point clouds are thinned to one point per voxel
PLAIN_PIXELS = 1.5  # x the visible-pixel threshold: clearly above it, not at its edge


def _lens(k, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brown-Conrady (OpenCV order k1, k2, p1, p2, k3) distortion of normalised coordinates."""
    if k is None:
        return x, y
    k1, k2, p1, p2, k3 = k
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    return x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y


def _pinhole(k, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_lens` (Newton-free fixed point, as OpenCV's undistortPoints)."""
    if k is None:
        return xd, yd
    x, y = xd.copy(), yd.copy()
    for _ in range(40):
        dx, dy = _lens(k, x, y)
        x, y = x + (xd - dx), y + (yd - dy)
    return x, y


class View:
    """One sample's passes, read the auditor's way."""

    def __init__(
        self,
        episode: Episode,
        depth: np.ndarray,
        instance: np.ndarray,
        min_px: int,
        min_frames: int,
        shown: np.ndarray | None = None,
        strict: bool = False,
    ):
        self.ep, self.depth, self.inst = episode, depth, instance
        self.min_px, self.min_frames = min_px, min_frames
        self.shown, self.strict = shown, strict
        self.n, self.h, self.w = instance.shape
        ids = [o.id for o in episode.scene.objects]
        size = max(ids, default=0) + 1
        counts = np.stack([np.bincount(f.ravel(), minlength=size)[:size] for f in instance])
        if shown is not None:  # degraded: only where the delivered frame shows the object
            full = np.ones((self.n, size))
            full[:, : min(size, shown.shape[1])] = shown[:, :size]
            # strict: only where it plainly shows; else wherever it can be made out at all
            counts = counts * (full >= (1.0 if strict else 0.5))
        if strict:  # plainly seen: clearly above the pixel threshold too
            counts = np.where(counts >= PLAIN_PIXELS * min_px, counts, 0)
        self.px = counts
        self.by_description = {o.description: o.id for o in episode.scene.objects}
        self.category = {o.id: o.category for o in episode.scene.objects}
        self._cache: dict = {}

    def prefix(self, query_frame: int) -> View:
        """The sample as its frames 0..``query_frame`` show it (a streaming item's video): the
        same reading of the passes cut there; ValueError for a frame outside the video."""
        if not 0 <= query_frame < self.n:
            raise ValueError(f"query frame {query_frame} is outside the video's {self.n} frames")
        key = ("prefix", query_frame)
        if key not in self._cache:
            k = query_frame + 1
            shown = None if self.shown is None else self.shown[:k]
            self._cache[key] = View(
                self.ep, self.depth[:k], self.inst[:k], self.min_px, self.min_frames, shown, self.strict
            )
        return self._cache[key]

    # -- masks ---------------------------------------------------------------------------
    def visible(self, o: int, f: int) -> bool:
        return self.px[f, o] >= self.min_px

    def seen(self, o: int) -> bool:
        return int((self.px[:, o] >= self.min_px).sum()) >= self.min_frames

    def first(self, o: int, threshold: int) -> int:
        hits = np.nonzero(self.px[:, o] >= threshold)[0]
        return int(hits[0]) if len(hits) else -1

    def centroid_u(self, o: int, f: int) -> float:
        return float(np.nonzero(self.inst[f] == o)[1].mean())

    def cut(self, o: int, f: int) -> str:
        m = self.inst[f] == o
        return "".join(
            s for s, hit in zip("lr", (m[:, 0].any(), m[:, -1].any())) if hit
        )  # left/right borders only: what can reverse a left/right order

    def median_depth(self, o: int, f: int) -> float:
        z = self.depth[f][self.inst[f] == o]
        z = z[np.isfinite(z)]
        return float(np.median(z)) if len(z) else math.inf

    # -- cameras and points ----------------------------------------------------------------
    def camera(self, f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cam = self.ep.frames[f].camera
        T = np.asarray(cam.world_to_camera, float)
        return np.asarray(cam.K, float), T[:3, :3], T[:3, 3]

    def position(self, f: int) -> np.ndarray:
        _, R, t = self.camera(f)
        return -R.T @ t

    def heading(self, f: int) -> float:
        _, R, _ = self.camera(f)
        return math.atan2(R[2, 1], R[2, 0])

    def world(self, f: int, mask: np.ndarray) -> np.ndarray:
        vs, us = np.nonzero(mask & np.isfinite(self.depth[f]))
        z = self.depth[f][vs, us].astype(float)
        K, R, t = self.camera(f)
        x, y = _pinhole(self.ep.frames[f].camera.distortion, (us - K[0, 2]) / K[0, 0], (vs - K[1, 2]) / K[1, 1])
        cam = np.stack([x * z, y * z, z], 1)
        return (cam - t) @ R

    def pixels(self, f: int, cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel (u, v) of camera-space points in frame ``f`` (through its lens distortion, if any)."""
        K, _, _ = self.camera(f)
        x, y = _lens(self.ep.frames[f].camera.distortion, cam[:, 0] / cam[:, 2], cam[:, 1] / cam[:, 2])
        return K[0, 0] * x + K[0, 2], K[1, 1] * y + K[1, 2]

    def _at_rest(self, o: int, f: int) -> list[int]:
        """Frames in which the object is where it is at frame ``f`` (poses read only for this)."""
        ref = self.ep.pose(o, f)
        return [
            g
            for g in range(self.n)
            if math.dist(self.ep.pose(o, g).position, ref.position) < 1e-4
            and abs(self.ep.pose(o, g).yaw - ref.yaw) < 1e-4
        ]

    def points(self, o: int, f: int = 0, thin: bool = True) -> np.ndarray:
        """World surface points of the object, from every frame that shows it where it is at ``f``
        (``thin``: one point per 2 cm voxel)."""
        key = ("pts", o, tuple(self._at_rest(o, f)), thin)
        if key not in self._cache:
            frames = [g for g in key[2] if self.px[g, o] > 0]
            pts = [self.world(g, self.inst[g] == o) for g in frames]
            pts = np.concatenate(pts) if pts else np.zeros((0, 3))
            if len(pts) and thin:
                _, keep = np.unique(np.floor(pts / VOXEL).astype(np.int64), axis=0, return_index=True)
                pts = pts[np.sort(keep)]
            self._cache[key] = pts
        return self._cache[key]

    def body_points(self, o: int) -> np.ndarray:
        """The object's surface points from every frame, each frame's brought into the object's
        own frame by its pose then (so a moved object's views add up; for sizes only)."""
        out = []
        for g in range(self.n):
            if self.px[g, o] > 0:
                pose = self.ep.pose(o, g)
                c, s = math.cos(pose.yaw), math.sin(pose.yaw)
                d = self.world(g, self.inst[g] == o) - np.asarray(pose.position)
                out.append(np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], 1))
        return np.concatenate(out) if out else np.zeros((0, 3))

    def bounds(self, o: int, f: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
        pts = self.points(o, f, thin=False)
        if len(pts) < 10:
            return None
        lo, hi = np.percentile(pts, ROBUST, axis=0)
        return lo, hi

    def centre(self, o: int, f: int = 0) -> np.ndarray | None:
        b = self.bounds(o, f)
        return None if b is None else (b[0] + b[1]) / 2

    def labelled_points(self, stride: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """Every surface point the video shows (every ``stride``-th pixel each way, all frames;
        one per 5 cm voxel and instance), world frame (N, 3), and its instance id (N,; 0: room)."""
        if "labelled" not in self._cache:
            pts, ids = [np.zeros((0, 3))], [np.zeros(0, int)]
            for f in range(self.n):
                m = np.zeros((self.h, self.w), bool)
                m[::stride, ::stride] = True
                m &= np.isfinite(self.depth[f])
                pts.append(self.world(f, m))
                ids.append(self.inst[f][m].astype(int))
            p, i = np.concatenate(pts), np.concatenate(ids)
            key = np.concatenate([np.floor(p / 0.05).astype(np.int64), i[:, None]], 1)
            _, keep = np.unique(key, axis=0, return_index=True)
            self._cache["labelled"] = (p[np.sort(keep)], i[np.sort(keep)])
        return self._cache["labelled"]

    def room_points(self, stride: int = 2) -> list[np.ndarray]:
        if "room" not in self._cache:
            out = []
            for f in range(self.n):
                m = np.zeros((self.h, self.w), bool)
                m[::stride, ::stride] = True
                out.append(self.world(f, m & (self.inst[f] == ROOM_ID)))
            self._cache["room"] = out
        return self._cache["room"]
