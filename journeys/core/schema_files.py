"""Where the packaged schema files are (``journeys.schemas``): quality suites and policy."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def quality_dir() -> Path:
    return Path(str(resources.files("journeys.schemas").joinpath("quality")))


def suite_path(name_or_path: str | Path) -> Path:
    """A suite's JSON file: ``name_or_path`` itself if it is one, else ``schemas/quality/<name>.json``."""
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        return path
    return quality_dir() / f"{name_or_path}.json"
