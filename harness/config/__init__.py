"""Typed configuration (schema), its registration with Hydra, and loading."""
