"""hubcore: one core and one calendar for Japan's multi-generation community hubs."""

__version__ = "0.1.0"
