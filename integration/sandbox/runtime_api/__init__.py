"""The emulated Botpress Runtime API: the subset a hitl integration calls, with the real paths and bodies."""

from .definition import IntegrationDefinition
from .keys import BOTPRESS
from .routes import create_runtime_api
from .service import Botpress, Identity, Listener

__all__ = ["BOTPRESS", "Botpress", "Identity", "IntegrationDefinition", "Listener", "create_runtime_api"]
