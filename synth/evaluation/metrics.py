"""The field's metrics for one answer.

- Accuracy (multiple choice, yes/no, object answers, abstentions): 1 for the expected answer, else 0.
- Mean Relative Accuracy for numbers, as VSI-Bench defines it (Yang et al., "Thinking in Space",
  2024, section 3 / eq. 1): the mean over the confidence thresholds C = {0.50, 0.55, ..., 0.95} of
  the indicator |prediction - truth| / truth < 1 - theta. Relative errors and thresholds are
  compared in exact hundredths-of-a-percent steps, so 30% off counts for theta in 0.50..0.65 (0.4)
  and not for 0.70 (where 1 - 0.70 is 0.30, not more). A truth of 0 (no relative error exists)
  scores 1 only for a prediction of 0.
"""

from __future__ import annotations

from fractions import Fraction

THRESHOLDS = tuple(Fraction(50 + 5 * k, 100) for k in range(10))  # 0.50, 0.55, ..., 0.95


def mean_relative_accuracy(prediction: float | None, truth: float) -> float:
    """VSI-Bench's MRA of one numeric prediction (0 for no prediction)."""
    if prediction is None:
        return 0.0
    if truth == 0:
        return 1.0 if prediction == 0 else 0.0
    # exact decimal arithmetic on the values as written (answers carry two decimals)
    error = abs(Fraction(str(float(prediction))) - Fraction(str(float(truth)))) / abs(Fraction(str(float(truth))))
    return sum(1 for theta in THRESHOLDS if error < 1 - theta) / len(THRESHOLDS)
