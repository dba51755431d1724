"""Markdown → safe HTML, with one allow-list shared by the player and the forum.

Course text is data, never code: raw HTML in Markdown is escaped (``html``
off), and links may only use http(s), mailto or relative targets. Images may
only point into the course's ``media/`` folder so packages stay self-contained.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token

_SAFE_LINK = re.compile(r"^(https?://|mailto:|#|media/)", re.IGNORECASE)
_SAFE_IMAGE = re.compile(r"^media/[A-Za-z0-9._/-]+$")


def _validate_link(url: str) -> bool:
    return bool(_SAFE_LINK.match(url.strip()))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["html_block", "html_inline"])
    md.enable(["table", "strikethrough"])
    md.validateLink = _validate_link  # type: ignore[method-assign]
    # Links leave the course: open them outside the player and do not leak the referrer.
    default_link_open = md.renderer.rules.get("link_open")

    def link_open(tokens: list[Token], idx: int, options, env) -> str:  # type: ignore[no-untyped-def]
        href = tokens[idx].attrGet("href") or ""
        if href.lower().startswith(("http://", "https://")):
            tokens[idx].attrSet("rel", "noopener noreferrer")
            tokens[idx].attrSet("target", "_blank")
        if default_link_open is None:
            return md.renderer.renderToken(tokens, idx, options, env)
        return default_link_open(tokens, idx, options, env)

    md.renderer.rules["link_open"] = link_open
    default_image = md.renderer.rules["image"]

    def image(tokens: list[Token], idx: int, options, env) -> str:  # type: ignore[no-untyped-def]
        # Only the course's own media: a remote image would leak the reader's IP and
        # break offline packages, so it is shown as its alt text instead.
        if not is_safe_image(tokens[idx].attrGet("src") or ""):
            alt = "".join(c.content for c in (tokens[idx].children or []))
            return escape(alt)
        return default_image(tokens, idx, options, env)

    md.renderer.rules["image"] = image
    return md


@lru_cache(maxsize=1)
def _inspector() -> MarkdownIt:
    """The same Markdown dialect, but every link target is kept, so the loader sees each image an author
    wrote, including those the renderer would drop (``/etc/passwd``, ``file:``, remote URLs) and can refuse them."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["html_block", "html_inline"])
    md.enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to insert into the player or a forum page."""
    return _parser().render(text)


def image_tokens(text: str) -> list[tuple[str, str, int]]:
    """Every image in ``text`` as ``(src, alt, line)`` with 1-based line numbers within ``text``."""
    found: list[tuple[str, str, int]] = []
    for token in _inspector().parse(text):
        if token.type != "inline" or not token.children:
            continue
        line = (token.map[0] + 1) if token.map else 1
        for child in token.children:
            if child.type == "image":
                alt = "".join(c.content for c in (child.children or []))
                found.append((child.attrGet("src") or "", alt, line))
    return found


def image_sources(text: str) -> list[str]:
    return [src for src, _, _ in image_tokens(text)]


def is_safe_image(src: str) -> bool:
    return bool(_SAFE_IMAGE.match(src)) and ".." not in src.split("/")
