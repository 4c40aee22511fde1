"""One module per area; `engine.api.app` includes them all."""
