"""Markdown helpers for the generated documentation (Python-Markdown as configured in ``mkdocs.yml``).

Text from claims and evidence (statements, details, audit messages) is inserted as *literal* text:
:func:`text` turns every character that Markdown or its extensions could read as markup into an HTML
character reference.  Backslash escapes are not used on purpose: with a math extension such as
``pymdownx.arithmatex``, ``\\(``, ``\\[`` and ``$`` would open mathematics.

Mathematics is rendered when the page is generated (:func:`math_inline`: LaTeX to MathML with
``latex2mathml``, the ``docs`` extra), so the site needs no JavaScript, web font or network to show it:
every current browser draws MathML itself (MathML Core: Chromium 109+, Firefox, Safari).
"""
from __future__ import annotations

import re

# characters that start markup anywhere in a line: emphasis, code, links, math, tables, HTML, attr lists
_ALWAYS = {
    "\\": "&#92;", "`": "&#96;", "*": "&#42;", "[": "&#91;", "]": "&#93;", "$": "&#36;", "|": "&#124;",
    "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;",
}
_ALWAYS_RE = re.compile("[" + re.escape("".join(_ALWAYS)) + "]")
# an underscore is emphasis only at a word boundary (Python-Markdown ignores intra-word underscores)
_UNDERSCORE_RE = re.compile(r"(?<!\w)_|_(?!\w)")
# block markup at the start of a paragraph or line: headings, lists, quotes, rules
_LINE_START_RE = re.compile(r"^(\s*)([#+\-]|\d+(?=[.)]))", re.MULTILINE)


def text(value: object, block: bool = False) -> str:
    """``value`` as literal Markdown text: whitespace runs collapsed, markup characters escaped.

    ``block=True`` when the text starts a block (a paragraph, list item or quote), where a leading
    ``#``, ``-``, ``+`` or ``1.`` would start a heading or a list.
    """
    s = " ".join(str(value).split())
    s = s.replace("&", "&amp;")
    s = _ALWAYS_RE.sub(lambda m: _ALWAYS[m.group(0)], s)
    s = _UNDERSCORE_RE.sub("&#95;", s)
    if block:
        s = _LINE_START_RE.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)), s)
    return s


def code(value: object) -> str:
    """An inline code span holding ``value`` verbatim (longer backtick fences if it contains backticks)."""
    s = " ".join(str(value).split())
    fence = "`"
    while fence in s:
        fence += "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A Markdown table; cells must already be Markdown (use :func:`text`); ``align``: one of ``lcr`` per column."""
    align = align or "l" * len(headers)
    if len(align) != len(headers) or any(len(r) != len(headers) for r in rows):
        raise ValueError("every row and the alignment must have one entry per header")
    rule = {"l": ":--", "c": ":-:", "r": "--:"}
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(c.replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def front_matter(**fields: str | list[str]) -> str:
    """YAML front matter (mkdocs reads ``title`` for the navigation, material ``hide``); values are
    double-quoted strings or lists of them."""

    def quote(value: str) -> str:
        escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'

    lines = ["---"]
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            lines.append(f"{key}:")
            lines += [f"  - {quote(v)}" for v in value]
        else:
            lines.append(f"{key}: {quote(value)}")
    lines.append("---")
    return "\n".join(lines)


def math_inline(latex: str) -> str:
    """Inline mathematics: ``latex`` as a MathML ``<math display="inline">`` element, ready for Markdown.

    Converted by ``latex2mathml`` (``pip install 'invariants[docs]'``); the browser renders MathML
    natively, offline.  Characters Markdown could read as markup (``* _ ` [ ] \\ | $``) are written as
    character references inside the element (a ``|`` would otherwise split a table cell).

    Raises:
        FiguresUnavailable: latex2mathml is not installed (the same ``docs`` extra as the figures).
    """
    try:
        from latex2mathml.converter import convert
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from invariants.report.figures import FiguresUnavailable

        raise FiguresUnavailable("the documentation's mathematics needs latex2mathml: "
                                 "pip install -e '.[docs]'") from exc
    mathml = convert(latex, display="inline")
    # the namespace is implied in HTML; dropping it keeps the pages shorter
    mathml = mathml.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "")
    return _MATH_TEXT_RE.sub(lambda m: "".join(_MATH_ESCAPES.get(c, c) for c in m.group(0)), mathml)


_MATH_ESCAPES = {c: f"&#{ord(c)};" for c in "*_`[]\\|$"}
# text between two tags of the MathML element
_MATH_TEXT_RE = re.compile(r"(?<=>)[^<]+(?=<)")


def g(x: float | None, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (``-`` for None); deterministic formatting."""
    if x is None:
        return "-"
    return format(float(x), f".{digits}g")
