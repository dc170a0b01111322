"""The error of files the package reads from a checkpoints folder."""


class CheckpointError(ValueError):
    """A checkpoint or latent-map file that is missing, corrupt, of another format, does not match its model,
    or is not vouched for by its folder's manifest."""
