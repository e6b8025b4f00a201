"""Session files: store, formats, index, replay timeline, runner, fork, export (imports core)."""
