#!/usr/bin/env python3
"""Regenerate the short intro videos of the SMEB courses (own work, no third-party media).

For every ``tools/media_scripts/<slug>.yaml`` this writes into
``content/courses/<slug>/media/``:

* ``intro.mp4``               – slides (Pillow) + synthetic Norwegian voice (espeak-ng),
                                H.264 main/yuv420p + AAC mono, ``+faststart``
* ``intro.nb.vtt`` / ``intro.en.vtt`` – WebVTT captions timed from the measured
                                length of each spoken sentence
* ``intro-poster.png``        – the title slide, palette-optimised
* ``intro.transcript.nb.md`` / ``intro.transcript.en.md`` – full transcripts

Usage::

    python tools/make_media.py                 # all scripts
    python tools/make_media.py guttastemning-2-0 --keep-temp

Needs: Python 3.11, Pillow, PyYAML, ffmpeg (libx264 + aac), espeak-ng (voice ``nb``),
DejaVu fonts (Debian ``fonts-dejavu-core``).  Not run in CI: the outputs are committed.
Output is deterministic for the same versions of these tools (fixed voice settings,
single-threaded x264, bit-exact muxing, no timestamps in metadata).
See docs/media.md.
"""
from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tools" / "media_scripts"
COURSES = ROOT / "content" / "courses"

# ---------------------------------------------------------------- settings
W, H = 854, 480
SAFE_BOTTOM = 392          # keep slide content above this: captions render below
BG = (16, 33, 58)          # dark navy
FG = (255, 255, 255)
FG2 = (201, 214, 232)
DIM = (96, 116, 145)
PANEL = (30, 52, 84)

VOICE = ["-v", "nb", "-s", "145", "-p", "45", "-a", "140", "-g", "3"]
LEAD_IN = 0.6              # silence before the first sentence (s)
GAP_SENTENCE = 0.45        # between sentences on the same slide
GAP_SLIDE = 0.8            # before a sentence that starts a new slide
TAIL = 1.2                 # after the last sentence
FPS = 15
CAPTION_LINE = 42          # max characters per caption line (2 lines per cue)

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]


def font_path(name: str) -> str:
    for d in FONT_DIRS:
        p = d / name
        if p.exists():
            return str(p)
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", name.removesuffix(".ttf")],
                             capture_output=True, text=True, check=True).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    sys.exit(f"font {name} not found: install fonts-dejavu-core")


_FONTS: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    key = ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    if key not in _FONTS:
        _FONTS[key] = ImageFont.truetype(font_path(key[0]), size)
    return _FONTS[key]


def hex_rgb(s: str) -> tuple[int, int, int]:
    s = s.lstrip("#")
    return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


# ---------------------------------------------------------------- text helpers
def wrap(text: str, f: ImageFont.FreeTypeFont, max_w: int) -> list[str]:
    lines: list[str] = []
    cur = ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if f.getlength(trial) <= max_w or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines


def draw_lines(d: ImageDraw.ImageDraw, xy, lines, f, fill, spacing=1.25, anchor="la"):
    x, y = xy
    step = int(f.size * spacing)
    for line in lines:
        d.text((x, y), line, font=f, fill=fill, anchor=anchor)
        y += step
    return y


def fit_text(text: str, max_w: int, max_lines: int, size: int, bold: bool, min_size: int = 18):
    while True:
        f = font(size, bold)
        lines = wrap(text, f, max_w)
        if len(lines) <= max_lines or size <= min_size:
            return f, lines
        size -= 2


# ---------------------------------------------------------------- icons (simple shapes)
def person(d, cx, top, s, color, head_fill=None):
    """A figure of height ~s: round head + rounded shoulders."""
    r = s * 0.17
    d.ellipse([cx - r, top, cx + r, top + 2 * r], fill=head_fill or color)
    bw = s * 0.34
    d.rounded_rectangle([cx - bw, top + 2.25 * r, cx + bw, top + s], radius=int(s * 0.16), fill=color)


