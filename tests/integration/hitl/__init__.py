"""Tests of the hitl orchestration."""
