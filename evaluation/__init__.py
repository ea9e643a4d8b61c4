"""Detection quality from labelled history: recall by pattern strength, precision, false alerts per 10k.

Pure (no Kafka, no files, no clock): ``Evaluator`` takes input events in stream order, the alerts some
run produced for them and the labels of the patterns a risk team knows about, and reports per detector
and per customer segment. ``riskwatch evaluate`` (``offline/evaluate.py``) is the command around it.
"""

from evaluation.labels import LabelError, PatternLabel, parse_label
from evaluation.metrics import Evaluator, Report

__all__ = ["Evaluator", "LabelError", "PatternLabel", "Report", "parse_label"]