def icon_board(d, x, y, s, acc):
    d.rounded_rectangle([x, y, x + s * 0.8, y + s], radius=10, outline=FG2, width=5, fill=PANEL)
    rows, cols = 4, 4
    bw, bh = s * 0.12, s * 0.15
    for r in range(rows):
        for c in range(cols):
            bx = x + s * 0.1 + c * s * 0.16
            by = y + s * 0.1 + r * s * 0.21
            color = acc if (r, c) == (2, 1) else FG2
            d.rectangle([bx, by, bx + bw, by + bh], fill=color)
            d.rectangle([bx + bw * 0.3, by + bh * (0.15 if (r, c) != (2, 1) else 0.55),
                         bx + bw * 0.7, by + bh * (0.45 if (r, c) != (2, 1) else 0.85)], fill=PANEL)
    # warning triangle
    tx, ty, ts = x + s * 0.62, y + s * 0.55, s * 0.42
    d.polygon([(tx + ts / 2, ty), (tx + ts, ty + ts * 0.88), (tx, ty + ts * 0.88)], fill=acc, outline=BG)
    d.text((tx + ts / 2, ty + ts * 0.58), "!", font=font(int(ts * 0.55), True), fill=BG, anchor="mm")


def icon_calendar(d, x, y, s, acc):
    d.rounded_rectangle([x, y + s * 0.1, x + s, y + s * 0.95], radius=12, fill=PANEL, outline=FG2, width=5)
    d.rectangle([x + 3, y + s * 0.1 + 3, x + s - 3, y + s * 0.28], fill=acc)
    for i in (0.25, 0.75):
        d.rounded_rectangle([x + s * i - 6, y, x + s * i + 6, y + s * 0.2], radius=5, fill=FG2)
    for r in range(3):
        for c in range(5):
            cx = x + s * 0.08 + c * s * 0.18
            cy = y + s * 0.36 + r * s * 0.19
            fill = acc if (r, c) == (2, 4) else DIM
            d.rectangle([cx, cy, cx + s * 0.13, cy + s * 0.13], fill=fill)
    d.text((x + s * 0.5, y + s * 1.08), "+14 dager", font=font(int(s * 0.15), True), fill=acc, anchor="mm")


def icon_check(d, x, y, s, acc):
    d.ellipse([x, y, x + s, y + s], fill=acc)
    d.line([(x + s * 0.26, y + s * 0.52), (x + s * 0.44, y + s * 0.7), (x + s * 0.76, y + s * 0.32)],
           fill=BG, width=max(6, int(s * 0.1)), joint="curve")


def icon_people(d, x, y, s, acc):
    person(d, x + s * 0.32, y + s * 0.12, s * 0.8, FG2)
    person(d, x + s * 0.7, y + s * 0.2, s * 0.8, acc)


def icon_people_sad(d, x, y, s, acc):
    person(d, x + s * 0.28, y + s * 0.12, s * 0.8, acc)
    person(d, x + s * 0.74, y + s * 0.3, s * 0.66, DIM)
    # small rain cloud over the quiet colleague
    cx, cy = x + s * 0.78, y + s * 0.08
    for dx, r in ((-0.1, 0.07), (0.0, 0.1), (0.1, 0.07)):
        d.ellipse([cx + dx * s - r * s, cy - r * s, cx + dx * s + r * s, cy + r * s], fill=DIM)
    for dx in (-0.08, 0.0, 0.08):
        d.line([(cx + dx * s, cy + s * 0.1), (cx + dx * s - 4, cy + s * 0.17)], fill=DIM, width=4)


def icon_eye(d, x, y, s, acc):
    d.ellipse([x, y + s * 0.25, x + s, y + s * 0.75], outline=FG, width=6)
    d.ellipse([x + s * 0.33, y + s * 0.33, x + s * 0.67, y + s * 0.67], fill=acc)
    d.ellipse([x + s * 0.44, y + s * 0.44, x + s * 0.56, y + s * 0.56], fill=BG)


