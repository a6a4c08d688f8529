"""Escaping text for every output, and checking that an HTML output stayed inert.

Case files, cohort tables, URL parameters, widget text and trainee ids may be written by an
adversary. Wherever such text becomes part of an output it goes through one of these:

* :func:`html_text`: HTML (``<``, ``>``, ``&`` and both quotes escaped);
* :func:`markdown_text`: Markdown, on one line, with every character that has inline meaning
  backslash-escaped (so no emphasis, link, image, raw HTML, table cell or math can form, and a
  ``javascript:`` link cannot either);
* :func:`markdown_code`: an identifier as a Markdown code span, whose fence the text can never
  close;
* :func:`plot_label`: a matplotlib label, on one line, with ``$`` escaped so that mathtext is
  never parsed, and cut to a readable length;
* :func:`one_line`: a terminal or text line, with line breaks turned into spaces and every other
  control character shown as an escape, so one message is always one line and no escape
  sequence reaches the terminal.

:func:`find_active_markup` is the one check shared by the conference report and the referral
summary: it parses HTML and lists scripts, event handlers, and external ``src``/``href``
values **in tags and attributes** (escaped text that merely mentions ``https://`` or
``<script>`` is fine).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from kdsupport.errors import KdsupportError

__all__ = [
    "html_text",
    "markdown_text",
    "markdown_code",
    "plot_label",
    "one_line",
    "spreadsheet_cell",
    "find_active_markup",
    "require_inert_html",
    "UnsafeOutputError",
]

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u2028\u2029]")
# Line breaks and tabs (a run becomes one space; runs of plain spaces are kept).
_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")
# Markdown characters with inline meaning (CommonMark lets any ASCII punctuation be escaped).
# '(' ')' '!' need no escape once '[' and ']' are escaped; '#' and list markers only act at the
# start of a line, which escaped text never is (it is always one line inside a sentence).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>|~&$:])")


_BLOCK_START = re.compile(r"^([#>+=\-])")
_ORDERED_START = re.compile(r"^([0-9]{1,9})([.)])")


def html_text(value: Any) -> str:
    """Any value as HTML text (None is the empty string)."""
    return html.escape("" if value is None else str(value), quote=True)


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}" if ord(match.group()) < 256 else "\\u2028"


def one_line(value: Any, *, max_chars: int | None = None) -> str:
    """Text on one line: line breaks become one space, other controls become escapes."""
    text = _BREAKS.sub(" ", "" if value is None else str(value)).strip()
    text = _CONTROL.sub(_escape_control, text)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(1, max_chars - 1)].rstrip() + "…"
    return text


def markdown_text(value: Any, *, max_chars: int | None = None) -> str:
    """Text for Markdown: one line, inline syntax escaped, so it can only ever be text.

    A block marker at the start (``#``, ``>``, ``-``, ``+``, ``=``, ``1.``) is escaped too, so
    the text stays a paragraph even where it starts a line.
    """
    text = _MARKDOWN.sub(r"\\\1", one_line(value, max_chars=max_chars))
    text = _BLOCK_START.sub(r"\\\1", text)
    return _ORDERED_START.sub(r"\1\\\2", text)


def markdown_code(value: Any, *, max_chars: int | None = None) -> str:
    """Text as a Markdown code span (shown literally; nothing inside a code span is markup).

    The fence is one backtick longer than the longest run of backticks in the text, so the
    text can never close the span early.
    """
    text = one_line(value, max_chars=max_chars)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plot_label(value: Any, *, max_chars: int = 40) -> str:
    """Text for a matplotlib label: one line, no mathtext, at most ``max_chars`` characters."""
    label = one_line(value).replace("$", r"\$")  # matplotlib treats every \$ as a plain $
    if len(label) > max_chars:
        label = label[: max(1, max_chars - 1)].rstrip() + "…"
    return label


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show as text, never run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'`` (the OWASP advice for CSV injection); other values are returned unchanged.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# ---------------------------------------------------------------- the inert-HTML check
class UnsafeOutputError(KdsupportError):
    """An output would contain active markup; nothing was written."""

    def __init__(self, what: str, findings: list[str]):
        self.what = what
        self.findings = list(findings)
        super().__init__(what, self.findings)

    def __str__(self) -> str:
        shown = "; ".join(self.findings[:3])
        more = f" (and {len(self.findings) - 3} more)" if len(self.findings) > 3 else ""
        return f"{self.what} would contain active markup, so it was not written: {shown}{more}"


_FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "link",
    "form",
    "template",
    "portal",
}
_URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "srcset",
    "poster",
    "background",
    "data",
    "ping",
    "lowsrc",
    "dynsrc",
    "manifest",
    "codebase",
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_INLINE_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.IGNORECASE)
_CSS_ACTIVE = re.compile(r"url\s*\(|@import|expression\s*\(|behavior\s*:", re.IGNORECASE)


def _external(name: str, value: str) -> bool:
    """Whether a URL attribute value points outside the document (or runs code)."""
    v = re.sub(r"[\s\x00-\x1f]+", "", value)
    if name in ("src", "srcset", "poster", "lowsrc") and _INLINE_IMAGE.match(v):
        return False
    return v.startswith("//") or v.startswith("\\") or bool(_SCHEME.match(v))


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self._in_style = False

    def _note(self, what: str) -> None:
        line, col = self.getpos()
        self.findings.append(f"line {line}, column {col + 1}: {one_line(what, max_chars=80)}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _FORBIDDEN_TAGS:
            self._note(f"<{tag}> element")
        if tag == "meta" and any(name == "http-equiv" for name, _ in attrs):
            self._note("<meta http-equiv> element")
        self._in_style = tag == "style"
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self._note(f"event handler {name}= on <{tag}>")
            elif name in _URL_ATTRIBUTES and _external(name, value):
                self._note(f"external or script link {name}={value[:40]!r} on <{tag}>")
            elif name == "style" and _CSS_ACTIVE.search(value):
                self._note(f"style attribute loading or running something on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and _CSS_ACTIVE.search(data):
            self._note("style sheet loading or running something")

    def handle_pi(self, data: str) -> None:
        self._note("processing instruction")


def find_active_markup(document: str) -> list[str]:
    """Every script, event handler or external/script link in an HTML document's markup.

    Text content is not inspected (escaped text is inert); only elements, attributes and
    style sheets are. An empty list means the document loads and runs nothing.
    """
    inspector = _Inspector()
    inspector.feed(document)
    inspector.close()
    return inspector.findings


def require_inert_html(document: str, *, what: str) -> str:
    """``document`` unchanged if :func:`find_active_markup` finds nothing; else raise.

    Raises
    ------
    UnsafeOutputError
        Listing what was found, so that nothing active is ever written.
    """
    findings = find_active_markup(document)
    if findings:
        raise UnsafeOutputError(what, findings)
    return document
