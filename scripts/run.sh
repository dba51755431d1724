#!/usr/bin/env bash
# The main job on embedded defaults: validate the shipped courses, build every package
# format into dist/, then start the LTI tool together with the built-in demo LMS
# (SQLite and keys in var/, the embedded LRS, grades and statements delivered in-process).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
smeb validate content/courses/*
smeb build content/courses/* --format all --out dist
exec smeb demo "$@"
