"""User pattern overrides and masks, read from the YAML config file.

The file (``Settings.config_file``) may hold, next to other sections::

    masks:
      - name: order_id
        regex: 'ORD-[A-Z0-9]+'
        replace: '<*>'          # optional, default <*>
    pattern_overrides:
      - template: 'VM <*>'      # keep `VM Started` and `VM Paused` apart
        action: split
      - template: 'user <*> logged in from <*>'
        action: merge           # fold every pattern matching this into one
        name: user-login
      - id: p-91b2c4aa          # name a pattern by its id
        name: db-timeout

In a rule template `<*>` matches any text, including several words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from loglens.errors import ConfigError
from loglens.patterns.masking import WILDCARD, MaskRule


class OverrideAction(StrEnum):
    SPLIT = "split"
    MERGE = "merge"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class PatternRule:
    """One override: split or merge the patterns a template matches, or name a pattern."""

    action: OverrideAction
    template: str | None = None
    pattern_id: str | None = None
    name: str | None = None

    def matches(self, template: str) -> bool:
        return (
            self.template is not None
            and _template_regex(self.template).fullmatch(template) is not None
        )


@dataclass(frozen=True, slots=True)
class Overrides:
    """Everything a user may add to the miner: extra masks and pattern rules."""

    masks: tuple[MaskRule, ...] = ()
    rules: tuple[PatternRule, ...] = ()

    def of(self, action: OverrideAction) -> tuple[PatternRule, ...]:
        return tuple(rule for rule in self.rules if rule.action is action)

    def name_for(self, pattern_id: str, template: str) -> str | None:
        for rule in self.rules:
            if rule.name and (rule.pattern_id == pattern_id or rule.matches(template)):
                return rule.name
        return None


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _template_regex(template: str) -> re.Pattern[str]:
    compiled = _REGEX_CACHE.get(template)
    if compiled is None:
        parts = [re.escape(part) for part in " ".join(template.split()).split(WILDCARD)]
        compiled = re.compile(".+?".join(parts), re.DOTALL)
        _REGEX_CACHE[template] = compiled
    return compiled


def load_overrides(path: Path) -> Overrides:
    """Read masks and pattern overrides from a YAML config file; other sections are ignored."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc}", hint="check LOGLENS_CONFIG_FILE"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return overrides_from_dict(data, origin=str(path))


def overrides_from_dict(data: dict[str, Any], *, origin: str = "config") -> Overrides:
    """Build Overrides from the parsed config mapping (sections `masks`, `pattern_overrides`)."""
    masks = tuple(_mask_rule(item, origin) for item in _list_section(data, "masks", origin))
    rules = tuple(
        _pattern_rule(item, origin) for item in _list_section(data, "pattern_overrides", origin)
    )
    for mask in masks:
        mask.compile()
    return Overrides(masks=masks, rules=rules)


def _list_section(data: dict[str, Any], key: str, origin: str) -> list[dict[str, Any]]:
    section = data.get(key) or []
    if not isinstance(section, list) or not all(isinstance(item, dict) for item in section):
        raise ConfigError(f"{origin}: `{key}` must be a list of mappings")
    return section


def _mask_rule(item: dict[str, Any], origin: str) -> MaskRule:
    if not isinstance(item.get("regex"), str):
        raise ConfigError(f"{origin}: every mask needs a `regex` string, got {item!r}")
    return MaskRule(
        name=str(item.get("name", item["regex"])),
        regex=item["regex"],
        replace=str(item.get("replace", WILDCARD)),
    )


def _pattern_rule(item: dict[str, Any], origin: str) -> PatternRule:
    template = item.get("template")
    pattern_id = item.get("id")
    name = item.get("name")
    default_action = "name" if template is None else "merge"
    try:
        action = OverrideAction(str(item.get("action", default_action)))
    except ValueError as exc:
        raise ConfigError(
            f"{origin}: unknown override action {item.get('action')!r}",
            hint="use split, merge or name",
        ) from exc
    if template is None and pattern_id is None:
        raise ConfigError(f"{origin}: a pattern override needs a `template` or an `id`: {item!r}")
    if action is not OverrideAction.NAME and template is None:
        raise ConfigError(f"{origin}: a {action} override needs a `template`: {item!r}")
    if action is OverrideAction.NAME and name is None:
        raise ConfigError(f"{origin}: a name override needs a `name`: {item!r}")
    return PatternRule(
        action=action,
        template=None if template is None else str(template),
        pattern_id=None if pattern_id is None else str(pattern_id),
        name=None if name is None else str(name),
    )
