"""Evidence audit: is every shipped answer one a viewer of *that* video could give?

The auditor recomputes each question family's answer from the sample's ground-truth passes --
the instance masks and depth in ``gt.npz`` (and, for degraded variants, the delivered video) --
and the cameras. It shares none of the programs' geometry: it is written separately from
``synth.programs`` and never imports it (import-linter and ``tests/test_audit.py`` check), and
it has its own pinhole and lens model. It never reads the programs' shipped evidence, nor object
box centres or sizes, nor the room's declared height or footprint. Object poses are read only to
know in which frames an object is at rest (to pool its surface points) and, for sizes only, to
add up the views of an object that moved; positions, extents, heights and distances come from
back-projected surface points:

- image-space relations from the masks (centroids, border cuts) and median depths;
- sizes from the extent of the visible surface (world z-range; the minimum-area rectangle of the
  floor-plane points), centres as the middle of the visible surface's world bounds, surface
  distances between surface point clouds (KD-tree);
- motion: an object moved visibly when its surface seen in the first half of the video,
  re-projected unmoved into the second half, does not land on its own mask at matching depth
  (checked for every object);
- room: floor/ceiling from room pixels at the claimed height, the floor area as the filled
  outline of the wall points seen;
- degraded variants: an object counts as seen in a frame only where the delivered frame still
  shows it against its surroundings (its contrast and structure against the clean video's,
  measured here with its own statistic, see ``discernible``).

``audit_dataset(root)`` returns one :class:`Finding` per item; ``synth verify --evidence``
prints the disagreements and exits non-zero if there is any.

Modules: ``view`` (a sample's passes and cameras, the auditor's lens), ``measures`` (the small
measurements), ``families`` (one auditor per family and the ``AUDITORS`` table), ``items`` (one
item against the video: ``Finding``, ``audit_item``), ``degraded`` (what a delivered video still
shows: ``discernible``), ``dataset`` (``audit_sample``, ``audit_dataset``, ``agreement``).
"""

from synth.audit.dataset import agreement, audit_dataset, audit_sample
from synth.audit.degraded import discernible
from synth.audit.families import AUDITORS, answer
from synth.audit.items import Finding, audit_item
from synth.audit.view import View

__all__ = [
    "AUDITORS",
    "Finding",
    "View",
    "agreement",
    "answer",
    "audit_dataset",
    "audit_item",
    "audit_sample",
    "discernible",
]
