"""The pipeline's own settings: one YAML file, validated into typed objects.

Runner settings (`--runner`, `--direct_num_workers`, `--streaming`, ...) are
not here: they go through Beam's `PipelineOptions`. This file holds what the
stages do. Every section is optional; anything left out takes the default
documented in `configs/default.yaml`. Unknown keys are errors, reported with
the path of the bad key, so a typo never silently falls back to a default.

Errors are ConfigError, one line per problem: the dotted key, then a plain
sentence ("entities.batch_sise: unknown key (allowed: tagger, model, ...)",
"output.max_rows_per_file: should be greater than 0 (given: -1)"), never
pydantic's own wording. A relative path in a config file
(`entities.aliases_path`, a model folder in `entities.model`, a subscription
list in `feeds.opml`) is resolved against the folder of that file, and files
a setting names are read and checked when the configuration is loaded, so a
bad one is a ConfigError too.
"""

from __future__ import annotations

import json
import pathlib
import types
from typing import Any, Optional, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transforms.clean import CleanConfig
from transforms.config_paths import CONFIG_DIR
from transforms.dedup import DedupConfig
from transforms.entities import EntitiesConfig
from transforms.entity_normalisation import one_line_yaml_error
from transforms.events import EventsConfig
from transforms.read_feeds import FeedsConfig
from transforms.read_files import ReadConfig
from transforms.watch_folders import WatchConfig
from transforms.write_parquet import OutputConfig


