"""What Botpress sees of this integration: pure data, no I/O."""

from .renames import Renames

__all__ = ["Renames"]
