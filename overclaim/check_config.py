"""Settings of ``overclaim check`` from ``.overclaim.toml`` or the ``[tool.overclaim]`` table of ``pyproject.toml``.

The file is found like ruff's and black's: in the current directory or the nearest one above it, where a
``.overclaim.toml`` (its keys at the top level) wins over a ``pyproject.toml`` that has a ``[tool.overclaim]`` table.
Options given on the command line override the file.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from overclaim.check import CheckError, validate_codes

FORMATS = ("text", "json", "sarif")
FAIL_ON = ("review", "block")
# Each key, and the kind of value it takes.
KEYS = {"fail-on": str, "select": list, "ignore": list, "policy": str, "format": str, "exclude": list}


@dataclass(frozen=True)
class CheckConfig:
    """Settings read from a file (``path``), with paths in ``exclude`` relative to its directory."""

    path: Path | None = None
    fail_on: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    policy: str | None = None
    format: str | None = None
    exclude: tuple[str, ...] = ()

    def excludes(self, path: str | Path) -> bool:
        """Whether ``path`` matches an ``exclude`` glob (``*`` also crosses ``/``), taken from the file's folder."""
        if not self.exclude or self.path is None:
            return False
        absolute = Path(path).resolve()
        try:
            relative = absolute.relative_to(self.path.parent.resolve()).as_posix()
        except ValueError:
            relative = absolute.as_posix()
        return any(fnmatch(relative, pattern) for pattern in self.exclude)


def find_config(start: str | Path | None = None) -> Path | None:
    """The nearest ``.overclaim.toml``, or ``pyproject.toml`` with a ``[tool.overclaim]`` table, from ``start`` up."""
    folder = Path(start or Path.cwd()).resolve()
    for directory in (folder, *folder.parents):
        if (directory / ".overclaim.toml").is_file():
            return directory / ".overclaim.toml"
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "overclaim" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise CheckError(f"{path}: not valid TOML ({error}); fix the file or remove it") from None
    except OSError as error:
        raise CheckError(f"{path}: cannot read: {error.strerror}") from None


def load_config(path: str | Path | None = None) -> CheckConfig:
    """The settings of the file at ``path``, or of the one :func:`find_config` finds; empty settings if none."""
    path = Path(path) if path else find_config()
    if path is None:
        return CheckConfig()
    table = _read(path)
    where = str(path)
    if path.name == "pyproject.toml":
        table, where = table.get("tool", {}).get("overclaim", {}), f"{path} [tool.overclaim]"
    for key, value in table.items():
        if key not in KEYS:
            raise CheckError(f"{where}: unknown key {key!r}; known keys: {', '.join(KEYS)}")
        if not isinstance(value, KEYS[key]) or (KEYS[key] is list and not all(isinstance(v, str) for v in value)):
            kind = "a list of strings" if KEYS[key] is list else "a string"
            raise CheckError(f"{where}: {key} must be {kind}, got {value!r}")
    for key, choices in (("fail-on", FAIL_ON), ("format", FORMATS)):
        if key in table and table[key] not in choices:
            raise CheckError(f"{where}: {key} must be one of {', '.join(choices)}, got {table[key]!r}")
    policy = table.get("policy")
    if policy and policy.endswith(".toml"):
        policy = str(path.parent / policy)  # a policy file is found beside the settings that name it
    return CheckConfig(path=path, fail_on=table.get("fail-on"), policy=policy,
                       format=table.get("format"), exclude=tuple(table.get("exclude", ())),
                       select=validate_codes(table.get("select", ()), f"{where} select"),
                       ignore=validate_codes(table.get("ignore", ()), f"{where} ignore"))
