"""A STAND-IN for AI2-THOR's Unity side, not AI2-THOR. It exists because the Unity build cannot
be downloaded or run on the machines synth's tests run on (../shared/notes/simulators.md).

It is started by the real ``ai2thor.controller.Controller`` as its "executable": tests give the
launcher ``thor-unity`` next to this file as ai2thor's ``local_executable_path``
(``tests.standins.THOR_STANDIN``), the setting users have for a build on disk. It speaks the
protocol of ``ai2thor.fifo_server``: messages of ``(field type, length)`` headers (``!BI``) and
bodies ending with an end-of-message header; actions come in as JSON on the client pipe,
metadata goes out as msgpack on the server pipe with the images after it (rows bottom-up, as
Unity writes them): RGB (3 bytes per pixel), depth (float32 metres, ``depthFormat: Meters``),
instance colours (3 bytes per pixel, named in ``metadata["colors"]``).

What it answers, from fixture data (``$SYNTH_THOR_STANDIN_FIXTURES``, default
``tests/data/thor``): ``Reset`` to ``<name>_physics`` loads ``<name>.json`` (a house in
ProcTHOR's format, standing in for an iTHOR scene), ``Reset`` to ``Procedural`` then
``CreateHouse`` loads the given house; objects' ``assetId``s come from ``assets.json`` (object
type, size, colour, flags), their ``position`` is the asset's pivot at the bottom centre of its
box, ``children`` stand on their parent. A house may instead carry ``synthScene`` (a synth scene
as JSON, a stand-in-only extension for the renderer conformance suite: ``thor_synth_scenes.py``).
Actions: ``Initialize``, ``GetScenesInBuild``, ``ChangeResolution``, ``ChangeQuality``,
``TeleportFull``, ``TeleportObject``, ``PlaceObjectAtPoint``, ``GetReachablePositions``; anything
else fails with ``errorCode: InvalidAction``. Frames are rendered by synth's Blender backend
(draft quality) from the same objects, with THOR's camera model (``thor_format``). Unlike Unity
it has no physics: objects stay where they are put, unless told otherwise:

``$SYNTH_THOR_STANDIN_DROP=<objectId>@<n>`` (tests only) stands in for physics letting an object
settle: at the ``n``-th ``TeleportFull`` of the process (1-based) the object ``objectId`` drops
``DROP`` (5 cm) lower, and is reported and rendered there until the next ``Reset`` /
``CreateHouse`` loads the scene again. It happens once per process.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
import traceback
from pathlib import Path

import msgpack
import numpy as np
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

from synth.backends.ai2thor.format import (
    as_dict,
    category_words,
    euler_matrix,
    from_synth,
    house_rooms,
    rotation_from_synth,
    rotation_to_synth,
    thor_intrinsics,
    to_synth,
    vec,
    world_to_camera,
)
from synth.core.geometry import footprint
from synth.core.scene import (
    Box3D,
    CameraFrame,
    Frame,
    Material,
    ObjectPose,
    Part,
    Scene,
    SceneObject,
    VideoSpec,
)

HEADER = struct.Struct("!BI")
METADATA, ACTION, RGB_IMAGE, DEPTH_IMAGE, IDS_IMAGE, END = 1, 2, 4, 5, 9, 255
CAMERA_OFFSET = 0.675  # metres from the agent's position to its camera, standing (THOR's default agent)
AGENT_Y = 0.9009997  # the agent's position height above the floor in THOR's scenes
AGENT_RADIUS = 0.2
HORIZON_RANGE = (-30.0, 60.0)  # degrees THOR's default agent can look up / down
NEAR, FAR = 0.1, 20.0
ROOM_COLOR = [0, 0, 0]
FLOOR_ID = "Floor|+00.00|+00.00|+00.00"
DROP = 0.05  # metres an object falls with $SYNTH_THOR_STANDIN_DROP
FIXTURES = Path(os.environ.get("SYNTH_THOR_STANDIN_FIXTURES", Path(__file__).parents[1] / "data" / "thor"))


def color_of(k: int) -> list[int]:
    """A distinct instance colour per object number ``k`` >= 1 (never the room's black)."""
    return [(k * 73) % 256, 17 + k // 256, 91]


class StandinObject:
    """One object of the stand-in's world: its THOR identity, its pose (pivot and Euler
    rotation, THOR coordinates) and its synth geometry (for Blender)."""

    def __init__(self, object_id: str, object_type: str, obj: SceneObject, offset, position, rotation, flags: dict):
        self.object_id, self.object_type, self.obj = object_id, object_type, obj
        self.offset = np.asarray(offset, dtype=float)  # pivot -> box centre, THOR object-local
        self.position, self.rotation = np.asarray(position, dtype=float), dict(rotation)
        self.flags = flags
        self.parent = FLOOR_ID

    def pose(self) -> ObjectPose:
        centre = self.position + euler_matrix(self.rotation) @ self.offset
        return ObjectPose(id=self.obj.id, position=tuple(to_synth(centre)), rotation=rotation_to_synth(self.rotation))

    def box(self) -> Box3D:
        return self.obj.box.at(self.pose())

    def metadata(self) -> dict:
        corners = from_synth(np.asarray(self.box().corners()))
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        aabb = [[float(v) for v in (x, y, z)] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        pickupable = bool(self.flags.get("pickupable"))
        return {
            "name": self.object_id.split("|")[0],
            "objectId": self.object_id,
            "objectType": self.object_type,
            "position": as_dict(self.position),
            "rotation": dict(self.rotation),
            "axisAlignedBoundingBox": {
                "cornerPoints": aabb,
                "center": as_dict((lo + hi) / 2),
                "size": as_dict(hi - lo),
            },
            # like THOR: oriented boxes for pickupable objects only
            "objectOrientedBoundingBox": {"cornerPoints": corners.tolist()} if pickupable else None,
            "parentReceptacles": [self.parent],
            "pickupable": pickupable,
            "moveable": bool(self.flags.get("moveable")),
            "receptacle": bool(self.flags.get("receptacle")),
            "salientMaterials": self.flags.get("salientMaterials"),
            "visible": False,
            "isMoving": False,
        }


class World:
    """The stand-in's scene: rooms, objects, the agent and what Initialize set."""

    def __init__(self):
        self.name = ""
        self.rooms = []
        self.navigable: list = []
        self.asset_root = ""
        self.objects: list[StandinObject] = []
        self.agent_position = np.array([0.0, AGENT_Y, 0.0])
        self.yaw, self.horizon = 0.0, 0.0
        self.grid_size, self.fov = 0.25, 90.0
        self.width, self.height = 300, 300
        self.depth, self.ids = False, False
        self._session = None
        self._renderer = None

    # ---------------------------------------------------------------- loading
    def load_house(self, house: dict, name: str) -> None:
        self.close_session()
        self.name = name
        self.rooms = house_rooms(house)
        self.navigable: list = []
        self.asset_root = ""
        self.objects = []
        if "synthScene" in house:
            scene = Scene.model_validate(house["synthScene"])
            self.rooms, self.asset_root = scene.rooms, scene.asset_root
            self.navigable = scene.navigable  # a house's floor goes on through its doorways
            for o in scene.objects:
                flags = {"moveable": o.movable, "pickupable": False}
                so = StandinObject(
                    f"synth|{o.id}",
                    "".join(w.title() for w in o.category.split()),
                    o,
                    (0.0, 0.0, 0.0),
                    from_synth(o.box.center),
                    rotation_from_synth(o.box.rotation),
                    flags,
                )
                self.objects.append(so)
            by_id = {so.obj.id: so for so in self.objects}
            for so in self.objects:
                if so.obj.supported_by in by_id:
                    so.parent = by_id[so.obj.supported_by].object_id
            return
        assets = json.loads((FIXTURES / "assets.json").read_text())

        def add(entry: dict, parent: str) -> None:
            asset = assets[entry["assetId"]]
            w, h, d = asset["size"]  # THOR-local x (width), y (height), z (depth)
            k = len(self.objects) + 1
            rgb = tuple(asset.get("color", (0.5, 0.5, 0.5)))
            obj = SceneObject(
                id=k,
                category=category_words(asset["objectType"]),
                description=category_words(asset["objectType"]),
                material=Material(color_name="", material_name="", rgb=rgb),
                box=Box3D(center=(0.0, 0.0, 0.0), size=(d, w, h)),
                parts=[Part(shape="box", center=(0.0, 0.0, 0.0), size=(d, w, h))],
            )
            so = StandinObject(
                entry["id"],
                asset["objectType"],
                obj,
                (0.0, h / 2, 0.0),
                vec(entry["position"]),
                entry.get("rotation", {"x": 0, "y": 0, "z": 0}),
                asset,
            )
            so.parent = parent
            self.objects.append(so)
            for child in entry.get("children", []):
                add(child, entry["id"])

        for entry in house.get("objects", []):
            add(entry, FLOOR_ID)

    # ---------------------------------------------------------------- geometry
    def floor(self):
        return unary_union([Polygon(r.footprint) for r in self.rooms] + [Polygon(p) for p in self.navigable])

    def reachable(self) -> list[dict]:
        free = self.floor().buffer(-AGENT_RADIUS)
        blocks = [footprint(o.box()).buffer(AGENT_RADIUS) for o in self.objects if o.parent == FLOOR_ID]
        free = free.difference(unary_union(blocks)) if blocks else free
        if free.is_empty:
            return []
        g = self.grid_size
        x0, z0, x1, z1 = free.bounds
        out = []
        for i in range(math.ceil(x0 / g), math.floor(x1 / g) + 1):
            for j in range(math.ceil(z0 / g), math.floor(z1 / g) + 1):
                if free.contains(Point(i * g, j * g)):
                    out.append({"x": round(i * g, 4), "y": float(self.agent_position[1]), "z": round(j * g, 4)})
        return out

    def camera_position(self) -> np.ndarray:
        return self.agent_position + np.array([0.0, CAMERA_OFFSET, 0.0])

    # ---------------------------------------------------------------- rendering
    def close_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def render(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RGB (H, W, 3) uint8, depth (H, W) float32 metres (``FAR`` where nothing is hit),
        instance colours (H, W, 3) uint8, rows top-down."""
        from synth.backends.registry import open_renderer, renderer_settings

        video = VideoSpec(frames=1, width=self.width, height=self.height)
        if self._renderer is None:
            self._renderer = open_renderer(renderer_settings("blender", quality="draft"))
        if self._session is None:
            scene = Scene(
                seed=0,
                simulator="ai2thor-standin",
                rooms=self.rooms,
                objects=[o.obj for o in self.objects],
                asset_root=self.asset_root,
            )
            self._session = self._renderer.open(scene, video)
        K = thor_intrinsics(self.width, self.height, self.fov)
        camera = CameraFrame(
            K=tuple(tuple(r) for r in K),
            world_to_camera=tuple(tuple(r) for r in world_to_camera(self.camera_position(), self.yaw, self.horizon)),
        )
        frame = Frame(index=0, time=0.0, camera=camera, object_poses=[o.pose() for o in self.objects])
        buf = self._session.render([frame])
        depth = np.where(np.isfinite(buf.depth[0]), np.minimum(buf.depth[0], FAR), FAR).astype(np.float32)
        lut = np.zeros((max((o.obj.id for o in self.objects), default=0) + 1, 3), dtype=np.uint8)
        for o in self.objects:
            lut[o.obj.id] = color_of(o.obj.id)
        return buf.rgb[0], depth, lut[buf.instance[0]]

    def colors(self) -> list[dict]:
        return [{"name": "Structure", "color": ROOM_COLOR}] + [
            {"name": o.object_id, "color": color_of(o.obj.id)} for o in self.objects
        ]


class Standin:
    """The FIFO server. ``drop``: ``(objectId, n)``, the object that falls ``DROP`` metres at the
    ``n``-th ``TeleportFull`` (``$SYNTH_THOR_STANDIN_DROP``), or None."""

    def __init__(self, server_pipe: str, client_pipe: str, drop: tuple[str, int] | None = None):
        self.out = open(server_pipe, "wb")  # noqa: SIM115 - held for the process's life
        self.world = World()
        self.client_pipe = client_pipe
        self.inp = None
        self.sequence = 0
        self.last_action = ""
        self.drop = drop
        self.teleports = 0  # TeleportFull actions done

    # ---------------------------------------------------------------- protocol
    def send(self, metadata: dict, images: list[tuple[int, bytes]]) -> None:
        body = msgpack.dumps(metadata, use_bin_type=True)
        msg = HEADER.pack(METADATA, len(body)) + body
        for kind, data in images:
            msg += HEADER.pack(kind, len(data)) + data
        self.out.write(msg + HEADER.pack(END, 0))
        self.out.flush()

    def receive(self) -> dict | None:
        if self.inp is None:
            self.inp = open(self.client_pipe, "rb")  # noqa: SIM115
        action = None
        while True:
            header = self.inp.read(HEADER.size)
            if len(header) < HEADER.size:
                return None  # the controller went away
            kind, length = HEADER.unpack(header)
            if kind == END:
                return action
            body = self.inp.read(length)
            if kind == ACTION:
                action = json.loads(body)

    def metadata(self, success=True, error="", code=None, action_return=None) -> dict:
        w = self.world
        agent = {
            "name": "agent",
            "position": as_dict(w.agent_position),
            "rotation": {"x": 0.0, "y": w.yaw, "z": 0.0},
            "cameraHorizon": w.horizon,
            "isStanding": True,
            "inHighFrictionArea": False,
        }
        floor = {
            "objectId": FLOOR_ID,
            "objectType": "Floor",
            "name": "Floor",
            "position": as_dict((0, 0, 0)),
            "rotation": as_dict((0, 0, 0)),
            "axisAlignedBoundingBox": {
                "cornerPoints": [[0, 0, 0]] * 8,
                "center": as_dict((0, 0, 0)),
                "size": as_dict((0, 0, 0)),
            },
            "objectOrientedBoundingBox": None,
            "parentReceptacles": None,
            "pickupable": False,
            "moveable": False,
            "receptacle": True,
            "salientMaterials": None,
        }
        return {
            "objects": ([floor] if w.name else []) + [o.metadata() for o in w.objects],
            "agent": agent,
            "cameraPosition": as_dict(w.camera_position()),
            "fov": w.fov,
            "sceneName": w.name,
            "lastAction": self.last_action,
            "lastActionSuccess": success,
            "errorMessage": error,
            "errorCode": code,
            "actionReturn": action_return,
            "screenWidth": w.width,
            "screenHeight": w.height,
            "depthFormat": "Meters",
            "colors": w.colors(),
            "thirdPartyCameras": [],
            "agentId": 0,
            "sequenceId": self.sequence,
        }

    def respond(self, action: dict) -> None:
        self.last_action = action.get("action", "")
        self.sequence = action.get("sequenceId", self.sequence)
        handler = getattr(self, "do_" + self.last_action, None)
        images = []
        if handler is None:
            meta = self.metadata(False, f"stand-in: unknown action {self.last_action}", "InvalidAction")
        else:
            try:
                meta = self.metadata(action_return=handler(action))
                if action.get("renderImage", True) and self.world.name and self.last_action != "GetReachablePositions":
                    images = self.images()
            except ActionFailed as e:
                meta = self.metadata(False, str(e))
            except Exception as e:  # a stand-in bug: say so in the reply instead of leaving the controller waiting
                meta = self.metadata(False, f"stand-in error: {type(e).__name__}: {e}")
                print(traceback.format_exc(), file=sys.stderr, flush=True)
        self.send({"agents": [meta], "sequenceId": self.sequence, "activeAgentId": 0, "thirdPartyCameras": []}, images)

    def images(self) -> list[tuple[int, bytes]]:
        """The frame's passes as Unity sends them (rows bottom-up)."""
        rgb, depth, ids = self.world.render()
        images = [(RGB_IMAGE, np.ascontiguousarray(rgb[::-1]).tobytes())]
        if self.world.depth:
            images.append((DEPTH_IMAGE, np.ascontiguousarray(depth[::-1]).tobytes()))
        if self.world.ids:
            images.append((IDS_IMAGE, np.ascontiguousarray(ids[::-1]).tobytes()))
        return images

    def run(self) -> None:
        self.send({"agents": [self.metadata()], "sequenceId": 0, "activeAgentId": 0, "thirdPartyCameras": []}, [])
        while (action := self.receive()) is not None:
            self.respond(action)
        self.world.close_session()

    # ---------------------------------------------------------------- actions
    def do_GetScenesInBuild(self, a):
        names = sorted(p.stem for p in FIXTURES.glob("FloorPlan*.json"))
        return [f"{n}_physics" for n in names] + ["Procedural"]

    def do_Reset(self, a):
        name = a["sceneName"]
        if name == "Procedural":
            self.world.load_house({"rooms": [], "objects": []}, name)
            return None
        path = FIXTURES / f"{name.removesuffix('_physics')}.json"
        if not path.exists():
            raise ActionFailed(f"stand-in: no fixture scene {name}")
        self.world.load_house(json.loads(path.read_text()), name)
        self.world.agent_position = np.array([0.0, AGENT_Y, 0.0])
        return None

    def do_CreateHouse(self, a):
        self.world.load_house(a["house"], "Procedural")
        return None

    def do_Initialize(self, a):
        w = self.world
        w.grid_size = float(a.get("gridSize", 0.25))
        w.fov = float(a.get("fieldOfView", 90.0))
        w.depth = bool(a.get("renderDepthImage", False))
        w.ids = bool(a.get("renderInstanceSegmentation", False))
        return {"cameraNearPlane": NEAR, "cameraFarPlane": FAR}

    def do_ChangeResolution(self, a):
        self.world.close_session()
        self.world.width, self.world.height = int(a["x"]), int(a["y"])
        return None

    def do_ChangeQuality(self, a):
        return None

    def do_GetReachablePositions(self, a):
        return self.world.reachable()

    def do_TeleportFull(self, a):
        w = self.world
        position = vec(a["position"]) if "position" in a else np.array([a["x"], a["y"], a["z"]], dtype=float)
        rotation = a.get("rotation", {"y": w.yaw})
        horizon = float(a.get("horizon", w.horizon))
        if not HORIZON_RANGE[0] <= horizon <= HORIZON_RANGE[1]:
            raise ActionFailed(f"horizon {horizon} is outside {HORIZON_RANGE}")
        if not self.world.floor().contains(Point(position[0], position[2])):
            raise ActionFailed(f"position {position.tolist()} is not on the floor")
        y = float(rotation["y"] if isinstance(rotation, dict) else rotation)
        w.agent_position, w.yaw, w.horizon = position, y % 360.0, horizon
        self.teleports += 1
        if self.drop and self.teleports == self.drop[1]:
            fallen = self._object(self.drop[0])
            fallen.position = fallen.position - np.array([0.0, DROP, 0.0])
        return None

    def _object(self, object_id: str) -> StandinObject:
        for o in self.world.objects:
            if o.object_id == object_id:
                return o
        raise ActionFailed(f"no object {object_id}")

    def do_TeleportObject(self, a):
        o = self._object(a["objectId"])
        if not (o.flags.get("moveable") or o.flags.get("pickupable")):
            raise ActionFailed(f"{o.object_id} is not moveable")
        o.position = vec(a["position"]) if "position" in a else np.array([a["x"], a["y"], a["z"]], dtype=float)
        if "rotation" in a:
            o.rotation = {k: float(a["rotation"].get(k, 0.0)) for k in "xyz"}
        return None

    def do_PlaceObjectAtPoint(self, a):
        o = self._object(a["objectId"])
        corners = from_synth(np.asarray(o.box().corners()))
        centre = corners.mean(axis=0)
        o.position = o.position + vec(a["position"]) - np.array([centre[0], corners[:, 1].min(), centre[2]])
        return None


class ActionFailed(Exception):
    """The action cannot be done (``lastActionSuccess`` false, ``errorMessage``)."""


def main() -> None:
    server = os.environ.get("AI2THOR_FIFO_SERVER_PIPE_PATH")
    client = os.environ.get("AI2THOR_FIFO_CLIENT_PIPE_PATH")
    if os.environ.get("AI2THOR_SERVER_TYPE") != "FIFO" or not server or not client:
        sys.exit("the AI2-THOR stand-in speaks the FIFO protocol only (ai2thor.fifo_server.FifoServer)")
    drop = os.environ.get("SYNTH_THOR_STANDIN_DROP", "")
    object_id, _, n = drop.rpartition("@")
    Standin(server, client, (object_id, int(n)) if drop else None).run()


if __name__ == "__main__":
    main()
