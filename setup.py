"""Package layout that pyproject.toml cannot express: the top-level ``reports/`` (templates) and
``config/`` (district profiles) folders ship inside the wheel as ``auditor.templates`` and
``auditor.profiles``, found at run time through ``importlib.resources``."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["auditor", "auditor.*", "checks", "checks.*"]),
              "auditor.templates", "auditor.templates.web", "auditor.templates.static", "auditor.profiles"],
    package_dir={"auditor.templates": "reports", "auditor.profiles": "config"},
    package_data={"auditor.templates": ["*.j2"], "auditor.templates.web": ["*.j2"], "auditor.templates.static": ["*"],
                  "auditor.profiles": ["*.toml"],
                  "auditor.store.migrations": ["*.mako"]},
)
