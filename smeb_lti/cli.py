"""The ``smeb`` command: one click group; each part of the product registers its commands."""

from __future__ import annotations

import importlib

import click

# Modules that define ``register(main)``; imported lazily so ``smeb validate`` stays light.
COMMAND_MODULES = [
    "smeb_lti.commands.lrs",
    "smeb_lti.commands.courses",
    "smeb_lti.commands.build",
    "smeb_lti.commands.outbox",
    "smeb_lti.commands.lti",
    "smeb_lti.commands.demo",
    "smeb_lti.commands.certs",
    "smeb_lti.surveys.commands",
    "smeb_lti.forum.commands",
    "smeb_lti.commands.privacy",
    "smeb_lti.usage.commands",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="smeb")
def main() -> None:
    """SMEB course delivery: courses, packages, the LTI tool and the xAPI pipeline."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(main)
