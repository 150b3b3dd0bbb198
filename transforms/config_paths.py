"""Relative paths in a config file: resolved against that file's folder.

A config and the files it names (alias tables, model folders, subscription
lists) can then move together. `pipeline/config.py` passes the folder in the
validation context; settings built in code have none, and their relative
paths stay relative to the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import ValidationInfo

# Validation context key (`model_validate(data, context={CONFIG_DIR: folder})`): the folder of the
# config file being loaded.
CONFIG_DIR = "config_dir"


def config_dir(info: ValidationInfo) -> Optional[Path]:
    """The folder of the config file being validated, or None when the settings come from code."""
    folder = (info.context or {}).get(CONFIG_DIR)
    return Path(folder) if folder is not None else None


def resolved_path(value: str, info: ValidationInfo) -> Path:
    """`value` against the config file's folder when it is relative and the settings come from a file."""
    folder = config_dir(info)
    path = Path(value).expanduser()
    return folder / path if folder is not None and not path.is_absolute() else path
