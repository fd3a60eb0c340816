"""Package discovery for the three source roots; metadata lives in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=(
        find_packages("platform", include=["cairn", "cairn.*"])
        + find_packages("admin_ui", include=["cairn_admin", "cairn_admin.*"])
        + ["cairn_migrations", "cairn_migrations.versions"]
        # Data-only folders that setuptools treats as packages.
        + ["cairn.mail.templates"]
    ),
)
