"""The bundled model: artifacts written by ``python -m train``; shipped inside the package as ``overclaim.model``."""
