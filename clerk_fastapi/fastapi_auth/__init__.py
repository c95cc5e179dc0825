"""The FastAPI layer: the only part of the package that imports FastAPI."""
