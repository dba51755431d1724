"""The ``smeb`` command: one click group; every command group lives in a module of this package."""

from __future__ import annotations

import click

from smeb_lti.cli import build, certs, courses, demo, forum, keys, lrs, lti, outbox, privacy, reports, surveys, usage


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="smeb")
def main() -> None:
    """SMEB course delivery: courses, packages, the LTI tool and the xAPI pipeline."""


for _module in (lrs, courses, build, outbox, lti, keys, demo, certs, reports, surveys, forum, privacy, usage):
    _module.register(main)