def icon_bubble(d, x, y, s, acc):
    d.rounded_rectangle([x, y + s * 0.15, x + s, y + s * 0.7], radius=int(s * 0.18), fill=acc)
    d.polygon([(x + s * 0.25, y + s * 0.68), (x + s * 0.45, y + s * 0.68), (x + s * 0.2, y + s * 0.88)], fill=acc)
    for i in range(3):
        cx = x + s * (0.3 + i * 0.2)
        d.ellipse([cx - s * 0.05, y + s * 0.38, cx + s * 0.05, y + s * 0.48], fill=BG)


def icon_roles(d, x, y, s, acc):
    person(d, x + s * 0.18, y + s * 0.3, s * 0.6, FG2)
    person(d, x + s * 0.5, y + s * 0.12, s * 0.7, acc)
    person(d, x + s * 0.82, y + s * 0.3, s * 0.6, FG2)


def icon_target(d, x, y, s, acc):
    for i, c in enumerate((FG2, BG, acc, BG, FG2)):
        m = i * s * 0.1
        d.ellipse([x + m, y + m, x + s - m, y + s - m], fill=c)
    d.line([(x + s * 0.5, y + s * 0.5), (x + s * 1.0, y)], fill=FG, width=6)
    d.polygon([(x + s * 0.5, y + s * 0.5), (x + s * 0.62, y + s * 0.44), (x + s * 0.56, y + s * 0.38)], fill=FG)


def icon_bulb(d, x, y, s, acc):
    d.ellipse([x + s * 0.2, y, x + s * 0.8, y + s * 0.6], fill=acc)
    d.rectangle([x + s * 0.36, y + s * 0.5, x + s * 0.64, y + s * 0.72], fill=acc)
    for i in range(3):
        yy = y + s * (0.75 + i * 0.08)
        d.rectangle([x + s * 0.36, yy, x + s * 0.64, yy + s * 0.05], fill=FG2)
    for ang in (-60, -30, 0, 30, 60):
        a = math.radians(ang - 90)
        cx, cy = x + s * 0.5, y + s * 0.3
        d.line([(cx + math.cos(a) * s * 0.4, cy + math.sin(a) * s * 0.4),
                (cx + math.cos(a) * s * 0.5, cy + math.sin(a) * s * 0.5)], fill=acc, width=5)


ICONS = {
    "board": icon_board, "calendar": icon_calendar, "check": icon_check, "people": icon_people,
    "people_sad": icon_people_sad, "eye": icon_eye, "bubble": icon_bubble, "roles": icon_roles,
    "target": icon_target, "bulb": icon_bulb,
}


def icon(d, name, x, y, s, acc):
    ICONS[name](d, x, y, s, acc)


# ---------------------------------------------------------------- slides
def base(acc):
    im = Image.new("RGB", (W, H), BG)
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, 10, H], fill=acc)
    d.text((W - 24, 20), "SMEB", font=font(18, True), fill=FG2, anchor="ra")
    return im, d


def heading(d, text, acc):
    f, lines = fit_text(text, W - 160, 1, 36, True, 26)
    d.text((44, 34), lines[0], font=f, fill=FG, anchor="la")
    d.rectangle([44, 86, 164, 92], fill=acc)


def bubble(d, box, text, fill, text_fill, tail_left=True):
    x0, y0, x1, y1 = box
    d.rounded_rectangle(box, radius=22, fill=fill)
    tx = x0 + 40 if tail_left else x1 - 40
    d.polygon([(tx, y1 - 2), (tx + 28, y1 - 2), (tx - 4, y1 + 18)], fill=fill)
    f, lines = fit_text(text, x1 - x0 - 40, 1, 32, True, 22)
    d.text(((x0 + x1) / 2, (y0 + y1) / 2), lines[0], font=f, fill=text_fill, anchor="mm")


