"""Simulator-neutral scene and episode model.

Conventions (the only place they are written down):
- Units are metres and radians.
- The world frame is right-handed with +Z up. The floor is the plane z = 0.
- An object's local frame has its origin at the centre of its 3D box; local +X is the
  direction the object faces (its front), local +Y is its left side, local +Z is up.
  ``size = (depth along +X, width along +Y, height along +Z)``. ``yaw`` rotates the local
  frame about world +Z, counter-clockwise seen from above, so an object faces
  ``(cos yaw, sin yaw, 0)``.
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
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
SCHEMA_VERSION = "1.0"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Pose(Model):
    """Position of an object's box centre and its yaw, in the world frame."""

    position: Vec3
    yaw: float = 0.0


class Box3D(Model):
    """Oriented 3D box: centre, size (depth, width, height) and yaw about +Z."""

    center: Vec3
    size: Vec3
    yaw: float = 0.0

    def at(self, pose: Pose) -> Box3D:
        return Box3D(center=pose.position, size=self.size, yaw=pose.yaw)

    def corners(self) -> list[Vec3]:
        """The 8 corners in the world frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        out = []
        for dx in (-0.5, 0.5):
            for dy in (-0.5, 0.5):
                for dz in (-0.5, 0.5):
                    lx, ly, lz = dx * self.size[0], dy * self.size[1], dz * self.size[2]
                    out.append(
                        (
                            self.center[0] + c * lx - s * ly,
                            self.center[1] + s * lx + c * ly,
                            self.center[2] + lz,
                        )
                    )
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


class SceneObject(Model):
    id: int = Field(ge=1, le=65535)
    category: str
    description: str  # e.g. "red wooden chair": unique-enough words usable in questions
    material: Material
    box: Box3D  # rest pose (frame 0)
    parts: list[Part]
    supported_by: int = ROOM_ID  # id of the object it stands on; ROOM_ID = the floor

    @property
    def name(self) -> str:
        return f"{self.category}_{self.id}"


class Room(Model):
    shape: Literal["rectangular", "L-shaped"]
    footprint: list[Vec2]  # floor polygon, counter-clockwise, metres
    height: float
    wall: Material
    floor: Material
    ceiling: Material


class Light(Model):
    kind: Literal["point", "area", "sun"]
    position: Vec3
    energy: float  # watts (point/area) or W/m^2 (sun)
    color: Vec3  # linear RGB
    size: float = 0.0  # area light edge length, metres


class Scene(Model):
    """A static scene description: room, lights and objects at rest."""

    schema_version: str = SCHEMA_VERSION
    seed: int
    simulator: str
    room: Room
    lights: list[Light]
    objects: list[SceneObject]

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
    how much of the walls' perimeter some frame shows."""

    floor: list[int]
    wall: list[int]
    ceiling: list[int]
    wall_coverage: float  # share of the footprint's perimeter (0.1 m bins) with wall pixels in some frame
    wall_max_gap: float  # longest run of the perimeter no frame shows, metres


class Evidence(Model):
    """Quantities measured from the rendered passes of a sample (see ``programs.evidence``)."""

    objects: list[ObjectEvidence]
    motions: list[MotionEvidence] = Field(default_factory=list)
    structure: StructureEvidence


class Episode(Model):
    """A scene seen along a camera trajectory, with what the renderer measured."""

    schema_version: str = SCHEMA_VERSION
    scene: Scene
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fps: float = Field(gt=0)
    frames: list[Frame]
    visibility: list[ObjectVisibility] = Field(default_factory=list)
    renderer: dict[str, str | int | float] = Field(default_factory=dict)
    actions: list[EgoAction] = Field(default_factory=list)  # one per frame after the first
    motions: list[ObjectMotion] = Field(default_factory=list)
    targets: list[Coverage] = Field(default_factory=list)  # objects the camera path was planned to show
    evidence: Evidence | None = None  # measured from this sample's rendered passes

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
