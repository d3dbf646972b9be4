"""Simulator-neutral scene and episode model.

Conventions (the only place they are written down):
- Units are metres and radians.
- The world frame is right-handed with +Z up. The floor is the plane z = 0. Sources whose
  simulator uses another frame (AI2-THOR: left-handed, +Y up; Habitat: +Y up) convert once,
  in their adapter.
- An object's local frame has its origin at the centre of its 3D box; local +X is the
  direction the object faces (its front), local +Y is its left side, local +Z is up.
  ``size = (depth along +X, width along +Y, height along +Z)``. ``rotation`` is the unit
  quaternion ``(w, x, y, z)`` (scalar first, as Blender and Habitat write it) that maps the
  local frame to the world frame. ``yaw`` is the heading of local +X seen from above,
  counter-clockwise from world +X: an upright object faces ``(cos yaw, sin yaw, 0)``, and
  ``Box3D(..., yaw=a)`` / ``Pose(..., yaw=a)`` build the rotation about +Z by ``a``.
- Geometry is a list of primitive ``parts`` in the local frame, or a ``MeshAsset`` (a glTF
  file and the 4x4 transform from the asset's frame into the local frame).
- A scene has zero, one or several rooms (floor polygon + height); ``navigable`` optionally
  gives the floor region a camera may stand on when the source knows it better (a navmesh,
  reachable positions) or declares no rooms.
- Cameras follow OpenCV: ``K`` is the 3x3 intrinsic matrix with pixel centres at integer
  coordinates (the top-left pixel's centre is (0, 0)); ``world_to_camera`` is a 4x4 matrix
  mapping world points to camera coordinates with +X right, +Y down, +Z forward. Depth maps
  hold camera-space z (planar depth), not the distance along the ray.
- Instance id 0 is the room (floor, walls, ceiling); objects have ids 1..N, stable within
  a scene, and per-pixel instance maps use the same ids.

Every model serialises to JSON and back without loss (``model_dump_json`` /
``model_validate_json``); that JSON ships with every sample.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synth.core.rotations import Quat, is_upright, quaternion_matrix, quaternion_yaw, yaw_quaternion

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Matrix3 = tuple[Vec3, Vec3, Vec3]
Matrix4 = tuple[
    tuple[float, float, float, float],
    tuple[float, float, float, float],
    tuple[float, float, float, float],
    tuple[float, float, float, float],
]

ROOM_ID = 0
SCHEMA_VERSION = "2.0"
MAX_WALL = 0.5  # metres: the thickest wall between two rooms whose doorways pair up
IDENTITY: Quat = (1.0, 0.0, 0.0, 0.0)


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _rotation_from_yaw(data):
    """Accept ``yaw=`` (and schema 1.0 JSON, which stored yaw only) for ``rotation``."""
    if isinstance(data, dict) and "yaw" in data:
        data = dict(data)
        yaw = data.pop("yaw")
        if "rotation" in data:
            raise ValueError("give rotation or yaw, not both")
        data["rotation"] = yaw_quaternion(float(yaw))
    return data


class Oriented(Model):
    rotation: Quat = IDENTITY

    @model_validator(mode="before")
    @classmethod
    def _yaw_in(cls, data):
        return _rotation_from_yaw(data)

    @field_validator("rotation")
    @classmethod
    def _unit(cls, q: Quat) -> Quat:
        n = math.sqrt(sum(v * v for v in q))
        if abs(n - 1.0) > 1e-6:
            raise ValueError(f"rotation {q} is not a unit quaternion (w, x, y, z)")
        return q

    @property
    def yaw(self) -> float:
        """Heading of local +X seen from above (radians, counter-clockwise from world +X)."""
        return quaternion_yaw(self.rotation)

    @property
    def upright(self) -> bool:
        """Whether the rotation is about +Z only (local +Z stays up)."""
        return is_upright(self.rotation)

    def matrix(self) -> tuple[Vec3, Vec3, Vec3]:
        """The rotation's 3x3 matrix (rows; local-to-world)."""
        return tuple(map(tuple, quaternion_matrix(self.rotation).tolist()))


