"""Vetted question families shipped with synth."""

from programs.family import Family

from . import metric_distance

FAMILIES: dict[str, Family] = {f.id: f for f in (metric_distance.FAMILY,)}
