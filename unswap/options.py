"""The options a user sets on a config (``ScanConfig``, ``MatchConfig``, ``HashConfig``),
each declared once.

An ``Option`` says its type, bounds and help; ``Options`` binds a config's options to the
config class, which checks itself against them in ``__post_init__``. The CLI's flags, the
service's form fields and its OpenAPI schema are made from them, so every front end takes
the same values and refuses the rest with one ``OptionError`` and the same message.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Option", "OptionError", "Options"]


class OptionError(ValueError):
    """An option a user gave that its config cannot take; ``str()`` is one line, the same
    whether the option came from the config's constructor, a CLI flag or a request's form
    field."""


@dataclass(frozen=True)
class Option:
    """One user-settable config field: its type, bounds and help, declared once.

    ``name`` is what users see: the CLI flag (``--name``), the form field and the messages
    say it. ``attr`` is the config's field, where it has another name. A bool's ``help``
    says what true does, starting with a verb; one that defaults to true has the CLI flag
    ``--no-name``. The default is the config field's, filled in by ``Options``.
    """

    name: str
    kind: type  # str, bool, int or float
    help: str
    minimum: float | None = None
    maximum: float | None = None  # None: no upper bound
    above: bool = False  # the minimum itself is refused
    optional: bool = False  # None (not set) is allowed
    choices: Callable[[], list[str]] | None = None
    attr: str = ""  # the config's field; "" for ``name``
    default: Any = None

    def __post_init__(self) -> None:
        if not self.attr:
            object.__setattr__(self, "attr", self.name)

    @property
    def flag(self) -> str:
        """The CLI flag: ``--name``, or for a bool that defaults to true ``--no-name``."""
        negated = self.kind is bool and self.default is True
        return ("--no-" if negated else "--") + self.name.replace("_", "-")

    @property
    def rule(self) -> str:
        """What a value must be, in words: the message of a refused value."""
        if self.choices is not None:
            return f"{self.name} must be one of: {', '.join(self.choices())}"
        if self.kind is bool:
            return f"{self.name} must be true or false"
        what = "a whole number" if self.kind is int else "a number"
        low = _number(self.minimum)
        if self.maximum is None:
            return f"{self.name} must be {what} {'above' if self.above else 'of at least'} {low}"
        high = _number(self.maximum)
        if self.above:
            return f"{self.name} must be {what} above {low} and at most {high}"
        return f"{self.name} must be {what} from {low} to {high}"

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if self.choices is not None:
            return isinstance(value, str) and value in self.choices()
        if self.kind is bool or isinstance(value, bool):
            return self.kind is bool and isinstance(value, bool)
        if not isinstance(value, int if self.kind is int else (int, float)):
            return False
        if not math.isfinite(value) or (self.maximum is not None and value > self.maximum):
            return False
        return value > self.minimum if self.above else value >= self.minimum

    def from_text(self, text: Any) -> Any:
        """The value a CLI argument or a form field means; text that is no value of the
        option's type (and a value that is not text) is returned as it is, for the config
        to refuse with the rule."""
        if not isinstance(text, str):
            return text
        t = text.strip()
        try:
            if self.kind is bool:
                return {"true": True, "false": False}[t]
            if self.kind is int:
                return int(t) if re.fullmatch(r"[+-]?[0-9]+", t) else text
            if self.kind is float:
                return float(t) if re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", t) else text
        except KeyError:
            return text
        return text

    def json_schema(self) -> dict[str, Any]:
        """The option as an OpenAPI form field."""
        if self.choices is not None:
            return {"type": "string", "enum": self.choices(), "description": self.help}
        if self.kind is bool:
            return {"type": "boolean", "description": self.help}
        out: dict[str, Any] = {"type": "integer" if self.kind is int else "number", "description": self.help}
        out["exclusiveMinimum" if self.above else "minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class Options:
    """A config class's options, in order: iterating gives each ``Option``, indexing by
    name finds one. Made once, beside the config, whose ``__post_init__`` calls ``check``."""

    def __init__(self, config: type, *options: Option):
        defaults = {f.name: f.default for f in dataclasses.fields(config)}
        self.config = config
        self._by_name = {o.name: dataclasses.replace(o, default=defaults[o.attr]) for o in options}

    def __iter__(self) -> Iterator[Option]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __getitem__(self, name: str) -> Option:
        return self._by_name[name]

    def check(self, config: Any) -> None:
        """Raise OptionError naming the first option of ``config`` outside its rule."""
        for option in self:
            if not option.accepts(getattr(config, option.attr)):
                raise OptionError(option.rule)

    def parse(self, texts: Mapping[str, Any]) -> dict[str, Any]:
        """The config's keyword arguments that option texts (a CLI's arguments, a form's
        fields, by option name) ask for, checked by the config itself; OptionError for a
        name that is no option or a value outside its rule."""
        unknown = sorted(set(texts) - set(self._by_name))
        if unknown:
            raise OptionError(f"unknown option {unknown[0]!r} (options: {', '.join(self._by_name)})")
        values = {self[name].attr: self[name].from_text(text) for name, text in texts.items()}
        self.config(**values)
        return values

    def json_schema(self) -> dict[str, dict[str, Any]]:
        """The options as OpenAPI form fields, by name."""
        return {o.name: o.json_schema() for o in self}
