"""The YAML configuration: validated, with errors that name the bad key."""

from __future__ import annotations

import pytest
import yaml

from pipeline.config import ConfigError, NewsbeamConfig, config_from_mapping, default_config_yaml, load_config
from tests.conftest import REPO


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
