"""What researchers run: presets, scenarios, tool packs, batches and reports."""
