"""The inner layer: config, events, the engine and the rules it applies. Imports only backends."""
