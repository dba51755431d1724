"""Course → packages: one player, four manifests, deterministic zips (SCORM 1.2, SCORM 2004, cmi5, xAPI/TinCan)."""

from scorm_export.build import (
    DEFAULT_LIMITS,
    FORMATS,
    Format,
    SizeLimits,
    build_all,
    build_package,
    default_player_dir,
    package_entries,
    package_name,
)
from scorm_export.errors import (
    EntryCollisionError,
    MediaNotFoundError,
    PackageError,
    PackageSizeWarning,
    PlayerNotFoundError,
    StateBudgetError,
    UnknownFormatError,
    UnsafePathError,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FORMATS",
    "EntryCollisionError",
    "Format",
    "MediaNotFoundError",
    "PackageError",
    "PackageSizeWarning",
    "PlayerNotFoundError",
    "SizeLimits",
    "StateBudgetError",
    "UnknownFormatError",
    "UnsafePathError",
    "build_all",
    "build_package",
    "default_player_dir",
    "package_entries",
    "package_name",
]
