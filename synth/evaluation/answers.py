"""Reading a model's free-text reply as an answer to one question.

``parse(reply, qa)`` returns a :class:`Parsed`: an abstention, an option text (questions with
options), ``"yes"``/``"no"``, or a number converted to the question's unit; ``None`` fields when
the reply says none of these. What it understands, in order:

- abstention phrasing ("cannot be determined", "can't tell", "not visible in the video", "unknown",
  "not enough information", ...), or the abstention option by letter or text;
- options: a leading letter (``B``, ``(B)``, ``B.``, ``B)``, ``Answer: B``, ``The answer is B``),
  then the exact option text, then the one option whose text occurs in the reply (the longest
  where one option's text contains another's; none if two unrelated options occur);
- yes/no: the first word, else the only one of the two words the reply contains;
- numbers: the first number (digits, or a number word up to twenty), with its unit when given
  (metres, centimetres, millimetres, feet, inches; degrees, radians; square metres / feet),
  converted to the question's unit; a number without unit is taken in the question's unit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from synth.evaluation.prompt import options
from synth.programs.family import ABSTAIN, QA

ABSTENTION_PATTERNS = re.compile(
    r"cannot be determined|can ?not be determined|can't be determined|cannot determine|can't determine|"
    r"cannot tell|can't tell|can not tell|impossible to (?:tell|determine|say)|not (?:clearly )?visible|"
    r"not shown|isn't shown|not enough information|insufficient information|unanswerable|\bunknown\b|"
    r"i don't know|i do not know|not possible to (?:tell|determine|say)|unable to (?:tell|determine)",
    re.IGNORECASE,
)
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBER = re.compile(
    r"(?<![\w.])(-?\d+(?:[.,]\d+)?|" + "|".join(NUMBER_WORDS) + r")(?![\w])\s*"
    r"(square metres|square meters|square feet|sq\.? ?m|sq\.? ?ft|m\^2|m2|m²|ft²|"
    r"centimetres|centimeters|centimetre|centimeter|cm|millimetres|millimeters|mm|"
    r"metres|meters|metre|meter|m|feet|foot|ft|inches|inch|in\b|"
    r"degrees|degree|deg|°|radians|rad)?",
    re.IGNORECASE,
)
# factor to SI-like base per unit family: length in metres, angle in degrees, area in square metres
_LENGTH = {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "in": 0.0254}
_ANGLE = {"deg": 1.0, "rad": 180.0 / math.pi}
_AREA = {"m^2": 1.0, "ft^2": 0.09290304}
_ALIASES = {
    "square metres": "m^2",
    "square meters": "m^2",
    "sq m": "m^2",
    "sq. m": "m^2",
    "sqm": "m^2",
    "m2": "m^2",
    "m²": "m^2",
    "square feet": "ft^2",
    "sq ft": "ft^2",
    "sq. ft": "ft^2",
    "sqft": "ft^2",
    "ft²": "ft^2",
    "centimetres": "cm",
    "centimeters": "cm",
    "centimetre": "cm",
    "centimeter": "cm",
    "millimetres": "mm",
    "millimeters": "mm",
    "metres": "m",
    "meters": "m",
    "metre": "m",
    "meter": "m",
    "feet": "ft",
    "foot": "ft",
    "inches": "in",
    "inch": "in",
    "degrees": "deg",
    "degree": "deg",
    "°": "deg",
    "radians": "rad",
}
_LETTER = (
    re.compile(r"^\s*\(?([A-Z])\)?\s*[.)]?\s*$"),  # "B", "(B)", "B."
    re.compile(r"^\s*\(?([A-Z])[.):]"),  # "B. left", "(B) left", "B) left", "B: left"
    re.compile(r"(?i:answer|option|choice)(?:\s+is)?\s*[:\-]?\s*\(?([A-Z])\)?(?![A-Za-z])"),  # "Answer: B"
)


@dataclass(frozen=True)
class Parsed:
    abstain: bool = False
    text: str | None = None  # an option's text or "yes"/"no"
    number: float | None = None  # in the question's unit

    @property
    def understood(self) -> bool:
        return self.abstain or self.text is not None or self.number is not None


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s°²^.-]", " ", text.lower()).split()).strip(" .")


def _option(reply: str, qa: QA) -> str | None:
    opts = options(qa)
    by_letter = dict(opts)
    for pattern in _LETTER:
        m = pattern.search(reply)
        if m and m.group(1) in by_letter:
            return by_letter[m.group(1)]
    norm = _norm(reply)
    by_norm = {_norm(text): text for _, text in opts}
    if norm in by_norm:
        return by_norm[norm]
    found = [t for t in by_norm if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", norm)]
    found = [t for t in found if not any(t != o and t in o for o in found)]  # the longest of nested ones
    return by_norm[found[0]] if len(found) == 1 else None


def _yes_no(reply: str) -> str | None:
    words = re.findall(r"[a-z]+", reply.lower())
    if words and words[0] in ("yes", "no"):
        return words[0]
    present = {w for w in words if w in ("yes", "no")}
    return present.pop() if len(present) == 1 else None


def _convert(value: float, unit: str | None, target: str) -> float | None:
    unit = _ALIASES.get(unit.lower(), unit.lower()) if unit else None
    if unit is None or not target:
        return value
    for table in (_LENGTH, _ANGLE, _AREA):
        if target in table:
            return value * table[unit] / table[target] if unit in table else None
    return value


def parse_number(reply: str, unit: str) -> float | None:
    """The first number in ``reply`` that carries no unit or one convertible to ``unit``."""
    for m in _NUMBER.finditer(reply):
        raw, found_unit = m.group(1).lower(), m.group(2)
        value = float(NUMBER_WORDS[raw]) if raw in NUMBER_WORDS else float(raw.replace(",", "."))
        if found_unit and found_unit.lower() == "in" and unit not in _LENGTH:
            found_unit = None  # "in" as a preposition
        converted = _convert(value, found_unit, unit)
        if converted is not None:
            return converted
    return None


def parse(reply: str, qa: QA) -> Parsed:
    """The answer ``reply`` gives to ``qa`` (see the module docstring)."""
    reply = (reply or "").strip()
    if qa.choices:
        text = _option(reply, qa)
        if text == ABSTAIN:
            return Parsed(abstain=True)
        if text is not None:
            return Parsed(text=text)
        return Parsed(abstain=bool(ABSTENTION_PATTERNS.search(reply)))
    if ABSTENTION_PATTERNS.search(reply):
        return Parsed(abstain=True)
    if qa.answer_type == "yes/no":
        return Parsed(text=_yes_no(reply))
    return Parsed(number=parse_number(reply, qa.unit))