class Pose(Oriented):
    """Position of an object's box centre and its rotation, in the world frame."""

    position: Vec3


class Box3D(Oriented):
    """Oriented 3D box: centre, size (depth, width, height along local x, y, z) and rotation."""

    center: Vec3
    size: Vec3

    def at(self, pose: Pose) -> Box3D:
        return Box3D(center=pose.position, size=self.size, rotation=pose.rotation)

    def corners(self) -> list[Vec3]:
        """The 8 corners in the world frame."""
        R = self.matrix()
        out = []
        for dx in (-0.5, 0.5):
            for dy in (-0.5, 0.5):
                for dz in (-0.5, 0.5):
                    lx, ly, lz = dx * self.size[0], dy * self.size[1], dz * self.size[2]
                    out.append(tuple(self.center[i] + R[i][0] * lx + R[i][1] * ly + R[i][2] * lz for i in range(3)))
        return out


class Part(Model):
    """One primitive of an object, in the object's local frame (metres)."""

    shape: Literal["box", "cylinder", "cone", "sphere"]
    center: Vec3
    size: Vec3  # full extents along local x, y, z (cylinders/cones: diameter, diameter, height)
    color: Vec3 | None = None  # linear RGB override (e.g. a lampshade); None = object colour


class Material(Model):
    """Appearance of an object or surface: words for questions, numbers for renderers."""

    color_name: str
    material_name: str
    rgb: Vec3  # linear RGB in [0, 1]
    roughness: float = 0.5
    metallic: float = 0.0


class MeshAsset(Model):
    """A mesh file an object's geometry comes from: ``uri`` is a glTF 2.0 file (``.glb`` or
    ``.gltf``; an absolute path, or relative to the scene's ``asset_root``); ``transform`` maps
    the asset's coordinates into the object's local frame (4x4, row-major; glTF files are +Y up,
    so a Y-up asset needs the +Y -> +Z rotation here). Materials come from the file.
    ``blend``: optionally, a Blender file holding the same triangles as one mesh object (in
    Blender's +Z-up reading of the glTF file's coordinates) with materials glTF cannot carry
    (procedural node trees, e.g. Infinigen's); the Blender renderer draws it instead of the
    glTF file, everything else reads the glTF file."""

    uri: str
    transform: Matrix4 = ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0))
    blend: str = ""


class SceneObject(Model):
    id: int = Field(ge=1, le=65535)
    category: str  # the source's class name ("chair"; AI2-THOR's objectType, lower case words)
    description: str  # words usable in questions ("red wooden chair", "taller chair"); see ``describe``
    material: Material | None = None  # colour/material (primitive parts); mesh assets bring their own
    box: Box3D  # rest pose (frame 0)
    parts: list[Part] = Field(default_factory=list)
    mesh: MeshAsset | None = None
    # id of the object it stands on; ROOM_ID: the room holds it (stands on the floor, or hangs on a wall)
    supported_by: int = ROOM_ID
    movable: bool = False  # the source allows moving it (dynamic episodes move only these)
    look_alikes: list[int] = Field(default_factory=list)  # ids the source described with the same words
    source_id: str = ""  # the simulator's own id (THOR's objectId, a Habitat instance's semantic id)

    @model_validator(mode="after")
    def _geometry(self) -> SceneObject:
        if bool(self.parts) == (self.mesh is not None):
            raise ValueError(f"object {self.id}: give primitive parts or a mesh asset (exactly one)")
        if self.parts and self.material is None:
            raise ValueError(f"object {self.id}: primitive parts need a material")
        return self

    @property
    def name(self) -> str:
        return f"{self.category}_{self.id}"


class Window(Model):
    """An opening in a room's wall (no glass: the sky shows through, at infinite depth)."""

    wall: int = Field(ge=0)  # the footprint edge from corner ``wall`` to corner ``wall + 1``
    center: float = Field(gt=0)  # metres along that edge from its first corner
    width: float = Field(gt=0)  # metres
    sill: float = Field(ge=0)  # height of its bottom above the floor, metres
    height: float = Field(gt=0)  # metres


