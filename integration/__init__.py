"""The hitl-bridge runtime: the HTTP edge, hitl orchestration and the Botpress API client."""
