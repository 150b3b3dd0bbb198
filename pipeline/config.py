"""The pipeline's own settings: one YAML file, validated into typed objects.

Runner settings (`--runner`, `--direct_num_workers`, `--streaming`, ...) are
not here: they go through Beam's `PipelineOptions`. This file holds what the
stages do. Every section is optional; anything left out takes the default
documented in `configs/default.yaml`. Unknown keys are errors, reported with
the path of the bad key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import pathlib
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transforms.clean import CleanConfig
from transforms.dedup import DedupConfig
from transforms.entities import EntitiesConfig
from transforms.events import EventsConfig
from transforms.read_feeds import FeedsConfig
from transforms.read_files import ReadConfig
from transforms.watch_folders import WatchConfig
from transforms.write_parquet import OutputConfig


class ConfigError(ValueError):
    """A configuration file that cannot be used, with a message naming the problem."""


class NewsbeamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    read: ReadConfig = Field(default_factory=ReadConfig)
    feeds: FeedsConfig = Field(default_factory=FeedsConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    clean: CleanConfig = Field(default_factory=CleanConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    entities: EntitiesConfig = Field(default_factory=EntitiesConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {where}: {problem['msg']}")
    return "\n".join(lines)


def config_from_mapping(data: Any, source: str = "<config>") -> NewsbeamConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"invalid configuration in {source}: the top level must be a mapping of sections")
    try:
        return NewsbeamConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None


def load_config(path: str | pathlib.Path | None) -> NewsbeamConfig:
    """The validated configuration from a YAML file, or all defaults for None."""
    if path is None:
        return NewsbeamConfig()
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read configuration {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"configuration {path} is not valid YAML: {error}") from None
    return config_from_mapping(data, str(path))


def default_config_yaml() -> str:
    """Every setting with its default, as YAML (what `configs/default.yaml` holds)."""
    return yaml.safe_dump(NewsbeamConfig().model_dump(mode="json"), sort_keys=False)
