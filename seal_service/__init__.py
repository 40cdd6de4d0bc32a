"""seal_service — see DESIGN.md; grows with its issue."""
