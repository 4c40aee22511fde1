"""Excel: export records (streamed), import them with a per-row error report, the import
template, and turning an existing Excel form or checklist into a form definition."""
