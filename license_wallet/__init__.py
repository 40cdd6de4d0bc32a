"""license_wallet — see DESIGN.md; grows with its issue."""
