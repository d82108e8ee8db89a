"""A small, safe Markdown subset for repository READMEs, as pure functions (text in, HTML out).

Supported: ATX headings (`#`..`######`), paragraphs, fenced code blocks, `inline code`,
`**strong**`, `*emphasis*`, `[links](https://...)`, and `-`/`*`/`1.` lists. Not supported, on
purpose: raw HTML (every `<` is shown as text), images (no outside request from a page), and
any link scheme but http, https, mailto and paths on this hub. Every link gets
`rel="noopener nofollow"`.
"""

from __future__ import annotations

import re
from html import escape

__all__ = ["render_markdown"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_ORDERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
# Applied to already escaped text, so `&`, `<`, `>` and quotes are entities by now.
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EMPHASIS = re.compile(r"(?<![*\w])\*(?=\S)(.+?)(?<=\S)\*(?![*\w])")
_SAFE_URL = re.compile(r"^(https?://|mailto:|/(?!/)|#)", re.IGNORECASE)


def _link(match: re.Match[str]) -> str:
    text, url = match.group(1), match.group(2)
    if not _SAFE_URL.match(url):
        return match.group(0)  # shown as written: no `javascript:` or `data:` links
    return f'<a href="{url}" rel="noopener nofollow">{text}</a>'


def _inline(text: str) -> str:
    """Inline markup of one escaped line; code spans are kept out of the other rules."""
    pieces = _CODE.split(escape(text, quote=True))
    out = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(f"<code>{piece}</code>")
            continue
        piece = _LINK.sub(_link, piece)
        piece = _STRONG.sub(r"<strong>\1</strong>", piece)
        piece = _EMPHASIS.sub(r"<em>\1</em>", piece)
        out.append(piece)
    return "".join(out)


def render_markdown(text: str) -> str:
    """HTML for a README: block structure, then inline markup, with all input escaped.

    Args:
        text: the Markdown source (untrusted).

    Returns:
        HTML with no element or attribute the source did not get from the supported subset.
    """
    html: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    code: list[str] | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            html.append("<p>" + " ".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            body = "".join(f"<li>{item}</li>" for item in items)
            html.append(f"<{list_tag}>{body}</{list_tag}>")
            items.clear()
            list_tag = ""

    for line in text.replace("\r\n", "\n").split("\n"):
        if code is not None:
            if _FENCE.match(line):
                html.append("<pre><code>" + escape("\n".join(code)) + "</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        if _FENCE.match(line):
            flush()
            code = []
            continue
        if not line.strip():
            flush()
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            # Page structure owns h1; README headings start one level lower.
            level = min(len(heading.group(1)) + 1, 6)
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            continue
        bullet, ordered = _BULLET.match(line), _ORDERED.match(line)
        if bullet or ordered:
            tag = "ul" if bullet else "ol"
            if paragraph or (items and list_tag != tag):
                flush()
            list_tag = tag
            items.append(_inline((bullet or ordered).group(1)))  # type: ignore[union-attr]
            continue
        if items:
            flush()
        paragraph.append(line.strip())
    if code is not None:
        html.append("<pre><code>" + escape("\n".join(code)) + "</code></pre>")
    flush()
    return "\n".join(html)
