"""A STAND-IN engine for synth's habitat-sim worker, not habitat-sim: the worker's own protocol
code (``synth/backends/habitat/worker.py``, ``protocol.py``), rendering the scene dataset it is
sent through synth's Habitat scene source and Blender backend. It exists because habitat-sim
cannot be installed on the machines synth's tests run on; it proves the protocol and the pose
conventions, not habitat-sim.

Tests give the launcher ``habitat-python`` next to this file as the worker's interpreter
(``tests.standins.HABITAT_STANDIN``: ``habitat_python``, the setting users have for their conda
interpreter). synth runs ``<interpreter> worker.py``; the launcher runs this file with synth's
interpreter and the worker script's path, and this runs that script's ``main`` with
``BlenderStandInEngine`` instead of habitat-sim's engine.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np


class BlenderStandInEngine:
    """STAND-IN for habitat-sim (module docstring): synth's Habitat scene source + Blender backend."""

    name = "blender (stand-in for habitat-sim)"

    def __init__(self):
        from synth.backends.registry import open_renderer, renderer_settings

        self.renderer = open_renderer(renderer_settings("blender", quality="draft"))
        self.session = None

    def open(self, req: dict) -> None:
        from synth.backends.habitat.source import read_scene
        from synth.core.scene import VideoSpec

        self.close()
        self.video = VideoSpec(frames=2, width=int(req["width"]), height=int(req["height"]))
        self.hfov_deg = float(req["hfov_deg"])
        self.session = self.renderer.open(read_scene(req["dataset"], req["scene"]), self.video)

    def render(self, frames: list[dict]) -> dict[str, np.ndarray]:
        from synth.backends.habitat.format import from_habitat, rotation_from_habitat, world_to_camera
        from synth.core.camera import intrinsics
        from synth.core.scene import CameraFrame, Frame, ObjectPose

        def K(f: dict) -> tuple:
            hfov = math.radians(float(f.get("hfov_deg", self.hfov_deg)))
            return tuple(map(tuple, intrinsics(self.video.width, self.video.height, hfov)))

        synth_frames = [
            Frame(
                index=k,
                time=0.0,
                camera=CameraFrame(
                    K=K(f),
                    world_to_camera=tuple(map(tuple, world_to_camera(**f["agent_state"]))),
                ),
                object_poses=[
                    ObjectPose(
                        id=int(p["synth_id"]),
                        position=tuple(from_habitat(p["translation"])),
                        rotation=rotation_from_habitat(p["rotation"]),
                    )
                    for p in f.get("objects", [])
                ],
            )
            for k, f in enumerate(frames)
        ]
        buffers = self.session.render(synth_frames)
        return {"rgb": buffers.rgb, "depth": buffers.depth, "instance": buffers.instance}

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


def main() -> None:
    """``habitat_blender.py WORKER [ARGS]``: run the worker script ``WORKER`` (as synth started
    it) with the stand-in engine."""
    worker_path = Path(sys.argv[1]).resolve()
    sys.path.insert(0, str(worker_path.parent))  # the worker imports its sibling protocol module
    spec = importlib.util.spec_from_file_location("habitat_worker", worker_path)
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    sys.argv = [str(worker_path), *sys.argv[2:]]
    worker.main(BlenderStandInEngine)


if __name__ == "__main__":
    main()
