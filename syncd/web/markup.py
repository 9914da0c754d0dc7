"""Safe HTML/SVG building: text is escaped unless it is already `Markup` built by these helpers.

A page is assembled from `element(...)` calls, so no string from the store or the query ever
reaches the output unescaped; there are no templates to forget an escape in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape


class Markup(str):
    """A string that is already safe HTML (built by `element`, `join` or `raw`)."""

    __slots__ = ()


def esc(value: object) -> Markup:
    """`value` as safe text: Markup stays as it is, anything else is escaped (quotes included)."""
    if isinstance(value, Markup):
        return value
    return Markup(escape(str(value), quote=True))


def raw(trusted: str) -> Markup:
    """Mark a constant string written in this package (CSS, a doctype) as safe. Never store data."""
    return Markup(trusted)


_VOID = frozenset({"meta", "link", "input", "br", "hr", "img"})


def _children(children: Iterable[object]) -> str:
    parts: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int | float):
            parts.append(esc(child))
        elif isinstance(child, Iterable):
            parts.append(_children(child))
        else:
            raise TypeError(f"cannot render {type(child).__name__} as HTML")
    return "".join(parts)


def element(tag: str, attrs: Mapping[str, object] | None = None, *children: object) -> Markup:
    """<tag attrs>children</tag>; attribute values and text children are escaped.

    Attributes whose value is None or False are left out; True renders the bare attribute name.
    """
    rendered = []
    for name, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        rendered.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    opening = f"<{tag}{''.join(rendered)}>"
    if tag in _VOID:
        return Markup(opening)
    return Markup(f"{opening}{_children(children)}</{tag}>")


def join(parts: Iterable[object]) -> Markup:
    return Markup(_children(parts))