DoorState = Literal["none", "open", "ajar", "closed"]
# how far a door leaf stands open (radians from the wall's plane, swinging into the room that hangs it)
DOOR_ANGLES: dict[str, float] = {"closed": 0.0, "ajar": math.radians(30), "open": math.radians(88)}
PASSABLE: frozenset[str] = frozenset({"none", "open"})  # a 0.4 m-wide walker gets through


class Doorway(Model):
    """An opening down to the floor in a room's wall, into another room of the scene (or out of
    the house). Both rooms list the doorway, each on its own wall, at the same place in the
    plan; at most one of the two hangs a door leaf (``door``), which swings into that room, its
    hinge at the opening's ``hinge`` end seen from inside that room (``"left"``: the end at
    ``center - width / 2``, the wall's first corner side)."""

    wall: int = Field(ge=0)  # the footprint edge from corner ``wall`` to corner ``wall + 1``
    center: float = Field(gt=0)  # metres along that edge from its first corner
    width: float = Field(gt=0)  # metres (the clear opening)
    height: float = Field(gt=0)  # metres above the floor
    to_room: int = Field(-1, ge=-1)  # index in ``Scene.rooms`` of the room behind it; -1: outside
    door: DoorState = "none"  # the leaf hung on this room's side; "none": an open doorway here
    hinge: Literal["left", "right"] = "left"

    @property
    def angle(self) -> float:
        """Opening angle of the leaf hung here, radians (0: closed, in the wall's plane)."""
        return DOOR_ANGLES.get(self.door, 0.0)


def _openings_fit(room: Room) -> None:
    """Every window and doorway lies on a wall of the footprint, inside its length and below the
    ceiling, and no two openings on one wall overlap."""
    n = len(room.footprint)
    spans: dict[int, list[tuple[float, float, str]]] = {}
    for kind, items in (("window", room.windows), ("doorway", room.doorways)):
        for w in items:
            if w.wall >= n:
                raise ValueError(f"{kind} on wall {w.wall}: the footprint has {n} walls")
            length = math.dist(room.footprint[w.wall], room.footprint[(w.wall + 1) % n])
            if not (w.width / 2 < w.center < length - w.width / 2):
                raise ValueError(f"{kind} at {w.center} m (width {w.width}) does not fit on wall {w.wall}")
            top = w.sill + w.height if kind == "window" else w.height
            if top >= room.height:
                raise ValueError(f"{kind} top {top} m reaches the ceiling ({room.height} m)")
            spans.setdefault(w.wall, []).append((w.center - w.width / 2, w.center + w.width / 2, kind))
    for wall, items in spans.items():
        items.sort()
        for (_, b, k1), (a, _, k2) in zip(items, items[1:]):
            if a < b:
                raise ValueError(f"a {k1} and a {k2} overlap on wall {wall}")


class Room(Model):
    shape: Literal["rectangular", "L-shaped", "polygon"]
    footprint: list[Vec2]  # floor polygon, counter-clockwise, metres
    height: float
    wall: Material
    floor: Material
    ceiling: Material
    name: str = ""  # the source's room name or type ("Kitchen"), if any
    # what the room is for, in words ("living room", "kitchen", "bedroom", "bathroom", "office",
    # "hallway", "dining room"); empty when the source does not say
    function: str = ""
    windows: list[Window] = Field(default_factory=list)
    doorways: list[Doorway] = Field(default_factory=list)

    @model_validator(mode="after")
    def _openings(self) -> Room:
        _openings_fit(self)
        return self

    def opening_centre(self, doorway: Doorway) -> Vec2:
        """Where ``doorway`` is in the plan: the middle of its opening on this room's wall, metres."""
        a = self.footprint[doorway.wall]
        b = self.footprint[(doorway.wall + 1) % len(self.footprint)]
        t = doorway.center / math.dist(a, b)
        return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


class Light(Model):
    kind: Literal["point", "area", "sun"]
    position: Vec3
    energy: float  # watts (point/area) or W/m^2 (sun)
    color: Vec3  # linear RGB
    size: float = 0.0  # area light edge length, metres
    direction: Vec3 = (0.0, 0.0, -1.0)  # where the light goes (sun; area lights face down)


