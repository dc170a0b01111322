"""RFI detection: residual scores and no-model controls, detectors and their calibration, tiling of large scenes,
stripes as boxes, and the ONNX engine. The two programs that use it are `rfi_models.detect` (one file) and
`rfi_models.screen` (an archive)."""
