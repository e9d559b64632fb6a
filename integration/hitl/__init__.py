"""hitl orchestration: the interface implemented once, whatever the helpdesk."""
