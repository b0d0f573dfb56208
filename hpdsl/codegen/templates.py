"""The jinja2 environment for the shipped templates under ``targets/``."""

from __future__ import annotations

import functools

import jinja2

from hpdsl.base.resources import resource_path


@functools.cache
def environment() -> jinja2.Environment:
    """One environment for every target: strict about undefined names, no autoescaping (code, not
    HTML); the escaping filters of `hpdsl.codegen.escape` for the contexts templates write text in."""
    from hpdsl.codegen import escape

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_path("targets"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["xml_comment"] = escape.xml_comment
    env.filters["cdata"] = escape.cdata
    return env


def render(template: str, **context: object) -> str:
    """Render a template (a path under ``targets/``) with the given values."""
    return environment().get_template(template).render(**context)
