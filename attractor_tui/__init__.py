"""attractor-tui: watch two language-model instances talk to each other."""

__version__ = "0.1.0"
