"""`safeflow` sub-commands, one module per area; engine.cli registers them."""
