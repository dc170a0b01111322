"""Screen an archive of SAR scenes for RFI on Dask: `python -m rfi_models.screen INPUTS... --out-dir DIR`.

INPUTS are scene files (.npy, .npz, .tif, quick-look .png, .zip), Sentinel-1 .SAFE folders, folders searched
recursively for them, or text files (.txt, .lst, .list) listing them one per line. For each scene the
screening writes DIR/<name>.mask.tif (uint8 0/255) and DIR/<name>.scores.tif (float32; not with --no-scores),
georeferenced like the input when it was, DIR/<name>.stripes.geojson (the mask's RFI stripes with their scores,
the same boxes and file as `python -m rfi_models.detect --boxes`: longitude/latitude when the input is
georeferenced, else pixels; `rfi_models.io.geojson`), and one row of DIR/summary.parquet and DIR/summary.csv
(`summary.SCHEMA`).

The detector is chosen as `python -m rfi_models.detect` chooses it (`detection.detector.choose_detector`):
--checkpoint (a SAR checkpoint, `baseline` or a no-model control) and --method (error, ssim, rfi, learned),
by default the default detector recorded by the evaluation in the checkpoints folder.

The work runs on `dask.distributed`: `--workers N` starts a LocalCluster of N single-threaded worker
processes (default: one per core), `--scheduler tcp://HOST:PORT` uses an existing cluster. A scene with
more than `work.TILES_PER_BAND` tiles is cut into bands of rows of tiles, one task each, so one huge scene
also spreads over the workers. Workers read the scenes and write the outputs themselves: with an
existing cluster, INPUTS and DIR must be paths that every worker sees (a shared file system).

Every output is written under a temporary name and renamed when complete, and the summary is
rewritten atomically after each scene, so a killed run leaves no partial file at a final path; rerunning
the same command skips the scenes already screened from the same input and finishes the rest.

Exit codes: 0 every scene screened, 3 some scenes refused (their rows say why), 2 bad arguments (nothing
screened: missing inputs, unusable checkpoint, unreachable scheduler), 130 interrupted (Ctrl-C; rerun to finish).
"""
