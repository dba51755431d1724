"""Markdown → safe HTML, with one allow-list shared by the player and the forum.

Course text is data, never code: raw HTML in Markdown is escaped (``html``
off), and links may only use http(s), mailto or relative targets. Images may
only point into the course's ``media/`` folder so packages stay self-contained.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_SAFE_LINK = re.compile(r"^(https?://|mailto:|#|media/)", re.IGNORECASE)
_SAFE_IMAGE = re.compile(r"^media/[A-Za-z0-9._/-]+$")


class _SafeRenderer(RendererHTML):
    """HTML renderer with the allow-list's rules for links and images (markdown-it picks up these methods as rules)."""

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Links leave the course: open them outside the player and do not leak the referrer.
        href = str(tokens[idx].attrGet("href") or "")
        if href.lower().startswith(("http://", "https://")):
            tokens[idx].attrSet("rel", "noopener noreferrer")
            tokens[idx].attrSet("target", "_blank")
        return self.renderToken(tokens, idx, options, env)

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Only the course's own media: a remote image would leak the reader's IP and
        # break offline packages, so it is shown as its alt text instead.
        if not is_safe_image(str(tokens[idx].attrGet("src") or "")):
            alt = "".join(c.content for c in (tokens[idx].children or []))
            return escape(alt)
        return super().image(tokens, idx, options, env)


class _SafeMarkdown(MarkdownIt):
    """Links may only use http(s), mailto, in-page or media/ targets; anything else stays text."""

    def validateLink(self, url: str) -> bool:
        return bool(_SAFE_LINK.match(url.strip()))


class _InspectingMarkdown(MarkdownIt):
    """Keeps every link target, so the loader sees each image an author wrote (see :func:`_inspector`)."""

    def validateLink(self, url: str) -> bool:
        return True


def _dialect(md: MarkdownIt) -> MarkdownIt:
    md.disable(["html_block", "html_inline"])
    md.enable(["table", "strikethrough"])
    return md


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return _dialect(_SafeMarkdown("commonmark", {"html": False, "linkify": False, "typographer": False}, renderer_cls=_SafeRenderer))


@lru_cache(maxsize=1)
def _inspector() -> MarkdownIt:
    """The same Markdown dialect, but every link target is kept, so the loader sees each image an author
    wrote, including those the renderer would drop (``/etc/passwd``, ``file:``, remote URLs) and can refuse them."""
    return _dialect(_InspectingMarkdown("commonmark", {"html": False, "linkify": False, "typographer": False}))


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to insert into the player or a forum page."""
    html: str = _parser().render(text)
    return html


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
                found.append((str(child.attrGet("src") or ""), alt, line))
    return found


def image_sources(text: str) -> list[str]:
    return [src for src, _, _ in image_tokens(text)]


def is_safe_image(src: str) -> bool:
    return bool(_SAFE_IMAGE.match(src)) and ".." not in src.split("/")
