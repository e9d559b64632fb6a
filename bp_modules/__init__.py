"""Botpress interface contracts, mirrored as pydantic models.

Edit only to track a new interface version; everything above this layer imports it.
"""
