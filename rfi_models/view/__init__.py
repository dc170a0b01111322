"""What the app shows, as pure functions: figures (`viz`, `panels`), downloadable files (`export`), where the
images come from (`gallery`), the movable window over a large image (`window`), and what the latent page reads
from the precomputed maps and studies. Only `app/` imports this package."""
