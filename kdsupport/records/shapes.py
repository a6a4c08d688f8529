"""Tolerant readers of a parsed record: its lists of mappings and its numbers.

Wrong types are the model's to report; these readers skip them.

For training and case conferences with synthetic patients; not a medical device.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

__all__ = ["is_number", "items_of"]


def is_number(v: Any) -> TypeGuard[int | float]:
    """Whether ``v`` is a number (a bool is not)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def items_of(data: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each (index, mapping) of the list at ``data[key]``, skipping what is not a mapping."""
    value = data.get(key)
    if isinstance(value, list):
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                yield i, entry
