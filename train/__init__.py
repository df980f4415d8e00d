"""Training: corpus validation, model fitting, evaluation and the artifacts in ``model/``."""
