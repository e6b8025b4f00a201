"""Screens of the attractor-tui app."""
