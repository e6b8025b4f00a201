"""Widgets of the attractor-tui app."""
