"""Patterns stage: masking, template mining, pattern sets and their history."""

from loglens.patterns.masking import DEFAULT_MASKS, Masker, MaskRule
from loglens.patterns.miner import MinerConfig, PatternMiner, bucket_ns_for_window, mine_messages
from loglens.patterns.overrides import OverrideAction, Overrides, PatternRule, load_overrides
from loglens.patterns.patternset import Pattern, PatternSet, merge_all, pattern_id
from loglens.patterns.store import PatternStore

__all__ = [
    "DEFAULT_MASKS",
    "MaskRule",
    "Masker",
    "MinerConfig",
    "OverrideAction",
    "Overrides",
    "Pattern",
    "PatternMiner",
    "PatternRule",
    "PatternSet",
    "PatternStore",
    "bucket_ns_for_window",
    "load_overrides",
    "merge_all",
    "mine_messages",
    "pattern_id",
]