def render(script: dict, slide: dict, state: dict) -> Image.Image:
    acc = hex_rgb(script.get("accent", "#FFC629"))
    im, d = base(acc)
    kind = slide["type"]
    items = slide.get("items", [])
    show = state.get("show", len(items))

    if kind == "title":
        # "Main title – second part": the part after the dash goes on its own line
        main, _, rest = script["title"]["nb"].partition(" – ")
        f, lines = fit_text(main, 520, 2, 46, True, 30)
        parts = [(lines, f, FG, 1.2)]
        if rest:
            f2, l2 = fit_text(rest[:1].upper() + rest[1:], 520, 2, 32, True, 22)
            parts.append((l2, f2, FG2, 1.25))
        sf, slines = fit_text(slide["subtitle"]["nb"], 520, 2, 26, False, 20)
        parts.append((slines, sf, acc, 1.3))
        height = sum(int(p[1].size * p[3]) * len(p[0]) for p in parts) + 14 * (len(parts) - 1)
        y = max(70, 215 - height / 2)
        for lines_, f_, col, sp in parts:
            y = draw_lines(d, (44, y), lines_, f_, col, sp) + 14
        icon(d, slide["icon"], 600, 110, 210, acc)
        d.text((44, SAFE_BOTTOM - 10), "Kort kurs for håndverkere", font=font(18), fill=FG2, anchor="ls")

    elif kind == "bullets":
        heading(d, slide["heading"]["nb"], acc)
        y = 130
        bf = font(30)
        for it in items[:show]:
            lines = wrap(it["nb"], bf, 470)
            d.ellipse([48, y + 10, 64, y + 26], fill=acc)
            y = draw_lines(d, (82, y), lines, bf, FG, 1.22) + 18
        if slide.get("icon"):
            icon(d, slide["icon"], 600, 120, 200, acc)

    elif kind == "quotes":
        heading(d, slide["heading"]["nb"], acc)
        n = len(items)
        right = 560 if slide.get("icon") else W - 70
        top, avail = 118, SAFE_BOTTOM - 118
        bh = min(72, int(avail / n) - 24)
        step = (avail - bh) / max(1, n - 1) if n > 1 else 0
        for i, it in enumerate(items):
            by = top + i * step
            box = (60 + (i % 2) * 60, by, right - ((i + 1) % 2) * 40, by + bh)
            if i < show:
                fill, tfill = (acc if i == show - 1 else FG), BG
                if it.get("negative"):          # the thing to avoid: muted bubble
                    fill, tfill = DIM, FG
                bubble(d, box, it["nb"], fill, tfill, tail_left=(i % 2 == 0))
            else:
                d.rounded_rectangle(box, radius=22, outline=DIM, width=3)
        if slide.get("icon"):
            icon(d, slide["icon"], 620, 140, 170, acc)

    elif kind == "statement":
        heading(d, slide["heading"]["nb"], acc)
        if slide.get("icon"):
            icon(d, slide["icon"], W / 2 - 70, 118, 140, acc)
        f, lines = fit_text(slide["text"]["nb"], W - 140, 2, 42, True, 28)
        draw_lines(d, (W / 2, 300), lines, f, acc, 1.2, anchor="mm")

    elif kind == "steps":
        heading(d, slide["heading"]["nb"], acc)
        n = len(items)
        bw, gap = 210, (W - 88 - 3 * 210) / 2
        for i, it in enumerate(items):
            x = 44 + i * (bw + gap)
            on = i < show
            d.rounded_rectangle([x, 130, x + bw, 360], radius=18, fill=PANEL if on else BG,
                                outline=acc if on else DIM, width=4)
            if on:
                icon(d, it["icon"], x + bw / 2 - 55, 150, 110, acc)
            f, lines = fit_text(it["nb"], bw - 24, 2, 26, True, 18)
            draw_lines(d, (x + bw / 2, 305 if len(lines) == 1 else 290), lines, f, FG if on else DIM,
                       1.2, anchor="mm")
            if i < n - 1:
                ax = x + bw + 8
                d.polygon([(ax, 232), (ax + gap - 24, 232), (ax + gap - 24, 220), (ax + gap - 10, 245),
                           (ax + gap - 24, 270), (ax + gap - 24, 258), (ax, 258)],
                          fill=acc if i + 1 < show else DIM)

    elif kind == "roles":
        heading(d, slide["heading"]["nb"], acc)
        hl = state.get("highlight")
        cw = (W - 88 - 2 * 20) / 3
        for i, it in enumerate(items):
            x = 44 + i * (cw + 20)
            active = hl is None or hl == i + 1
            col = acc if hl == i + 1 else (FG2 if active else DIM)
            d.rounded_rectangle([x, 118, x + cw, 380], radius=18, fill=PANEL,
                                outline=col, width=5 if hl == i + 1 else 3)
            person(d, x + cw / 2, 134, 100, col)
            d.text((x + cw / 2, 262), it["nb"], font=font(28, True), fill=FG if active else DIM, anchor="mm")
            f, lines = fit_text(it["note"]["nb"], cw - 30, 3, 21, False, 16)
            draw_lines(d, (x + cw / 2, 304), lines, f, FG2 if active else DIM, 1.25, anchor="mm")

    elif kind == "smart":
        heading(d, slide["heading"]["nb"], acc)
        tw, gap = 146, 12
        x0 = (W - (5 * tw + 4 * gap)) / 2
        for i, it in enumerate(items):
            x = x0 + i * (tw + gap)
            on = i < show
            d.rounded_rectangle([x, 118, x + tw, 238], radius=14, fill=acc if on else BG,
                                outline=acc if on else DIM, width=3)
            d.text((x + tw / 2, 160), it["nb"][0], font=font(54, True), fill=BG if on else DIM, anchor="mm")
            f, lines = fit_text(it["nb"], tw - 12, 1, 20, True, 14)
            d.text((x + tw / 2, 215), lines[0], font=f, fill=BG if on else DIM, anchor="mm")
        if state.get("example"):
            d.rounded_rectangle([44, 262, W - 44, 378], radius=14, fill=PANEL, outline=FG2, width=2)
            f, lines = fit_text(slide["example"]["nb"], W - 140, 3, 26, False, 18)
            draw_lines(d, (70, 280), lines, f, FG, 1.3)

    elif kind == "table":
        heading(d, slide["heading"]["nb"], acc)
        cols = slide["columns"]
        widths = [300, 150, 170, 146]
        x0, y0, rh = 44, 122, 64
        x = x0
        for c, wdt in zip(cols, widths):
            d.rectangle([x, y0, x + wdt - 4, y0 + rh - 4], fill=acc)
            d.text((x + 14, y0 + rh / 2 - 2), c["nb"], font=font(26, True), fill=BG, anchor="lm")
            x += wdt
        for r, row in enumerate(slide["rows"]):
            y = y0 + (r + 1) * rh
            x = x0
            for ci, (cell, wdt) in enumerate(zip(row, widths)):
                d.rectangle([x, y, x + wdt - 4, y + rh - 4], fill=PANEL)
                if r < show:
                    txt = cell["nb"]
                    done = ci == len(row) - 1 and (txt == "✓" or state.get("done"))
                    if done:
                        cx, cy = x + wdt / 2, y + rh / 2 - 2
                        d.line([(cx - 18, cy), (cx - 5, cy + 13), (cx + 20, cy - 14)], fill=acc, width=7,
                               joint="curve")
                    elif ci != len(row) - 1:
                        f, lines = fit_text(txt, wdt - 26, 1, 24, False, 16)
                        d.text((x + 14, y + rh / 2 - 2), lines[0], font=f, fill=FG, anchor="lm")
                x += wdt
    else:
        raise ValueError(f"unknown slide type {kind!r}")
    return im


