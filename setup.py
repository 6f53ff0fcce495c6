"""Build hook: ship conf/ and tasks/ inside the wheel, as harness/_data/conf and harness/_data/tasks.

The repository keeps both folders at its root (that is where users of a
clone edit them); `harness.core.paths` finds them there in a clone and
under `harness/_data/` in an installed wheel. All other metadata lives in
pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("conf", "tasks")  # folders at the repository root that a wheel carries as package data


class BuildPyWithData(build_py):
    """build_py, then a plain copy of the shipped folders into the build tree (never into the source tree)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the clone's own folders
            return
        data = Path(self.build_lib) / "harness" / "_data"
        for name in SHIPPED:
            target = data / name
            if target.exists():
                shutil.rmtree(target)
            # symlinks=False: a wheel holds plain files only
            shutil.copytree(HERE / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
