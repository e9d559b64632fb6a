"""Tests of the Botpress Runtime API client."""