# ---------------------------------------------------------------- audio
@dataclass
class Sentence:
    slide: int
    nb: str
    en: str
    state: dict
    wav: Path
    duration: float = 0.0
    start: float = 0.0


def synth(text: str, out: Path) -> float:
    subprocess.run(["espeak-ng", *VOICE, "-w", str(out), text], check=True)
    with wave.open(str(out)) as w:
        return w.getnframes() / w.getframerate()


def build_audio(sentences: list[Sentence], out: Path) -> float:
    with wave.open(str(sentences[0].wav)) as w:
        params = w.getparams()
    rate, width, ch = params.framerate, params.sampwidth, params.nchannels

    def silence(sec: float) -> bytes:
        return b"\x00" * (round(sec * rate) * width * ch)

    chunks = [silence(LEAD_IN)]
    t = LEAD_IN
    for i, s in enumerate(sentences):
        if i > 0:
            gap = GAP_SLIDE if s.slide != sentences[i - 1].slide else GAP_SENTENCE
            chunks.append(silence(gap))
            t += round(gap * rate) / rate
        with wave.open(str(s.wav)) as w:
            frames = w.readframes(w.getnframes())
        s.start = t
        t += s.duration
        chunks.append(frames)
    chunks.append(silence(TAIL))
    t += round(TAIL * rate) / rate
    with wave.open(str(out), "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"".join(chunks))
    return t


# ---------------------------------------------------------------- captions / transcripts
def ts(sec: float) -> str:
    ms = round(sec * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


WEAK_END = {"a", "an", "the", "and", "of", "to", "in", "on", "for", "with", "at", "by",
            "og", "å", "i", "på", "en", "et", "ei", "til", "med", "av", "som", "er", "om", "den", "det"}


def _break_cost(words: list[str], i: int) -> int:
    """Extra cost of breaking before words[i]: prefer punctuation, avoid breaking inside
    a quotation or right after a small function word."""
    before = " ".join(words[:i])
    if sum(before.count(q) for q in "«“") > sum(before.count(q) for q in "»”"):
        return 60
    prev = words[i - 1]
    cost = -14 if prev[-1] in ",.;:?!–" else 0
    if words[i].lower() in ("and", "but", "or", "og", "men", "eller"):
        cost -= 8
    if prev.lower() in WEAK_END or words[i] in ("–", "…"):
        cost += 12
    return cost


def _two_lines(words: list[str]) -> str | None:
    text = " ".join(words)
    if len(text) <= CAPTION_LINE:
        return text
    best = None
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if len(a) <= CAPTION_LINE and len(b) <= CAPTION_LINE and _break_cost(words, i) < 60:
            cost = abs(len(a) - len(b)) + _break_cost(words, i)
            if best is None or cost < best[0]:
                best = (cost, f"{a}\n{b}")
    return best[1] if best else None


def caption_chunks(text: str) -> list[str]:
    """Split one sentence into as few cues as possible (each at most two lines of
    CAPTION_LINE characters), breaking at punctuation/conjunctions where possible."""
    words = text.split()
    n = len(words)
    # best[j] = (cues, cost, start of last cue) for words[:j]
    best: list[tuple[int, float, int] | None] = [None] * (n + 1)
    best[0] = (0, 0.0, 0)
    for j in range(1, n + 1):
        for i in range(j):
            if best[i] is None:
                continue
            chunk = " ".join(words[i:j])
            if len(chunk) > 2 * CAPTION_LINE + 1 or _two_lines(words[i:j]) is None:
                continue
            cost = best[i][1] + max(0, 30 - len(chunk)) + (_break_cost(words, j) if j < n else 0)
            cand = (best[i][0] + 1, cost, i)
            if best[j] is None or cand[:2] < best[j][:2]:
                best[j] = cand
    if best[n] is None:                      # a single over-long word: give up gracefully
        return [text]
    cuts, j = [], n
    while j > 0:
        i = best[j][2]
        cuts.append((i, j))
        j = i
    return [_two_lines(words[i:j]) for i, j in reversed(cuts)]


def write_vtt(sentences: list[Sentence], lang: str, out: Path) -> None:
    cues = ["WEBVTT", ""]
    n = 0
    for s in sentences:
        text = s.nb if lang == "nb" else s.en
        chunks = caption_chunks(text)
        total = sum(len(c) for c in chunks)
        t = s.start
        for c in chunks:
            dur = s.duration * len(c) / total
            n += 1
            cues += [str(n), f"{ts(t)} --> {ts(t + dur)}", vtt_escape(c), ""]
            t += dur
    out.write_text("\n".join(cues), encoding="utf-8")


def write_transcript(script: dict, sentences: list[Sentence], lang: str, total: float, out: Path) -> None:
    title = script["title"][lang]
    if lang == "nb":
        head = [f"# {title} – transkripsjon av introvideoen", "",
                f"Video: `intro.mp4` ({total:.0f} sekunder). Tale: syntetisk norsk stemme (espeak-ng). "
                "Teksting: `intro.nb.vtt` (norsk) og `intro.en.vtt` (engelsk).", ""]
        screen, speech = "På skjermen", "Tale"
        foot = "Laget av SMEB (eget verk). Kilde: `tools/media_scripts/" + script["slug"] + ".yaml`."
    else:
        head = [f"# {title} – transcript of the intro video", "",
                f"Norwegian course title: *{script['title']['nb']}*.", "",
                f"Video: `intro.mp4` ({total:.0f} seconds), narrated in Norwegian by a synthetic voice "
                "(espeak-ng). This is an English translation. Captions: `intro.nb.vtt` (Norwegian) and "
                "`intro.en.vtt` (English).", ""]
        screen, speech = "On screen", "Narration"
        foot = "Made by SMEB (own work). Source: `tools/media_scripts/" + script["slug"] + ".yaml`."
    lines = head
    for i, slide in enumerate(script["slides"]):
        lines.append(f"## {i + 1}. " + (slide["heading"][lang] if "heading" in slide else title))
        lines.append("")
        lines.append(f"*{screen}:* " + describe(script, slide, lang))
        lines.append("")
        said = " ".join((s.nb if lang == "nb" else s.en) for s in sentences if s.slide == i)
        lines.append(f"*{speech}:* {said}")
        lines.append("")
    lines.append(foot)
    lines.append("")
    out.write_text("\n".join(lines), encoding="utf-8")


def describe(script: dict, slide: dict, lang: str) -> str:
    k = slide["type"]
    items = [it[lang] for it in slide.get("items", [])]
    nb = lang == "nb"
    if k == "title":
        return (f"Tittelen «{script['title']['nb']}» og undertittelen «{slide['subtitle']['nb']}»."
                if nb else
                f"The title “{script['title']['en']}” and the subtitle “{slide['subtitle']['en']}”.")
    if k in ("bullets", "steps", "quotes"):
        lead = {"bullets": ("Punkter", "Bullet points"), "steps": ("Tre steg med piler", "Three steps with arrows"),
                "quotes": ("Snakkebobler", "Speech bubbles")}[k][0 if nb else 1]
        return f"{lead}: " + "; ".join(items) + "."
    if k == "statement":
        return slide["text"][lang]
    if k == "roles":
        return "; ".join(f"{it[lang]} – {it['note'][lang]}" for it in slide["items"]) + "."
    if k == "smart":
        return ("Bokstavene S-M-A-R-T: " if nb else "The letters S-M-A-R-T: ") + ", ".join(items) + \
            ". " + slide["example"][lang]
    if k == "table":
        cols = " | ".join(c[lang] for c in slide["columns"])
        rows = [" | ".join(c[lang] or "–" for c in r) for r in slide["rows"]]
        return (f"En tabell med kolonnene {cols}. Eksempelrader: " if nb else
                f"A table with the columns {cols}. Example rows: ") + "; ".join(rows) + "."
    return ""


# ---------------------------------------------------------------- video
def run_ffmpeg(args: list[str]) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def save_png(im: Image.Image, path: Path, colors: int = 64) -> None:
    q = im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    q.save(path, optimize=True)


def make(script_path: Path, keep_temp: bool = False) -> dict:
    script = yaml.safe_load(script_path.read_text(encoding="utf-8"))
    slug = script["slug"]
    out_dir = COURSES / slug / "media"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"media-{slug}-"))
    try:
        sentences: list[Sentence] = []
        for si, slide in enumerate(script["slides"]):
            for s in slide["say"]:
                state = {k: s[k] for k in ("show", "highlight", "example", "done") if k in s}
                sent = Sentence(si, s["nb"], s["en"], state, tmp / f"s{len(sentences):02d}.wav")
                sent.duration = synth(s.get("speak", s["nb"]), sent.wav)
                sentences.append(sent)
        total = build_audio(sentences, tmp / "voice.wav")

        # one still per sentence; the picture changes when the previous sentence ends
        lines = []
        for i, s in enumerate(sentences):
            img = tmp / f"f{i:02d}.png"
            render(script, script["slides"][s.slide], s.state).save(img)
            begin = 0.0 if i == 0 else sentences[i - 1].start + sentences[i - 1].duration
            end = total if i == len(sentences) - 1 else s.start + s.duration
            lines += [f"file '{img.name}'", f"duration {end - begin:.3f}"]
        lines.append(f"file 'f{len(sentences) - 1:02d}.png'")
        (tmp / "slides.txt").write_text("\n".join(lines) + "\n")

        mp4 = out_dir / "intro.mp4"
        run_ffmpeg([
            "-f", "concat", "-safe", "0", "-i", str(tmp / "slides.txt"), "-i", str(tmp / "voice.wav"),
            "-map", "0:v", "-map", "1:a", "-t", f"{total:.3f}",
            "-vf", f"fps={FPS},format=yuv420p", "-af", "volume=0.8",
            "-c:v", "libx264", "-profile:v", "main", "-level", "3.1", "-preset", "veryslow",
            "-tune", "stillimage", "-crf", "27", "-g", str(FPS * 5), "-threads", "1",
            "-x264-params", "sliced-threads=0",
            "-c:a", "aac", "-b:a", "40k", "-ac", "1", "-ar", "22050",
            "-metadata:s:a", "language=nor", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-movflags", "+faststart", str(mp4),
        ])
        write_vtt(sentences, "nb", out_dir / "intro.nb.vtt")
        write_vtt(sentences, "en", out_dir / "intro.en.vtt")
        save_png(render(script, script["slides"][0], {}), out_dir / "intro-poster.png")
        write_transcript(script, sentences, "nb", total, out_dir / "intro.transcript.nb.md")
        write_transcript(script, sentences, "en", total, out_dir / "intro.transcript.en.md")
        return {"slug": slug, "duration": round(total, 2), "bytes": mp4.stat().st_size,
                "sentences": len(sentences)}
    finally:
        if keep_temp:
            print(f"temp files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("slugs", nargs="*", help="course slugs (default: every tools/media_scripts/*.yaml)")
    ap.add_argument("--keep-temp", action="store_true", help="keep per-sentence WAVs and slide PNGs")
    a = ap.parse_args(argv)
    for tool in ("ffmpeg", "espeak-ng"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install -y ffmpeg espeak-ng fonts-dejavu-core")
    paths = [SCRIPTS / f"{s}.yaml" for s in a.slugs] if a.slugs else sorted(SCRIPTS.glob("*.yaml"))
    for p in paths:
        r = make(p, a.keep_temp)
        flag = "" if 30 <= r["duration"] <= 60 and r["bytes"] < 1_500_000 else "  <-- check length/size"
        print(f"{r['slug']}: {r['duration']:.1f} s, {r['bytes'] / 1024:.0f} KiB, "
              f"{r['sentences']} sentences{flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
