"""The version of continuous, in the lowest layer so that any part can read it without importing the root package
(whose lazy public API names the engine)."""

__version__ = "0.1.0"
