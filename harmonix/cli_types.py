"""The argument parser's parts: one-line usage errors, defaults in help, validated numbers."""

from __future__ import annotations

import argparse

from harmonix.errors import ParameterError


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one :class:`ParameterError` line, like every other bad input."""

    def error(self, message: str):
        raise ParameterError(f"{self.prog}: {message} (see {self.prog} --help)")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written, and every option's default shown unless its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text.lower() or default in (None, False, argparse.SUPPRESS)
                or not action.option_strings or isinstance(default, bool)):
            return text
        return f"{text} (default: %(default)s)"


def _number(kind: type, name: str, *, low: float, inclusive: bool = True):
    """An argparse type: a ``kind`` number >= ``low`` (or > ``low``), with a message naming the bound."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if not (value >= low if inclusive else value > low) or (kind is float and value != value):
            raise argparse.ArgumentTypeError(f"{text}: {name} must be {'>=' if inclusive else '>'} {low:g}")
        return value

    parse.__name__ = name
    return parse


COUNT = _number(int, "a count", low=1)
SEED = _number(int, "a seed", low=0)
SECONDS = _number(float, "a duration in s", low=0, inclusive=False)
HERTZ = _number(float, "a rate in Hz", low=0, inclusive=False)
NON_NEGATIVE = _number(float, "this value", low=0)
__all__ = ["COUNT", "HERTZ", "NON_NEGATIVE", "SECONDS", "SEED", "HelpFormatter", "Parser"]
