"""The field's metrics for one answer.

- Accuracy (multiple choice, yes/no, object answers, abstentions): 1 for the expected answer, else 0.
- Mean Relative Accuracy for numbers, as VSI-Bench's reference evaluator computes it: lmms-eval
  0.7.3, ``lmms_eval/tasks/vsibench/utils.py``, ``mean_relative_accuracy`` with ``start=.5,
  end=.95, interval=.05`` (Yang et al., "Thinking in Space", 2024, eq. 1). The mean over the
  confidence thresholds ``numpy.linspace(0.5, 0.95, 10)`` of ``|prediction - truth| / truth <=
  1 - theta``, in float arithmetic as there. An error that lands on a threshold counts where the
  floats land on or under it: 1.3 for 1.0 is 30% off and counts for theta = 0.70 (0.5); 3 for 2
  scores 0.1, 5 for 4 0.6, 1.2 for 1.0 0.7; but 0.39 for 0.3 (0.30000000000000010 > 1 - 0.70 =
  0.30000000000000004) scores 0.4. The paper writes the inequality strictly; published VSI-Bench
  tables come from this code, so synth follows the code, item by item, float rounding included
  (``tests/test_field_vsibench.py`` checks it against the installed lmms-eval).

  synth's extensions, where the reference has no answer: no prediction scores 0 (the reference's
  worst case for an unreadable reply); a truth of 0 (no relative error exists; the reference
  divides by zero) scores 1 only for a prediction of 0; a negative truth is divided by its
  magnitude (the reference divides by the signed truth, which would pass every prediction).
"""

from __future__ import annotations

import numpy as np

THRESHOLDS = np.linspace(0.5, 0.95, 10)  # 0.50, 0.55, ..., 0.95 as lmms-eval computes them


def mean_relative_accuracy(prediction: float | None, truth: float) -> float:
    """VSI-Bench's MRA of one numeric prediction, in [0, 1] by steps of 0.1 (0 for no prediction)."""
    if prediction is None:
        return 0.0
    if truth == 0:
        return 1.0 if prediction == 0 else 0.0
    error = abs(float(prediction) - float(truth)) / abs(float(truth))
    return float(np.mean(error <= 1 - THRESHOLDS))
