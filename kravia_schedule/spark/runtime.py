"""Whether Spark can start here: it needs a Java 17+ runtime, which pip does not install."""

from __future__ import annotations

import re
import shutil
import subprocess

__all__ = ["MIN_JAVA", "java_problem"]

#: Spark 4 runs on Java 17 or newer.
MIN_JAVA = 17


def java_problem() -> str | None:
    """Why Spark cannot start on this machine (no ``java``, or one older than
    :data:`MIN_JAVA`), or ``None`` when it can."""
    java = shutil.which("java")
    if java is None:
        return f"no java on PATH: Spark 4 needs Java {MIN_JAVA}+ (scripts/ensure-java installs one)"
    shown = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    text = shown.stderr or shown.stdout
    found = re.search(r'version "(?:1\.)?(\d+)', text)
    if found is None or int(found.group(1)) < MIN_JAVA:
        first = text.strip().splitlines()[0] if text.strip() else "no version printed"
        return f"Spark 4 needs Java {MIN_JAVA}+, {java} is: {first}"
    return None