class Scene(Model):
    """A static scene description: rooms, lights and objects at rest."""

    schema_version: str = SCHEMA_VERSION
    seed: int
    simulator: str
    reference: str = ""  # what the source loaded (a scene name, a house file), empty for sampled scenes
    rooms: list[Room] = Field(default_factory=list)
    navigable: list[list[Vec2]] = Field(default_factory=list)  # floor polygons a camera may stand on
    lights: list[Light] = Field(default_factory=list)
    objects: list[SceneObject]
    # static background the source gives as one mesh (a Habitat stage): drawn like the rooms (id 0);
    # a scene without rooms needs ``navigable`` polygons to plan on
    stage: MeshAsset | None = None
    asset_root: str = ""  # folder that relative ``MeshAsset.uri``s resolve against

    @model_validator(mode="before")
    @classmethod
    def _schema_1(cls, data):
        """Schema 1.0 had exactly one ``room``."""
        if isinstance(data, dict) and "room" in data:
            data = {k: v for k, v in data.items() if k != "room"} | {"rooms": [data["room"]]}
            data["schema_version"] = SCHEMA_VERSION
        return data

    @property
    def room(self) -> Room:
        """The scene's only room; ``ValueError`` when it declares none or several."""
        if len(self.rooms) != 1:
            raise ValueError(f"scene {self.seed} declares {len(self.rooms)} rooms, not one")
        return self.rooms[0]

    @model_validator(mode="after")
    def _doorways_pair(self) -> Scene:
        """A doorway into room ``j`` is listed by room ``j`` too, facing it across the wall
        (centres at most ``MAX_WALL`` apart, same width and height), with at most one leaf."""
        for i, room in enumerate(self.rooms):
            for d in room.doorways:
                if d.to_room == -1:
                    continue
                if d.to_room >= len(self.rooms) or d.to_room == i:
                    raise ValueError(f"room {i}: a doorway leads to room {d.to_room}, not another room of the scene")
                here = room.opening_centre(d)
                other = self.rooms[d.to_room]
                twins = [
                    e for e in other.doorways if e.to_room == i and math.dist(here, other.opening_centre(e)) <= MAX_WALL
                ]
                if len(twins) != 1:
                    raise ValueError(f"room {i}'s doorway at {here} has no single twin in room {d.to_room}")
                e = twins[0]
                if abs(e.width - d.width) > 1e-6 or abs(e.height - d.height) > 1e-6:
                    raise ValueError(f"the two sides of the doorway at {here} differ in size")
                if d.door != "none" and e.door != "none":
                    raise ValueError(f"the doorway at {here} hangs a door on both sides")
        return self

    def connections(self) -> list[tuple[int, int, Doorway, Doorway]]:
        """Each doorway between two rooms once: ``(i, j, doorway in room i, its twin in room j)``
        with ``i < j``."""
        out = []
        for i, room in enumerate(self.rooms):
            for d in room.doorways:
                j = d.to_room
                if j > i:
                    here = room.opening_centre(d)
                    twin = min(
                        (e for e in self.rooms[j].doorways if e.to_room == i),
                        key=lambda e: math.dist(here, self.rooms[j].opening_centre(e)),
                    )
                    out.append((i, j, d, twin))
        return out

    def object(self, object_id: int) -> SceneObject:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object with id {object_id}")


class CameraFrame(Model):
    """Intrinsics and extrinsics of the camera at one frame (OpenCV convention). ``distortion``
    holds Brown-Conrady (k1, k2, p1, p2, k3) when the frames were distorted (a degradation)."""

    K: Matrix3
    world_to_camera: Matrix4
    distortion: tuple[float, float, float, float, float] | None = None


class ObjectPose(Pose):
    """An object's pose at one frame."""

    id: int


class ObjectVisibility(Model):
    id: int
    pixels: list[int]  # visible pixels per frame, from the rendered instance masks


class Frame(Model):
    index: int
    time: float  # seconds from the first frame
    camera: CameraFrame
    object_poses: list[ObjectPose]  # every object's pose at this frame