class ConfigError(ValueError):
    """A configuration file that cannot be used, with a message naming the problem.

    `problems`: (dotted key, sentence) for each bad setting, when the settings were
    refused one by one (empty for a file that cannot be read or parsed at all).
    """

    def __init__(self, message: str, problems: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


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


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _without_none(annotation: Any) -> Any:
    """Optional[X] -> X; anything else unchanged."""
    if _is_union(annotation):
        members = [member for member in get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _key_of(loc: tuple) -> tuple[str, Optional[type[BaseModel]], bool]:
    """The dotted key of an error location, the model whose key its last part is, and
    whether that setting may be null.

    Follows the location through the config models: list positions are shown as
    `[0]`, and the tags pydantic adds for the members of a union (`bool`,
    `literal['auto']`) are left out, so every member's complaint lands on one key.
    """
    key = ""
    owner: Optional[type[BaseModel]] = None
    here: Any = NewsbeamConfig
    for part in loc:
        here = _without_none(here)
        if _is_model(here):
            key += f".{part}" if key else str(part)
            owner = here
            field = here.model_fields.get(part) if isinstance(part, str) else None
            here = field.annotation if field is not None else None
        elif isinstance(part, int):
            key += f"[{part}]"
            owner = None
            members = [member for member in get_args(here) if member is not Ellipsis]
            here = members[0] if len(members) == 1 else None
        elif _is_union(here):
            continue  # the tag of a union member
        else:
            key += f".{part}" if key else str(part)
            owner, here = None, None
    nullable = here is not None and _without_none(here) is not here
    return key or "(top level)", owner, nullable


# Sentences for pydantic's error types whose own wording is unclear to a YAML user.
_SENTENCES = {
    "bool_parsing": "should be true or false",
    "bool_type": "should be true or false",
    "int_parsing": "should be a whole number",
    "int_type": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_parsing": "should be a number",
    "float_type": "should be a number",
    "string_type": "should be a string",
    "tuple_type": "should be a list",
    "list_type": "should be a list",
    "dict_type": "should be a mapping",
    "model_type": "should be a mapping of settings",
    "model_attributes_type": "should be a mapping of settings",
    "missing": "required, but missing",
}
_GIVEN_MAX_CHARS = 60


def _given(value: Any) -> str:
    """The refused value as YAML users write it (true, null, "text"), cut short."""
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= _GIVEN_MAX_CHARS else shown[: _GIVEN_MAX_CHARS - 3] + "..."


_SHOULD_BE = "should be "


def _should_be_any(sentences: list[str]) -> str:
    """["should be true or false", "should be 'auto'"] -> "should be true, false or 'auto'"."""
    choices = [choice for sentence in sentences for choice in sentence[len(_SHOULD_BE) :].split(" or ")]
    choices = list(dict.fromkeys(choices))
    return _SHOULD_BE + (", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0])


def _sentence(problem: dict, owner: Optional[type[BaseModel]], nullable: bool) -> tuple[str, bool]:
    """A plain sentence for one pydantic error, and whether the given value helps to read it."""
    kind = problem["type"]
    if kind == "extra_forbidden":
        allowed = f" (allowed: {', '.join(owner.model_fields)})" if owner is not None else ""
        return f"unknown key{allowed}", False
    if kind in ("value_error", "assertion_error"):
        # Our validators' own sentences name the value already.
        cause = problem.get("ctx", {}).get("error")
        text = str(cause) if cause is not None else problem["msg"].split(", ", 1)[-1]
        return text, False
    if kind == "literal_error":
        return f"should be {problem['ctx']['expected']}", True
    if kind in _SENTENCES:
        if kind == "missing":
            return _SENTENCES[kind], False
        return (_should_be_any([_SENTENCES[kind], "should be null"]) if nullable else _SENTENCES[kind]), True
    message = problem["msg"]
    if message.startswith("Input should be "):
        message = _SHOULD_BE + message[len("Input should be ") :]
    elif message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    return message, True


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted key, sentence) per bad setting, in the order pydantic found them."""
    by_key: dict[str, list[tuple[str, bool, Any]]] = {}
    for problem in error.errors():
        key, owner, nullable = _key_of(tuple(problem["loc"]))
        sentence, show_given = _sentence(problem, owner, nullable)
        by_key.setdefault(key, []).append((sentence, show_given, problem.get("input")))
    problems = []
    for key, found in by_key.items():
        sentences = [sentence for sentence, _, _ in found]
        if len(found) > 1 and all(sentence.startswith(_SHOULD_BE) for sentence in sentences):
            sentences = [_should_be_any(sentences)]  # the members of a union
        text = "; ".join(dict.fromkeys(sentences))
        if any(show_given for _, show_given, _ in found):
            text += f" (given: {_given(found[0][2])})"
        problems.append((key, text))
    return problems


def _describe(problems: list[tuple[str, str]], source: str) -> str:
    if len(problems) == 1:
        key, sentence = problems[0]
        return f"invalid configuration in {source}: {key}: {sentence}"
    lines = [f"invalid configuration in {source} ({len(problems)} problems):"]
    lines.extend(f"  {key}: {sentence}" for key, sentence in problems)
    return "\n".join(lines)


def config_from_mapping(
    data: Any, source: str = "<config>", config_dir: str | pathlib.Path | None = None
) -> NewsbeamConfig:
    """Validated settings from parsed YAML.

    `config_dir`: the folder relative paths in the settings are resolved against
    (the config file's; None: the working directory).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"invalid configuration in {source}: the top level must be a mapping of sections "
            f"(allowed: {', '.join(NewsbeamConfig.model_fields)})"
        )
    context = {CONFIG_DIR: pathlib.Path(config_dir).absolute()} if config_dir is not None else None
    try:
        return NewsbeamConfig.model_validate(data, context=context)
    except ValidationError as error:
        problems = _problems(error)
        raise ConfigError(_describe(problems, source), tuple(problems)) from None


def load_config(path: str | pathlib.Path | None) -> NewsbeamConfig:
    """The validated configuration from a YAML file, or all defaults for None.

    Relative paths in the file are resolved against the file's own folder, so a
    config and the files it names can move together.
    """
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
        raise ConfigError(f"configuration {path} is not valid YAML: {one_line_yaml_error(error)}") from None
    return config_from_mapping(data, str(path), config_dir=path.parent)


def default_config_yaml() -> str:
    """Every setting with its default, as YAML (what `configs/default.yaml` holds)."""
    return yaml.safe_dump(NewsbeamConfig().model_dump(mode="json"), sort_keys=False)
