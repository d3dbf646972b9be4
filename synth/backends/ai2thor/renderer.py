"""The AI2-THOR renderer and scene reader, on the real ``ai2thor`` API (``ai2thor.controller.Controller``).

One ``Controller`` per render process. ``ThorRenderer.scene`` resets it to an iTHOR scene
(``FloorPlan1``) or a ProcTHOR house (a ``house.json``, e.g. one of ProcTHOR-10K) and reads the
scene from ``event.metadata["objects"]`` and ``GetReachablePositions`` (``thor_format``).
``open`` resets the scene again (every episode starts from THOR's own rest state) and
``RenderSession.render`` drives each frame: ``TeleportObject`` for every object whose pose
changed (the pose THOR reports back is compared with the planned one, never assumed),
``TeleportFull`` for the agent (camera position, heading, horizon, standing), then RGB from
``event.frame``, depth from ``event.depth_frame`` and ids from
``event.instance_segmentation_frame`` with its colour -> objectId table mapped to synth ids.
The metadata that comes with the frame's images is compared with the frame's plan for **every**
object, not only the teleported ones: THOR's physics can let an object synth never moved settle
or fall, and a frame is only kept when each object is within ``POSITION_TOLERANCE`` /
``ANGLE_TOLERANCE`` of its planned pose. ``K`` comes from the vertical field of view and the
image size.

Failures, each with one error: no ``ai2thor`` package or no Unity build (``BackendUnavailable``:
the build is downloaded at first use, which needs internet, and runs headless with
``platform=CloudRendering`` on a Vulkan GPU or with ``Linux64`` on an X server); an action THOR
refuses (``lastActionSuccess`` false), a pose it does not take or an object that drifted from
its planned pose (``ThorActionFailed``, a ``NoCameraPath``: the flow re-plans the episode with its
next attempt and logs why, ``synth.flows.episode.shoot_episode``).

synth's tests run everything on the Python side (the real ``Controller``, this module, the flow)
on machines without the build by giving a **stand-in** for the Unity side, not AI2-THOR, as
``local_executable_path`` (``tests/standins/thor_unity.py``): it speaks the same FIFO protocol.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from synth.backends.ai2thor.format import (
    as_dict,
    camera_pose,
    euler_matrix,
    from_synth,
    rotation_from_synth,
    rotation_to_synth,
    thor_intrinsics,
    thor_scene,
    to_synth,
    vec,
)
from synth.backends.ai2thor.settings import ThorSettings
from synth.core.camera import vertical_fov
from synth.core.meshes import MeshCache
from synth.core.plugin import BackendUnavailable
from synth.core.render_types import FrameBuffers
from synth.core.rotations import quaternion_angle
from synth.core.scene import Frame, ObjectPose, Scene, VideoSpec
from synth.core.visibility import visible_pixels
from synth.planning.planner import NoCameraPath, rest_poses

INSTALL = "pip install ai2thor==5.0.0"
BUILD_HELP = (
    "AI2-THOR downloads its Unity build at first use, which needs internet; run on a machine with internet and "
    "a Vulkan GPU (--platform CloudRendering, headless) or an X server (--platform Linux64), or give "
    "--local-executable-path to a build you have"
)
POSITION_TOLERANCE = 0.01  # metres between a planned and a reported pose
ANGLE_TOLERANCE = 0.5  # degrees


class ThorActionFailed(NoCameraPath):
    """THOR refused an action of the episode or put something elsewhere than planned."""


def read_house(path: str | Path) -> dict:
    """A ProcTHOR house (JSON); ``ValueError`` naming the file when it is not one."""
    try:
        house = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read the house {path}: {e}") from None
    if not isinstance(house, dict) or not isinstance(house.get("rooms"), list):
        raise ValueError(f"{path} is not a ProcTHOR house (no 'rooms' list)")
    return house


class ThorRenderer:
    name = "ai2thor"

    def __init__(self, settings: ThorSettings, threads: int = 0):
        try:
            import ai2thor.controller  # noqa: F401
        except ImportError as e:
            raise BackendUnavailable(f"the ai2thor renderer needs the ai2thor package ({INSTALL}): {e}") from None
        self.settings = settings
        self.meshes = MeshCache()
        self._controller = None
        # reference -> THOR's objects metadata, reachable positions and house at rest (``scene``)
        self._read: dict[str, tuple[list[dict], list[dict], dict | None]] = {}

    # ---------------------------------------------------------------- controller
    def _start(self, target, width: int, height: int, vfov: float):
        from ai2thor.controller import Controller
        from ai2thor.platform import CloudRendering, Linux64

        s = self.settings
        options: dict = dict(
            scene=target,
            width=width,
            height=height,
            fieldOfView=vfov,
            gridSize=s.grid_size,
            snapToGrid=False,
            renderDepthImage=True,
            renderInstanceSegmentation=True,
            platform={"CloudRendering": CloudRendering, "Linux64": Linux64}[s.platform],
        )
        if s.local_executable_path:
            options["local_executable_path"] = s.local_executable_path
        if s.commit_id:
            options["commit_id"] = s.commit_id
        if s.x_display:
            options["x_display"] = s.x_display
        try:
            self._controller = Controller(**options)
        except Exception as e:  # ai2thor raises ValueError / Exception / TimeoutError for a missing build
            raise BackendUnavailable(f"AI2-THOR could not start ({type(e).__name__}: {e}). {BUILD_HELP}") from None
        return self._controller.last_event

    def load(self, target, width: int = 300, height: int = 300, vfov_deg: float | None = None):
        """Reset THOR to ``target`` (an iTHOR scene name or a ProcTHOR house dict) at
        ``width`` x ``height`` with a vertical field of view (default: the settings') and
        return the event."""
        vfov = self.settings.vfov_deg if vfov_deg is None else vfov_deg
        if self._controller is None:
            return self._start(target, width, height, vfov)
        try:
            event = self._controller.reset(target, width=width, height=height, fieldOfView=vfov)
        except (ValueError, RuntimeError, TimeoutError) as e:
            raise ValueError(f"AI2-THOR cannot load {str(target)[:80]}: {e}") from None
        if not event.metadata["lastActionSuccess"]:
            raise ValueError(f"AI2-THOR cannot load {str(target)[:80]}: {event.metadata.get('errorMessage')}")
        return event

    def step(self, action: str, **args):
        """One THOR action; ``ThorActionFailed`` with THOR's message when it fails."""
        try:
            event = self._controller.step(action=action, **args)
        except ValueError as e:  # InvalidAction, MissingArguments, InvalidArgument
            raise ThorActionFailed(f"AI2-THOR refused {action}: {e}") from None
        if not event.metadata["lastActionSuccess"]:
            raise ThorActionFailed(f"AI2-THOR: {action} failed: {event.metadata.get('errorMessage') or 'no message'}")
        return event

    def far_plane(self) -> float:
        """THOR's camera far plane, metres (what ``Initialize`` returned; depth there is nothing)."""
        return float(self._controller.server.camera_far_plane)

    # ---------------------------------------------------------------- scene source
    def scene(self, seed: int, scene: str | None = None, house: str | None = None) -> Scene:
        """The synth scene of an iTHOR ``scene`` name or a ProcTHOR ``house`` file. THOR's rest
        state of a scene is read once per renderer (a reset and ``GetReachablePositions``) and
        kept: every episode of the run starts from it."""
        if bool(scene) == bool(house):
            raise ValueError("the ai2thor scene source needs --scene (an iTHOR scene, e.g. FloorPlan1) or --house")
        reference = str(Path(house).resolve()) if house else scene
        if reference not in self._read:
            house_data = read_house(house) if house else None
            event = self.load(house_data if house else scene)
            reachable = self.step("GetReachablePositions").metadata["actionReturn"] or []
            self._read[reference] = (event.metadata["objects"], reachable, house_data)
        objects, reachable, house_data = self._read[reference]
        return thor_scene(seed, reference, objects, reachable, self.settings.grid_size, house_data)

    def _target(self, reference: str) -> str | dict:
        """What THOR loads for a scene reference: a house file's house (as read by ``scene``), or
        the iTHOR scene name."""
        if not reference.endswith(".json"):
            return reference
        return self._read[reference][2] if reference in self._read else read_house(reference)

    # ---------------------------------------------------------------- renderer
    def intrinsics(self, video: VideoSpec) -> np.ndarray:
        return thor_intrinsics(video.width, video.height, self.settings.vfov_deg)

    def open(self, scene: Scene, video: VideoSpec) -> ThorSession:
        if scene.simulator == "ai2thor":
            target = self._target(scene.reference)
            by_thor_id = {o.source_id: o.id for o in scene.objects}
        else:
            raise ValueError(
                f"AI2-THOR renders its own scenes (iTHOR, ProcTHOR houses), not a {scene.simulator!r} scene"
            )
        event = self.load(target, video.width, video.height)
        return ThorSession(self, scene, video, event, target, by_thor_id)

    def describe(self) -> dict[str, str | int | float]:
        return self.settings.describe()

    def close(self) -> None:
        if self._controller is not None:
            with contextlib.suppress(Exception):
                self._controller.stop()
            self._controller = None


class ThorSession:
    def __init__(self, renderer: ThorRenderer, scene: Scene, video: VideoSpec, event, target, by_thor_id: dict):
        self.renderer, self.scene, self.video, self.target = renderer, scene, video, target
        self.by_thor_id = by_thor_id
        self.thor_id = {v: k for k, v in by_thor_id.items()}
        metas = {m["objectId"]: m for m in event.metadata["objects"]}
        missing = [k for k in by_thor_id if k not in metas]
        if missing:
            raise ValueError(f"AI2-THOR's scene lacks objects of the synth scene: {missing[:5]}")
        self.offset: dict[int, np.ndarray] = {}  # pivot -> box centre in THOR object-local coordinates
        for thor_id, i in by_thor_id.items():
            m, o = metas[thor_id], scene.object(by_thor_id[thor_id])
            R = euler_matrix(m["rotation"])
            self.offset[i] = R.T @ (from_synth(o.box.center) - vec(m["position"]))
        self.current = rest_poses(scene)
        agent = event.metadata["agent"]
        self.camera_height = float(event.metadata["cameraPosition"]["y"]) - float(agent["position"]["y"])
        self.vfov = renderer.settings.vfov_deg

    def _use_camera(self, frame: Frame) -> None:
        """THOR's field of view set to the frame's K (centred, square pixels; another field of
        view than the current one costs a reset of the scene, objects back at rest)."""
        W, H = self.video.width, self.video.height
        K = np.asarray(frame.camera.K, dtype=float)
        vfov = math.degrees(vertical_fov(K, H))
        if not np.allclose(K, thor_intrinsics(W, H, vfov), atol=1e-6):
            raise ValueError(
                f"frame {frame.index}: AI2-THOR's camera is centred with square pixels, not K={K.tolist()}"
            )
        if abs(vfov - self.vfov) > 1e-9:
            self.renderer.load(self.target, W, H, vfov)
            self.vfov, self.current = vfov, rest_poses(self.scene)  # a reset puts objects back at rest

    def _reported_pose(self, meta: dict, i: int) -> ObjectPose:
        centre = vec(meta["position"]) + euler_matrix(meta["rotation"]) @ self.offset[i]
        return ObjectPose(id=i, position=tuple(to_synth(centre)), rotation=rotation_to_synth(meta["rotation"]))

    def _off_plan(self, meta: dict, planned: ObjectPose) -> tuple[ObjectPose, float, float]:
        """THOR's reported pose of an object (its ``metadata["objects"]`` entry) and how far it is
        from ``planned``: metres between box centres, degrees between rotations."""
        got = self._reported_pose(meta, planned.id)
        off = float(np.linalg.norm(np.subtract(got.position, planned.position)))
        return got, off, math.degrees(quaternion_angle(got.rotation, planned.rotation))

    def _check_poses(self, event, frame: Frame) -> None:
        """Every object of the scene where ``frame`` plans it, as THOR reports it with the frame's
        images; ``ThorActionFailed`` naming the first object off by more than the tolerances (one
        synth teleported earlier, or never moved, that physics let settle, fall or be pushed) or
        one THOR no longer reports."""
        metas = {m["objectId"]: m for m in event.metadata["objects"]}
        for p in frame.object_poses:
            thor_id = self.thor_id[p.id]
            if thor_id not in metas:
                raise ThorActionFailed(f"AI2-THOR no longer reports {thor_id} (frame {frame.index})")
            _, off, turn = self._off_plan(metas[thor_id], p)
            if off > POSITION_TOLERANCE or turn > ANGLE_TOLERANCE:
                raise ThorActionFailed(
                    f"AI2-THOR reports {thor_id} drifted {off * 100:.1f} cm / {turn:.1f} deg from its planned pose "
                    f"(frame {frame.index})"
                )

    def _move_objects(self, frame: Frame) -> None:
        for p in frame.object_poses:
            now = self.current[p.id]
            if (
                np.allclose(now.position, p.position, atol=1e-6)
                and math.degrees(quaternion_angle(now.rotation, p.rotation)) < 1e-4
            ):
                continue
            rotation = rotation_from_synth(p.rotation)
            pivot = from_synth(p.position) - euler_matrix(rotation) @ self.offset[p.id]
            thor_id = self.thor_id[p.id]
            event = self.renderer.step(
                "TeleportObject",
                objectId=thor_id,
                position=as_dict(pivot),
                rotation=rotation,
                forceAction=True,
                forceKinematic=True,
                renderImage=False,
            )
            meta = next(m for m in event.metadata["objects"] if m["objectId"] == thor_id)
            got, off, turn = self._off_plan(meta, p)
            if off > POSITION_TOLERANCE or turn > ANGLE_TOLERANCE:
                raise ThorActionFailed(
                    f"AI2-THOR put {thor_id} {off * 100:.1f} cm / {turn:.1f} deg from its planned pose "
                    f"(frame {frame.index})"
                )
            self.current[p.id] = got

    def _frame(self, frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._use_camera(frame)
        self._move_objects(frame)
        position, yaw, horizon = camera_pose(frame.camera.world_to_camera)
        agent = position - np.array([0.0, self.camera_height, 0.0])
        event = self.renderer.step(
            "TeleportFull",
            position=as_dict(agent),
            rotation={"x": 0.0, "y": yaw, "z": 0.0},
            horizon=horizon,
            standing=True,
            forceAction=True,
        )
        md = event.metadata
        got = vec(md["cameraPosition"])
        dyaw = abs(math.remainder(float(md["agent"]["rotation"]["y"]) - yaw, 360.0))
        if (
            np.linalg.norm(got - position) > POSITION_TOLERANCE
            or dyaw > ANGLE_TOLERANCE
            or abs(float(md["agent"]["cameraHorizon"]) - horizon) > ANGLE_TOLERANCE
        ):
            raise ThorActionFailed(f"AI2-THOR's camera is not where frame {frame.index} put it")
        self._check_poses(event, frame)
        if event.frame is None or event.depth_frame is None or event.instance_segmentation_frame is None:
            raise RuntimeError("AI2-THOR returned no RGB, depth or instance frame (renderImage off?)")
        far = self.renderer.far_plane()
        depth = np.asarray(event.depth_frame, dtype=np.float32)
        depth = np.where(depth >= far * (1 - 1e-4), np.inf, depth).astype(np.float32)
        return np.array(event.frame[:, :, :3], dtype=np.uint8), depth, self._instance(event)

    def _instance(self, event) -> np.ndarray:
        """Synth ids of THOR's instance colours (0 for the room and anything not in the scene)."""
        seg = np.asarray(event.instance_segmentation_frame[:, :, :3], dtype=np.uint32)
        keys = (seg[..., 0] << 16) | (seg[..., 1] << 8) | seg[..., 2]
        table = {
            (int(c[0]) << 16) | (int(c[1]) << 8) | int(c[2]): self.by_thor_id.get(name, 0)
            for c, name in event.color_to_object_id.items()
        }
        unique, inverse = np.unique(keys, return_inverse=True)
        values = np.array([table.get(int(k), 0) for k in unique], dtype=np.uint16)
        return values[inverse].reshape(keys.shape)

    def render(self, frames: list[Frame], on_frame: Callable[[], None] | None = None) -> FrameBuffers:
        rgb, depth, inst = [], [], []
        for frame in frames:
            r, d, i = self._frame(frame)
            rgb.append(r)
            depth.append(d)
            inst.append(i)
            if on_frame:
                on_frame()
        return FrameBuffers(rgb=np.stack(rgb), depth=np.stack(depth), instance=np.stack(inst))

    def measure_visibility(self, frames: list[Frame]) -> dict[int, list[int]]:
        return visible_pixels(self.render(frames).instance, [o.id for o in self.scene.objects])

    def close(self) -> None:
        pass
