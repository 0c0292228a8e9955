"""`telemetry-gen init`: a starter catalog for a new app, and the catalog format's schema beside it.

The schema is written where `build` keeps it (`generated/catalog.schema.json`), so the editor line
at the top of the starter resolves before the first build.
"""

from __future__ import annotations

import json
import re

from .build import catalog_format_file
from .targets.common import GeneratedFile, render_template

# What `app.name` may be: kebab-case, as the catalog format says.
APP_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def starter_files(name: str) -> list[GeneratedFile]:
    """The starter `events.yaml` for the app `name` and the catalog format's schema."""
    title = " ".join(part.capitalize() for part in name.split("-"))
    catalog = render_template(
        "init/events.yaml.jinja",
        app_name=name,
        title=title,
        title_yaml=json.dumps(title),  # a YAML double-quoted string is a JSON string
        package=name.replace("-", "_") + "_telemetry",
    )
    schema = catalog_format_file()
    return [GeneratedFile("events.yaml", catalog), GeneratedFile(f"generated/{schema.path}", schema.content)]