class EgoAction(Model):
    """Camera motion from frame ``frame - 1`` to ``frame``, in the earlier frame's heading."""

    frame: int
    forward: float  # metres along the heading (negative: backward)
    left: float  # metres to the left (negative: right)
    turn_left: float  # radians about +Z (negative: a right turn)


class ObjectMotion(Model):
    """One object moved during the episode (poses per frame are in ``Frame.object_poses``)."""

    id: int
    kind: Literal["slide", "rotate", "lift"]
    start_frame: int
    end_frame: int
    translation: Vec3
    rotation: float  # radians about +Z


class Coverage(Model):
    """How well the trajectory shows an object the episode was planned around."""

    id: int
    frames_visible: int  # frames with at least ``min_pixels`` of it in the instance mask
    max_pixels: int


Box2D = tuple[int, int, int, int]
Extent = tuple[Vec2, Vec2, Vec2]


class ObjectEvidence(Model):
    """What the rendered passes (instance mask, depth) of one sample show of one object, per
    frame; ``None`` where none of its pixels is in the frame. Pixel coordinates as ``K``'s
    (u to the right, v down, pixel centres at integers). Visible pixel counts live in
    ``Episode.visibility`` (for degraded variants: recounted on the delivered pixels)."""

    id: int
    box: list[Box2D | None]  # visible mask's bounding box (u0, v0, u1, v1), inclusive pixel indices
    centroid: list[Vec2 | None]  # visible mask's centroid (u, v), pixels
    depth: list[float | None]  # median camera-space z of the visible pixels, metres
    cut: list[str]  # image borders the mask touches: a subset of "lrtb" ("" = none)
    extent: Extent | None = None  # (min, max) of the visible surface along local x, y, z, metres, all frames
    # which of the object's surface samples (synth.core.meshes.surface_samples) the video shows: a
    # visible pixel's surface point within SEEN_RADIUS of it in some frame; bits, numpy packbits order, base64
    surface_seen: str | None = None
    # issue #33 (grounded answers), per frame, None where the object has no pixel: the share of its
    # visible mask's outline that borders a nearer surface (an occluder; OCCLUSION_GAP in
    # synth.core.evidence), and its innermost visible pixel (u, v) with that pixel's distance to
    # the nearest pixel outside the mask or the image, pixels; None for the whole list: measured
    # before issue #33
    occluded: list[float | None] | None = None
    inner: list[tuple[int, int, float] | None] | None = None


class MotionEvidence(Model):
    """Whether an object's motion shows in the video: its visible surface in the frame before
    the motion that shows most of it, kept static, is compared with the frame after the motion
    that shows most of it (and the other way round)."""

    id: int
    before: int  # frame compared before the motion (-1: the object is not visible before it)
    after: int  # frame compared after the motion (-1: not visible after it)
    consistency: float  # share of surface points that a static object would put on its own mask, 1 = no visible change
    shift_px: float  # mask centroid after the motion vs. where the static object would be, pixels
    points: int  # surface points that could be compared (in view and not hidden in the other frame)


class StructureEvidence(Model):
    """Room structure per frame (pixels of instance 0 by the height of their surface point) and
    how much of the walls' perimeter some frame shows; ``room`` is the room's index in
    ``Scene.rooms`` (a pixel belongs to the room whose footprint is nearest its point, within
    ``synth.core.evidence.ROOM_REACH``)."""

    room: int = 0
    floor: list[int]
    wall: list[int]
    ceiling: list[int]
    wall_coverage: float  # share of the footprint's perimeter (0.1 m bins) with wall pixels in some frame
    wall_max_gap: float  # longest run of the perimeter no frame shows, metres (in a doorway: the wall above it)


class Evidence(Model):
    """Quantities measured from the rendered passes of a sample (see ``synth.core.evidence``)."""

    objects: list[ObjectEvidence]
    motions: list[MotionEvidence] = Field(default_factory=list)
    structure: StructureEvidence | None  # None unless the scene declares exactly one room
    rooms: list[StructureEvidence] = Field(default_factory=list)  # one per room when the scene declares several
    # per frame: index in ``Scene.rooms`` of the room the camera stands in (-1: none), when the scene declares rooms
    camera_room: list[int] = Field(default_factory=list)


