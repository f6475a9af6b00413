"""docs/architecture.md's "Layers" table states exactly the import-linter contract that the
test command enforces (pyproject.toml): same layers, same order, same modules."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _contract_layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["id"] == "layers"]
    return [set(re.split(r"\s*[|:]\s*", layer.strip())) for layer in contract["layers"]]


def _documented_layers() -> list[set[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("| layer (top to bottom) |", 1)[1].split("\n\n", 1)[0]
    layers = []
    for row in table.splitlines()[2:]:
        modules_cell = re.split(r"(?<!\\)\|", row)[2]
        names = re.findall(r"`([^`]+)`", modules_cell)
        layers.append({"phasegate." + name.removesuffix("/").removesuffix(".py") for name in names})
    return layers


def test_the_documented_layers_are_the_enforced_ones() -> None:
    assert _documented_layers() == _contract_layers()


def test_every_module_of_the_package_is_in_a_layer() -> None:
    package = ROOT / "src" / "phasegate"
    top = {
        "phasegate." + p.name.removesuffix(".py")
        for p in package.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    }
    assert top == set().union(*_contract_layers())
