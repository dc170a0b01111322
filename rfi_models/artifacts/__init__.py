"""The files the package writes and reads back: checkpoints, their manifest, training logs, and the one atomic
write every file goes through. Nothing here imports torch at module level but `checkpoint`."""
