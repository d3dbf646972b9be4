"""The habitat-sim renderer: synth's frames rendered by habitat-sim in its own interpreter.

habitat-sim comes from conda and cannot share a Python with bpy, so ``HabitatRenderer`` starts
``synth/backends/habitat/worker.py`` with the interpreter ``settings.python`` or
``$SYNTH_HABITAT_PYTHON`` names and talks to it over ``synth.backends.habitat.protocol``. A scene
that did not come from a Habitat scene dataset is first written as one (``habitat_format``) in a
temporary folder. Frames go out as Habitat agent states (``habitat_format.camera_pose``) and
object poses; RGB, planar depth and instance ids (the SEMANTIC sensor: object configs'
``semantic_id`` = synth ids) come back. Without habitat-sim: ``BackendUnavailable`` naming the
conda install.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from synth.backends.habitat.format import camera_pose, rotation_to_habitat, to_habitat, write_scene
from synth.backends.habitat.protocol import CONDA_INSTALL, NOT_IMPORTABLE, ProtocolError, receive, send
from synth.backends.habitat.settings import HabitatSettings
from synth.core.camera import horizontal_fov, intrinsics
from synth.core.meshes import MeshCache
from synth.core.plugin import BackendUnavailable
from synth.core.render_types import FrameBuffers
from synth.core.scene import Frame, Scene, VideoSpec
from synth.core.visibility import visible_pixels

WORKER = Path(__file__).with_name("worker.py")
CONDA = f"habitat-sim comes from conda: {CONDA_INSTALL}"


class HabitatRenderer:
    name = "habitat"

    def __init__(self, settings: HabitatSettings, threads: int = 0):
        self.settings = settings
        self.meshes = MeshCache()
        python = settings.habitat_python or os.environ.get("SYNTH_HABITAT_PYTHON", "")
        if not python:
            raise BackendUnavailable(f"the habitat renderer needs an interpreter with habitat-sim. {CONDA}")
        self._proc = subprocess.Popen(
            [python, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
        )
        self._tmp: str | None = None
        hello = self._ask({"op": "hello"})
        self.engine = hello.get("engine", "?")

    def _ask(self, request: dict) -> dict:
        return self._call(request)[0]

    def _call(self, request: dict) -> tuple[dict, dict[str, np.ndarray]]:
        try:
            send(self._proc.stdin, request)
            header, arrays = receive(self._proc.stdout)
        except (ProtocolError, BrokenPipeError, OSError) as e:
            code = self._proc.poll()
            raise BackendUnavailable(f"the habitat worker stopped (exit {code}): {e}. {CONDA}") from None
        if not header.get("ok"):
            error = header.get("error", "unknown error")
            if NOT_IMPORTABLE in error:
                raise BackendUnavailable(error)
            raise RuntimeError(f"habitat worker: {error}")
        return header, arrays

    def intrinsics(self, video: VideoSpec) -> np.ndarray:
        return intrinsics(video.width, video.height, math.radians(self.settings.hfov_deg))

    def open(self, scene: Scene, video: VideoSpec) -> HabitatSession:
        dataset, handle = self._dataset_of(scene)
        self._ask(
            {
                "op": "open",
                "dataset": str(dataset),
                "scene": handle,
                "width": video.width,
                "height": video.height,
                "hfov_deg": self.settings.hfov_deg,
                "gpu_device_id": self.settings.gpu_device_id,
            }
        )
        return HabitatSession(self, scene, video)

    def describe(self) -> dict[str, str | int | float]:
        return self.settings.describe()

    def _dataset_of(self, scene: Scene) -> tuple[Path, str]:
        """The scene dataset and scene instance handle to load: the scene's own when it came from
        a Habitat scene dataset, else the scene written as one in a temporary folder."""
        if scene.simulator == "habitat" and ":" in scene.reference:
            config, handle = scene.reference.split(":", 1)
            return Path(scene.asset_root) / config, handle
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="synth-habitat-")
        name = f"scene_{scene.seed}"
        write_scene(scene, Path(self._tmp), name)
        return Path(self._tmp) / "synth.scene_dataset_config.json", f"scenes/{name}"

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(BackendUnavailable, RuntimeError):
                self._ask({"op": "close"})
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def frame_request(frame: Frame, video: VideoSpec) -> dict:
    """A synth frame as the protocol's Habitat agent state, field of view and object poses.
    habitat-sim's pinhole cameras are centred with square pixels: other intrinsics are refused."""
    K = np.asarray(frame.camera.K, dtype=float)
    hfov = math.degrees(horizontal_fov(K, video.width))
    if not np.allclose(K, intrinsics(video.width, video.height, math.radians(hfov)), atol=1e-6):
        raise ValueError(
            f"frame {frame.index}: habitat-sim renders centred square-pixel cameras only, not K={K.tolist()}"
        )
    position, rotation = camera_pose(frame.camera.world_to_camera)
    return {
        "agent_state": {"position": position, "rotation": rotation},
        "hfov_deg": hfov,
        "objects": [
            {
                "synth_id": p.id,
                "translation": to_habitat(p.position).tolist(),
                "rotation": rotation_to_habitat(p.rotation),
            }
            for p in frame.object_poses
        ],
    }


class HabitatSession:
    def __init__(self, renderer: HabitatRenderer, scene: Scene, video: VideoSpec):
        self.renderer, self.scene, self.video = renderer, scene, video

    def render(self, frames: list[Frame], on_frame: Callable[[], None] | None = None) -> FrameBuffers:
        parts = []
        for frame in frames:  # one request per frame: progress, and bounded pipe messages
            _, arrays = self.renderer._call({"op": "render", "frames": [frame_request(frame, self.video)]})
            parts.append(arrays)
            if on_frame:
                on_frame()
        return FrameBuffers(
            rgb=np.concatenate([a["rgb"] for a in parts]),
            depth=np.concatenate([a["depth"] for a in parts]).astype(np.float32),
            instance=np.concatenate([a["instance"] for a in parts]).astype(np.uint16),
        )

    def measure_visibility(self, frames: list[Frame]) -> dict[int, list[int]]:
        return visible_pixels(self.render(frames).instance, [o.id for o in self.scene.objects])

    def close(self) -> None:
        pass
