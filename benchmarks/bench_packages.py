"""Package build speed: a synthetic 200-lesson course with 50 MB of media, in all four formats.

Run: ``python -m benchmarks.bench_packages [--lessons 200 --media-mb 50 --repeat 3] [--quick] [--json PATH]``
(or ``python benchmarks/bench_packages.py``) from the repo root.

Prints, per format, the median of ``--repeat`` builds and its ratio to the
floor: the same files written with Python's :mod:`zipfile` alone (same
STORED/DEFLATED choice per file, no manifest, no checks, no fsync), measured
in the same run. Also prints a naive "deflate everything" zip for contrast,
and the player's size as shipped over HTTP (sum of gzip -9 of each file in
scorm_export/player/). Not a test: numbers depend on the machine and load.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import random
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import content
from benchmarks.figures import Figures, add_common_arguments
from content.export import course_to_json
from scorm_export import FORMATS, build_package, default_player_dir
from scorm_export.zipwriter import compression_for

LESSONS = 200
MODULES = 10
VIDEOS = 20
MEDIA_BYTES = 50 * 1024 * 1024
SEED = 20261121


def _lesson(index: int, video: int | None) -> str:
    lid = f"l{index:03d}"
    parts = [
        f"---\nid: {lid}\ntitle: {{nb: Leksjon {index}, en: Lesson {index}}}\n---\n",
        (
            f"::: text {lid}-intro\nnb: |\n  **Leksjon {index}.** Stille feil blir dyre feil. Si fra tidlig.\n"
            f"en: |\n  **Lesson {index}.** Silent errors become costly errors. Speak up early.\n:::\n"
        ),
    ]
    if video is not None:
        parts.append(
            f"::: text {lid}-fig\nnb: |\n  ![Figur {video}](media/fig{video:02d}.png)\nen: |\n  ![Figure {video}](media/fig{video:02d}.png)\n:::\n"
            f"::: video {lid}-video\ntitle: {{nb: Film {video}, en: Film {video}}}\nsrc: media/v{video:02d}.mp4\n"
            f"poster: media/p{video:02d}.png\ncaptions: {{nb: media/v{video:02d}.nb.vtt, en: media/v{video:02d}.en.vtt}}\nduration: PT2M\n:::\n"
        )
    parts.append(
        f"::: quiz {lid}-quiz\nkind: single\nquestion: {{nb: \"Hvem sier fra?\", en: \"Who speaks up?\"}}\npoints: 1\nchoices:\n"
        f"  - id: a\n    text: {{nb: Alle, en: Everyone}}\n    correct: true\n    feedback: {{nb: Riktig., en: Correct.}}\n"
        f"  - id: b\n    text: {{nb: Ingen, en: No one}}\n    feedback: {{nb: Nei., en: No.}}\n:::\n"
    )
    return "\n".join(parts)


def make_course(root: Path, lessons: int = LESSONS, media_bytes: int = MEDIA_BYTES) -> Path:
    """Write the synthetic course under ``root`` (deterministic: fixed seed) and return its folder.

    ``lessons`` must be a multiple of 10 (ten modules); one lesson in ten carries a video.
    """
    if lessons < MODULES or lessons % MODULES:
        raise ValueError(f"lessons must be a positive multiple of {MODULES}, not {lessons}")
    videos = lessons // MODULES
    rng = random.Random(SEED)
    folder = root / "bench-course"
    (folder / "lessons").mkdir(parents=True)
    (folder / "media").mkdir()
    # 80 % of the media bytes in videos, the rest in posters and figures (random bytes: incompressible, like real media).
    video_size = media_bytes * 8 // 10 // videos
    image_size = (media_bytes - video_size * videos) // (2 * videos)
    for v in range(videos):
        (folder / "media" / f"v{v:02d}.mp4").write_bytes(rng.randbytes(video_size))
        (folder / "media" / f"p{v:02d}.png").write_bytes(rng.randbytes(image_size))
        (folder / "media" / f"fig{v:02d}.png").write_bytes(rng.randbytes(image_size))
        for lang in ("nb", "en"):
            (folder / "media" / f"v{v:02d}.{lang}.vtt").write_text(f"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nFilm {v} {lang}\n", encoding="utf-8")
    modules = []
    per_module = lessons // MODULES
    every = lessons // videos
    for m in range(MODULES):
        refs = []
        for i in range(m * per_module, (m + 1) * per_module):
            name = f"lessons/{i:03d}.md"
            (folder / name).write_text(_lesson(i, i // every if i % every == 0 else None), encoding="utf-8")
            refs.append(f"      - {name}")
        modules.append(f"  - id: m{m:02d}\n    title: {{nb: Modul {m}, en: Module {m}}}\n    lessons:\n" + "\n".join(refs))
    (folder / "course.yaml").write_text(
        "id: https://smeb.no/courses/bench\nversion: 1.0.0\nlanguage: nb\n"
        "title: {nb: Ytelsestest, en: Benchmark}\nsummary: {nb: Syntetisk kurs., en: Synthetic course.}\n"
        "duration: PT10H\npassing_score: 0.8\ncertificate: false\ncompetence_tags: []\ncompletion:\n  require: all\n"
        "modules:\n" + "\n".join(modules) + "\n",
        encoding="utf-8",
    )
    return folder


def player_for_bench(root: Path) -> tuple[Path, str]:
    """The real player; if it has no index.html yet, a copy of it plus a placeholder index.html."""
    real = default_player_dir()
    if (real / "index.html").is_file():
        return real, "scorm_export/player"
    copy = root / "player"
    if real.is_dir():
        shutil.copytree(real, copy)
    copy.mkdir(exist_ok=True)
    (copy / "index.html").write_text("<!doctype html><title>placeholder</title>\n", encoding="utf-8")
    return copy, "scorm_export/player + placeholder index.html (the real one has none yet)"


def gzipped_player_size(folder: Path) -> tuple[int, int, int]:
    """(files, raw bytes, sum of gzip -9 sizes) over every file in ``folder``."""
    files = raw = packed = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        files += 1
        raw += len(data)
        packed += len(gzip.compress(data, compresslevel=9, mtime=0))
    return files, raw, packed


def zipfile_floor(dest: Path, files: list[tuple[str, Path | bytes]], same_compression: bool) -> None:
    with zipfile.ZipFile(dest, "w") as zf:
        for name, src in files:
            kind = compression_for(name) if same_compression else zipfile.ZIP_DEFLATED
            if isinstance(src, bytes):
                zf.writestr(name, src, compress_type=kind)
            else:
                zf.write(src, name, compress_type=kind)


def timed(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="builds per measurement; the median is printed")
    parser.add_argument("--lessons", type=int, default=LESSONS, help="lessons in the synthetic course (multiple of 10)")
    parser.add_argument("--media-mb", type=float, default=MEDIA_BYTES / 2**20, help="MiB of incompressible media")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.lessons, args.media_mb = 1, 20, 2.0
    figures = Figures("packages")
    with tempfile.TemporaryDirectory(prefix="smeb-bench-") as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        folder = make_course(tmp, args.lessons, int(args.media_mb * 2**20))
        generated = time.perf_counter() - start
        start = time.perf_counter()
        course = content.load_course(folder)
        loaded = time.perf_counter() - start
        player, player_note = player_for_bench(tmp)
        out = tmp / "out"
        out.mkdir()
        media = course.media_files()
        media_bytes = sum((folder / m).stat().st_size for m in media)
        print(f"course: {args.lessons} lessons, {len(media)} media files, {media_bytes / 2**20:.1f} MiB media (generated in {generated:.2f} s, loaded+validated in {loaded:.2f} s)")
        print(f"player: {player_note}")

        player_files = [(p.relative_to(player).as_posix(), p) for p in sorted(player.rglob("*")) if p.is_file()]
        floor_files: list[tuple[str, Path | bytes]] = [*player_files, *((m, folder / m) for m in media), ("course.json", course_to_json(course).encode())]
        floor = timed(lambda: zipfile_floor(out / "floor.zip", floor_files, same_compression=True), args.repeat)
        naive = timed(lambda: zipfile_floor(out / "naive.zip", floor_files, same_compression=False), args.repeat)
        print(f"floor  zipfile alone, same STORED/DEFLATED choice: {floor:6.2f} s  ({(out / 'floor.zip').stat().st_size / 2**20:.1f} MiB)")
        print(f"naive  zipfile alone, everything DEFLATED:         {naive:6.2f} s  ({(out / 'naive.zip').stat().st_size / 2**20:.1f} MiB)")
        figures.add("zipfile_floor", floor, "s", better="lower")
        figures.add("zipfile_deflate_all", naive, "s", better="lower", baseline="zipfile_floor")
        for fmt in FORMATS:
            seconds = timed(functools.partial(build_package, course, fmt, out, player_dir=player), args.repeat)
            size = (out / f"{course.slug}-{course.version}-{fmt}.zip").stat().st_size
            print(f"{fmt:9} build_package: {seconds:6.2f} s  ratio to floor {seconds / floor:4.2f}  ({size / 2**20:.1f} MiB)")
            figures.add(f"{fmt}.build", seconds, "s", better="lower", baseline="zipfile_floor")

    real = default_player_dir()
    if real.is_dir():
        files, raw, packed = gzipped_player_size(real)
        print(f"player gzipped (sum of gzip -9 per file, scorm_export/player/): {packed / 1024:.1f} KiB from {raw / 1024:.1f} KiB in {files} files")
        figures.add("player.raw", raw / 1024, "KiB", better="lower")
        figures.add("player.gzipped", packed / 1024, "KiB", better="lower", baseline="player.raw")
    else:
        print("player gzipped: scorm_export/player/ does not exist yet")
    figures.emit(args.json)


if __name__ == "__main__":
    main()
