"""analysis stage: `analyze`, `compare` and `classify` as library calls over sources or records."""

from loglens.analysis.analyze import analyze, analyze_records
from loglens.analysis.classify import classify, classify_records
from loglens.analysis.compare import compare, compare_records

__all__ = [
    "analyze",
    "analyze_records",
    "classify",
    "classify_records",
    "compare",
    "compare_records",
]
