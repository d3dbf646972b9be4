"""The ``zbuffer`` renderer backend: synth's software z-buffer (``synth.core.zbuffer``) as a
renderer plugin, pure numpy/numba, no simulator to install.

Depth and instance ids are exact rasterisations of the same triangles Blender draws. RGB is a
flat sketch, not a photograph: each surface in its material colour (room floor, walls and
ceiling told apart by the height of the surface point; mesh assets in neutral grey), dimmed
with distance and outlined where the instance changes. It serves previews, tests and program
verification; shipped datasets come from a photographic backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from synth.backends.zbuffer.settings import ZBufferSettings
from synth.core.camera import intrinsics, pixels_to_camera, to_world
from synth.core.geometry import room_of
from synth.core.meshes import MeshCache
from synth.core.render_types import FrameBuffers, linear_to_srgb8
from synth.core.scene import ROOM_ID, Frame, Scene, VideoSpec
from synth.core.zbuffer import SceneMeshes, measure_visibility, render_passes

ASSET_GREY = (0.5, 0.5, 0.5)
BACKGROUND = (0.05, 0.05, 0.05)


class ZBufferRenderer:
    name = "zbuffer"

    def __init__(self, settings: ZBufferSettings | None = None, threads: int = 0):
        self.settings = settings or ZBufferSettings()
        self.meshes = MeshCache()

    def intrinsics(self, video: VideoSpec) -> np.ndarray:
        return intrinsics(video.width, video.height, math.radians(self.settings.hfov_deg))

    def open(self, scene: Scene, video: VideoSpec) -> ZBufferSession:
        return ZBufferSession(scene, video, self.meshes)

    def describe(self) -> dict[str, str | int | float]:
        return self.settings.describe()

    def close(self) -> None:
        pass


class ZBufferSession:
    def __init__(self, scene: Scene, video: VideoSpec, cache: MeshCache | None = None):
        self.scene, self.video = scene, video
        self.meshes = SceneMeshes(scene, cache)
        self.colors = np.tile(np.float32(BACKGROUND), (max((o.id for o in scene.objects), default=0) + 1, 1))
        for o in scene.objects:
            self.colors[o.id] = o.material.rgb if o.material is not None else ASSET_GREY

    def close(self) -> None:
        pass

    def measure_visibility(self, frames: list[Frame]) -> dict[int, list[int]]:
        return measure_visibility(self.scene, frames, self.video.width, self.video.height, self.meshes)

    def render(self, frames: list[Frame], on_frame: Callable[[], None] | None = None) -> FrameBuffers:
        w, h = self.video.width, self.video.height
        rgb = np.empty((len(frames), h, w, 3), np.uint8)
        depth = np.empty((len(frames), h, w), np.float32)
        instance = np.empty((len(frames), h, w), np.uint16)
        for i, frame in enumerate(frames):
            d, ids = render_passes(self.scene, [frame], w, h, self.meshes)
            depth[i], instance[i] = d[0], ids[0]
            rgb[i] = self._sketch(frame, depth[i], instance[i])
            if on_frame:
                on_frame()
        return FrameBuffers(rgb=rgb, depth=depth, instance=instance)

    def _sketch(self, frame: Frame, depth: np.ndarray, instance: np.ndarray) -> np.ndarray:
        color = self.colors[instance].copy()
        hit = np.isfinite(depth)
        room = hit & (instance == ROOM_ID)
        if room.any() and self.scene.rooms:
            pts = self._world_points(frame, depth, room)
            rooms = self.scene.rooms
            owner = np.zeros(len(pts), int) if len(rooms) == 1 else room_of(rooms, pts[:, :2], 0.15).clip(0)
            floor, wall, ceiling = (np.array([getattr(r, k).rgb for r in rooms]) for k in ("floor", "wall", "ceiling"))
            top = np.array([r.height for r in rooms])
            z = pts[:, 2]
            color[room] = np.where(
                (z < 0.02)[:, None],
                floor[owner],
                np.where((z > top[owner] - 0.02)[:, None], ceiling[owner], wall[owner]),
            )
        shade = np.where(hit, 1.0 / (1.0 + 0.08 * np.where(hit, depth, 0.0)), 1.0)
        edge = np.zeros_like(hit)
        edge[1:, :] |= instance[1:, :] != instance[:-1, :]
        edge[:, 1:] |= instance[:, 1:] != instance[:, :-1]
        shade = np.where(edge, shade * 0.6, shade)
        return linear_to_srgb8(color * shade[..., None])

    @staticmethod
    def _world_points(frame: Frame, depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """World points (N, 3) of the surface seen at the ``mask`` pixels."""
        v, u = np.nonzero(mask)
        cam = pixels_to_camera(frame.camera.K, np.stack([u, v], axis=1), depth[v, u])  # pinhole: no distortion
        return to_world(frame.camera.world_to_camera, cam)
