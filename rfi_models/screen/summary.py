"""The screening summary: one row per scene in DIR/summary.parquet and DIR/summary.csv, rewritten atomically.

The rows of a previous run into the same folder are read back, so that a rerun skips the scenes whose
outputs are complete and come from the same input (same size and modification time) and detector.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq

from ..artifacts.atomic import write_bytes
from .inputs import SceneInput

SCHEMA = pa.schema([
    ("input", pa.string()),  # absolute path
    ("name", pa.string()),  # outputs: <name>.mask.tif, <name>.scores.tif, <name>.stripes.geojson
    ("bytes", pa.int64()),  # input size (a .SAFE folder: all its files) ...
    ("mtime_ns", pa.int64()),  # ... and modification time: a changed input is screened again
    ("height", pa.int64()),
    ("width", pa.int64()),
    ("detector", pa.string()),
    ("method", pa.string()),
    ("precision", pa.string()),  # of the model's matrix products
    ("engine", pa.string()),  # what ran the model: torch or onnx (empty for the no-model sources)
    ("threshold", pa.float64()),
    ("flagged_share", pa.float64()),  # share of pixels at or above the threshold
    ("stripes", pa.int64()),  # number of stripes (rfi_models.detection.stripes: the boxes detect --boxes writes)
    ("stripe_list", pa.string()),  # JSON: the strongest stripes, row0/row1/col0/col1 (inclusive) and peak score
    ("processor_rfi", pa.string()),  # the product's own RFI annotation, when it has one
    ("georeferenced", pa.bool_()),
    ("mask", pa.string()),
    ("scores", pa.string()),  # empty with --no-scores
    ("stripes_geojson", pa.string()),  # the stripes as GeoJSON polygons (rfi_models.io.geojson)
    ("seconds", pa.float64()),
    ("status", pa.string()),  # "ok" or "refused: <message>"
])  # fmt: skip
COLUMNS = SCHEMA.names


class Summary:
    def __init__(self, out_dir: Path) -> None:
        self.parquet, self.csv = out_dir / "summary.parquet", out_dir / "summary.csv"
        self.rows: dict[str, dict] = {}
        if self.parquet.is_file():
            try:
                previous = pq.read_table(self.parquet).to_pylist()
            except (pa.ArrowException, OSError):
                previous = []  # unreadable: every scene is screened again
            self.rows = {row["input"]: {key: row.get(key) for key in COLUMNS} for row in previous}

    def complete(self, scene: SceneInput, settings: dict, with_scores: bool) -> bool:
        """Whether a previous run screened this very input with these detector `settings` (detector, method,
        precision, threshold: the columns) and its outputs are all there."""
        row = self.rows.get(str(scene.path))
        if row is None or row["status"] != "ok":
            return False
        identity = {"bytes": scene.bytes, "mtime_ns": scene.mtime_ns, "name": scene.name, **settings}
        same = all(row[key] == value for key, value in identity.items())
        outputs = [row["mask"], row["stripes_geojson"], *([row["scores"]] if with_scores else [])]
        return same and all(path and Path(path).is_file() for path in outputs)

    def record(self, row: dict) -> None:
        """Add or replace the row of an input and rewrite both files atomically."""
        self.rows[row["input"]] = {key: row.get(key) for key in COLUMNS}
        table = pa.Table.from_pylist([self.rows[key] for key in sorted(self.rows)], schema=SCHEMA)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        write_bytes(self.parquet, buffer.getvalue())
        buffer = io.BytesIO()
        pa.csv.write_csv(table, buffer)
        write_bytes(self.csv, buffer.getvalue())

    def statuses(self, scenes: list[SceneInput]) -> list[str]:
        return [self.rows[str(scene.path)]["status"] for scene in scenes]