def exact_rate(fps: float) -> Fraction:
    """``fps`` as the rational frame rate a video stream stores exactly (denominator at most
    1001: 8 = 8/1, 7.5 = 15/2, 29.97 = 2997/100, 30000/1001). ``ValueError`` for a rate no such
    fraction equals: the video's timestamps would disagree with the frame times in the JSON."""
    rate = Fraction(fps).limit_denominator(1001)
    if abs(float(rate) - fps) > 1e-9 * fps:
        raise ValueError(
            f"fps {fps} is not a rate a video can store exactly (a fraction with denominator <= 1001, "
            "e.g. 7.5, 29.97 or 30000/1001 = 29.97002997...)"
        )
    return rate


class VideoSpec(Model):
    """The video an episode is rendered as; frame ``i`` is shown at ``i / fps`` seconds, and the
    encoded stream's rate is exactly ``fps`` (``exact_rate``)."""

    frames: int = Field(16, ge=1, le=10_000, description="frames per episode")
    width: int = Field(448, ge=16, le=8192, description="image width in pixels (even: H.264 yuv420p)")
    height: int = Field(336, ge=16, le=8192, description="image height in pixels (even)")
    fps: float = Field(8.0, gt=0, le=240, description="frames per second")

    @field_validator("width", "height")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("must be even (H.264 yuv420p)")
        return v

    @field_validator("fps")
    @classmethod
    def _rate(cls, v: float) -> float:
        exact_rate(v)
        return v


class VisibilityRule(Model):
    """When an object counts as visible: at least ``min_pixels`` pixels of its instance mask in a
    frame, in at least ``min_frames`` frames of the video. The planner aims for it, programs and
    the auditor judge by it; it travels with the episode so that nobody can forget it."""

    min_pixels: int = Field(100, ge=1, description="pixels of an object's mask for it to count as visible in a frame")
    min_frames: int = Field(2, ge=1, description="frames an object must be visible in to be asked about")


class Episode(Model):
    """A scene seen along a camera trajectory, with what the renderer measured."""

    schema_version: str = SCHEMA_VERSION
    scene: Scene
    video: VideoSpec
    visibility_rule: VisibilityRule = VisibilityRule()
    frames: list[Frame]
    visibility: list[ObjectVisibility] = Field(default_factory=list)
    renderer: dict[str, str | int | float] = Field(default_factory=dict)
    actions: list[EgoAction] = Field(default_factory=list)  # one per frame after the first
    motions: list[ObjectMotion] = Field(default_factory=list)
    targets: list[Coverage] = Field(default_factory=list)  # objects the camera path was planned to show
    evidence: Evidence | None = None  # measured from this sample's rendered passes

    @model_validator(mode="before")
    @classmethod
    def _schema_1(cls, data):
        """Schema 1.0 had ``width``, ``height`` and ``fps`` at the top."""
        if isinstance(data, dict) and "width" in data:
            data = dict(data)
            n = len(data.get("frames", [])) or 2
            data["video"] = {"frames": n, **{k: data.pop(k) for k in ("width", "height", "fps")}}
            data["schema_version"] = SCHEMA_VERSION
        return data

    @model_validator(mode="after")
    def _frame_count(self) -> Episode:
        if len(self.frames) != self.video.frames:
            raise ValueError(f"episode has {len(self.frames)} frames, its video spec says {self.video.frames}")
        return self

    @property
    def width(self) -> int:
        return self.video.width

    @property
    def height(self) -> int:
        return self.video.height

    @property
    def fps(self) -> float:
        return self.video.fps

    def pose(self, object_id: int, frame: int) -> ObjectPose:
        for p in self.frames[frame].object_poses:
            if p.id == object_id:
                return p
        raise KeyError(f"no pose for object {object_id} at frame {frame}")

    def visible_pixels(self, object_id: int) -> list[int]:
        """Visible pixels of an object per frame (zeros if it was never measured)."""
        for v in self.visibility:
            if v.id == object_id:
                return v.pixels
        return [0] * len(self.frames)
