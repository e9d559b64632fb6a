"""The installation's configuration schema: the adapter's config model plus the ``adapter`` selector.

Botpress delivers the filled-in configuration on every request (``x-bp-configuration``). The extra
``adapter`` property tells a server running several adapters which one the installation uses; its
default is the adapter the definition was built for, so the bot owner never has to type it.
Secret fields (:class:`pydantic.SecretStr`) carry ``"x-zui": {"secret": true}``.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from .json_schema import wire_schema

ADAPTER_PROPERTY: Final = "adapter"


def configuration_schema(config_model: type[BaseModel], adapter_name: str) -> dict[str, Any]:
    """The configuration JSON Schema for ``config_model``, with ``adapter`` fixed to ``adapter_name``.

    Raises:
        ValueError: the config model already has an ``adapter`` property, or is not an object.
    """
    schema = wire_schema(config_model)
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict):
        raise ValueError(f"{config_model.__name__}: a configuration schema must be an object")
    if ADAPTER_PROPERTY in properties:
        raise ValueError(f"{config_model.__name__}: {ADAPTER_PROPERTY!r} is reserved for the adapter's name")
    selector = {
        "type": "string",
        "const": adapter_name,
        "default": adapter_name,
        "title": "Adapter",
        "description": "Helpdesk adapter serving this installation",
    }
    return {**schema, "properties": {ADAPTER_PROPERTY: selector, **properties}}
