"""idp — see DESIGN.md; grows with its issue."""
