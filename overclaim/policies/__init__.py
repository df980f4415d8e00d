"""The moderation policies shipped with overclaim, one TOML file each (see :mod:`overclaim.policy`)."""
