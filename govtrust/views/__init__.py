"""Web blueprints of the hub shell (one module per feature), registered by ``create_app``."""
