r"""Reading a model's free-text reply as an answer to one question.

``parse(reply, qa)`` returns a :class:`Parsed`: an abstention, an option text (questions with
options), ``"yes"``/``"no"``, a number converted to the question's unit, or the coordinates or
cognitive map of a grounded answer; ``None`` fields when the reply says none of these.

First the final answer is cut out of the reply (``final_answer``), and everything below is read
from it alone, so that what a model considers on the way (a number, an option, "not visible")
does not decide the answer:

- reasoning: what follows the last ``</think>``; a ``<think>`` never closed means the reply was cut
  off while reasoning, and nothing is answered;
- then the last "Answer:" / "Final answer:" / "the answer is" (as "Answer: " and the rest of that
  line, or the next non-empty line when the rest is empty), else the last ``\boxed{...}``, else the last non-empty
  line; a ``\boxed{...}`` inside the chosen text is unwrapped, LaTeX ``\text{..}``, ``\,`` and
  ``^\circ`` are read as text, a thin space and a degree sign; markdown emphasis and ``$`` around
  the answer are dropped.

A reply of one line without these markers (``"B"``, ``"3.3 m"``) is its own final answer. In it:

- abstention phrasing ("cannot be determined", "can't tell", "not visible in the video", "unknown",
  "not enough information", ...), or the abstention option by letter or text;
- options: a leading letter (``B``, ``(B)``, ``B.``, ``B)``, ``Answer: B``, ``The answer is B``),
  then the exact option text, then the one option whose text occurs in the answer (the longest
  where one option's text contains another's; none if two unrelated options occur);
- yes/no: the first word, else the only one of the two words the answer contains;
- numbers: the first number (digits, or a number word up to twenty), with its unit when given
  (metres, centimetres, millimetres, feet, inches; degrees, radians; square metres / feet),
  converted to the question's unit; a number without unit is taken in the question's unit.
  Thousands separators: a comma, or one kind of space (plain, thin U+2009, narrow no-break U+202F,
  no-break U+00A0), between groups of three digits after a first group of 1-3 digits not starting
  with 0 (``1,250`` and ``1 250`` are 1250, ``12,500.5`` is 12500.5). Any other comma between
  digits is a decimal comma (``0,8`` and ``1,25``, ``0,800``, ``1,2500``). Conversions between
  metric units are exact (``130 cm`` is read as the same float as ``1.3`` m).

Grounded answers (``synth.core.records.GROUNDED``; issue #33): abstention phrasing in the final
answer abstains, as above; else the coordinates, taken as given in the convention the item names
(``prompt`` states it), are read from the final answer, else (a JSON block over several lines)
from all that follows the last "Answer:" mark, else the ``\boxed{...}``, else the whole reply
after its reasoning:

- coordinates (boxes, points): the last bracketed run of numbers holding as many as the type has
  (4, 2, 9, 3: ``grounding.LENGTHS``), or a list of such groups, of which the first is taken:
  plain lists (``[x1, y1, x2, y2]``), Qwen2.5-VL's JSON (``[{"bbox_2d": [...], "label": ...}]``,
  ``{"point_2d": [...]}``), Qwen2-VL's ``(x1,y1),(x2,y2)`` (with or without ``<|box_start|>``
  tokens), InternVL's ``<box>[[x1, y1, x2, y2]]</box>``; else exactly that many numbers in the
  final answer (``x=120, y=88``);
- a cognitive map: the last ``{...}`` that reads as JSON or as a Python literal (tuples, single
  quotes) mapping categories to a cell or a list of cells (``grounding.map_cells``).
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction

from synth.core.grounding import LENGTHS, Cells, map_cells
from synth.core.records import GROUNDED
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
_SPACES = " \u2009\u202f\u00a0"  # plain, thin, narrow no-break, no-break space
_NUMBER = re.compile(
    r"(?<![\w.])(?:(?P<sign>-?)(?:"
    r"(?P<comma>[1-9]\d{0,2}(?:,\d{3}(?!\d))+(?:\.\d+)?)"  # 1,250 / 12,500.5: comma-grouped thousands
    rf"|(?P<spaced>[1-9]\d{{0,2}}(?P<sp>[{_SPACES}])\d{{3}}(?!\d)(?:(?P=sp)\d{{3}}(?!\d))*(?:[.,]\d+)?)"  # 1 250,5
    r"|(?P<plain>\d+(?:[.,]\d+)?)"  # 3 / 3.3 / 0,8 (decimal comma)
    r")|(?P<word>" + "|".join(NUMBER_WORDS) + r"))(?![\w])\s*"
    r"(?P<unit>square metres|square meters|square feet|sq\.? ?m|sq\.? ?ft|m\^2|m2|m²|ft²|"
    r"centimetres|centimeters|centimetre|centimeter|cm|millimetres|millimeters|mm|"
    r"metres|meters|metre|meter|m|feet|foot|ft|inches|inch|in\b|"
    r"degrees|degree|deg|°|radians|rad)?",
    re.IGNORECASE,
)
# factor to SI-like base per unit family: length in metres, angle in degrees, area in square metres
# (exact fractions where the factor is a decimal, so "130 cm" reads as the same float as "1.3 m")
_LENGTH = {u: Fraction(f) for u, f in {"m": "1", "cm": "0.01", "mm": "0.001", "ft": "0.3048", "in": "0.0254"}.items()}
_ANGLE = {"deg": Fraction(1), "rad": 180.0 / math.pi}
_AREA = {"m^2": Fraction(1), "ft^2": Fraction("0.09290304")}
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
    coords: tuple[float, ...] | None = None  # a grounded box or point, in the item's convention
    cells: Cells | None = None  # a cognitive map: category -> its cells

    @property
    def understood(self) -> bool:
        return self.abstain or any(v is not None for v in (self.text, self.number, self.coords, self.cells))


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


def _convert(value: Fraction, unit: str | None, target: str) -> float | None:
    unit = _ALIASES.get(unit.lower(), unit.lower()) if unit else None
    if unit is None or not target:
        return float(value)
    for table in (_LENGTH, _ANGLE, _AREA):
        if target in table:
            return float(value * table[unit] / table[target]) if unit in table else None
    return float(value)


def _value(m: re.Match) -> Fraction:
    """The number a ``_NUMBER`` match reads, exactly."""
    if m.group("word"):
        return Fraction(NUMBER_WORDS[m.group("word").lower()])
    if m.group("comma"):
        digits = m.group("comma").replace(",", "")
    elif m.group("spaced"):
        digits = m.group("spaced").replace(m.group("sp"), "").replace(",", ".")
    else:
        digits = m.group("plain").replace(",", ".")
    return Fraction(m.group("sign") + digits)


def parse_number(reply: str, unit: str) -> float | None:
    """The first number in ``reply`` that carries no unit or one convertible to ``unit``."""
    for m in _NUMBER.finditer(reply):
        found_unit = m.group("unit")
        if found_unit and found_unit.lower() == "in" and unit not in _LENGTH:
            found_unit = None  # "in" as a preposition
        converted = _convert(_value(m), found_unit, unit)
        if converted is not None:
            return converted
    return None


_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
# "Answer:", "**Final Answer:**" (the answer on the rest of the line or the next); "the answer is B"
_ANSWER_MARK = re.compile(r"\banswer[*_]*(?:\s+is\b)?\s*[:：]|\banswer[*_]*\s+is\b(?=[^\w\n]*\w)", re.IGNORECASE)
_LATEX = (
    (re.compile(r"\\(?:text|textbf|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}"), r"\1"),  # \text{ m} -> " m"
    (re.compile(r"\^\s*\{?\s*\\circ\s*\}?"), "°"),  # 90^\circ -> 90°
    (re.compile(r"\\[,;:]"), "\u2009"),  # 1\,250 -> a thin space
    (re.compile(r"\{,\}"), ","),  # 0{,}8 -> 0,8
)
_DECORATION = " \t*_`$"  # markdown emphasis, code and math marks around an answer


def _last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` in ``text`` (braces balanced; to the end if unclosed)."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, begin = 1, start + len("\\boxed{")
    for i in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[begin:i]
    return text[begin:]


def _after_reasoning(reply: str) -> str | None:
    """What ``reply`` says after its last ``</think>``; None where a ``<think>`` is never closed
    (the reply was cut off before answering)."""
    text = reply or ""
    if _THINK_CLOSE in text:
        text = text.rsplit(_THINK_CLOSE, 1)[1]
    return None if _THINK_OPEN in text else text


def final_answer(reply: str) -> str:
    """The part of ``reply`` that states its final answer (see the module docstring); "" when the
    reply was cut off while reasoning or says nothing."""
    text = _after_reasoning(reply)
    if text is None:
        return ""
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        first, *more = text[marks[-1].end() :].split("\n")
        if first.strip(_DECORATION):  # kept as "Answer: ...": "the answer is B because ..." reads B
            answer = f"Answer: {first.strip(_DECORATION)}"
        else:
            answer = next((ln for ln in more if ln.strip(_DECORATION)), "")
    elif (boxed := _last_boxed(text)) is not None:
        answer = boxed
    else:
        answer = next((ln for ln in reversed(text.splitlines()) if ln.strip()), "")
    answer = _last_boxed(answer) or answer
    for pattern, repl in _LATEX:
        answer = pattern.sub(repl, answer)
    return answer.strip(_DECORATION)


def marked_answer(reply: str) -> bool:
    r"""Whether ``reply`` marks its final answer ("Answer: ...", "the answer is ...", or
    ``\boxed{...}``) after any reasoning, which it closed (``</think>``), rather than leaving the
    reader to take its last line."""
    text = _after_reasoning(reply)
    return text is not None and (bool(_ANSWER_MARK.search(text)) or _last_boxed(text) is not None)


# a bracketed run of numbers: "[1, 2, 3, 4]", "(1,2),(3,4)", "[[1, 2, 3, 4]]"; its innermost groups
_RUN = re.compile(r"[\[(][-+\d\s.,\[\]()]*")
_GROUP = re.compile(r"[\[(]([^\[\]()]*)[\])]")
_COORD = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w])")
_MAP = re.compile(r"\{[^{}]*\}")


def _coords(text: str, n: int, bare: bool) -> tuple[float, ...] | None:
    """The ``n`` coordinates ``text`` gives in brackets (module docstring), or None; ``bare``: else
    its numbers, where it has exactly ``n``."""
    found = None
    for run in _RUN.finditer(text):
        numbers = _COORD.findall(run.group())
        groups = [_COORD.findall(g) for g in _GROUP.findall(run.group())]
        if len(numbers) == n:
            found = numbers
        elif len(groups) > 1 and all(len(g) == n for g in groups):
            found = groups[0]
    if found is None and bare and len(numbers := _COORD.findall(text)) == n:
        found = numbers
    return None if found is None else tuple(float(x) for x in found)


def _cells(text: str) -> Cells | None:
    """The last cognitive map ``text`` writes as JSON or a Python literal, or None."""
    for block in reversed(_MAP.findall(text)):
        for read in (json.loads, ast.literal_eval):
            try:
                cells = map_cells(read(block))
            except (ValueError, SyntaxError, RecursionError):
                continue
            if cells:
                return cells
    return None


def _answer_block(reply: str) -> str:
    r"""Where a grounded answer written over several lines is read: all that follows the last
    answer mark, else the last ``\boxed{...}``, else the reply after its reasoning ("" if cut off)."""
    text = _after_reasoning(reply)
    if text is None:
        return ""
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        return text[marks[-1].end() :]
    boxed = _last_boxed(text)
    return text if boxed is None else boxed


def _grounded(reply: str, qa: QA) -> Parsed:
    """A grounded answer (module docstring): an abstention, else the coordinates or map of the
    final answer, else those of the answer block."""
    answer = final_answer(reply)
    if ABSTENTION_PATTERNS.search(answer):
        return Parsed(abstain=True)
    if qa.answer_type == "cognitive map":
        return Parsed(cells=_cells(answer) or _cells(_answer_block(reply)))
    n = LENGTHS[qa.answer_type]
    return Parsed(coords=_coords(answer, n, bare=True) or _coords(_answer_block(reply), n, bare=False))


def parse(reply: str, qa: QA) -> Parsed:
    """The answer ``reply`` gives to ``qa``, read from its final answer (see the module docstring)."""
    if qa.answer_type in GROUNDED:
        return _grounded(reply, qa)
    reply = final_answer(reply).strip()
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
