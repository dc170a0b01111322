"""Grids of zoomable image panels as one plotly figure: the compact comparison at the top of a page.

A grid is rows (usually models) of `Panel`s. Every panel is a heat map drawn pixel for pixel (nearest
neighbour, never smoothed) with its value on hover; panels that share a `Scale` share one colour axis, so
their colours compare, and a scale with a title gets one colour bar. A panel can carry a bool mask painted
over it, a bool mask outlined on it (e.g. a detector's mask and the true RFI contour) and rectangles drawn on it
(`Boxes`: hand-drawn truth boxes, a detector's stripes) as plotly shapes.

Pure functions of arrays; nothing here knows about Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from .model_names import display_name, family_of
from .viz import LIGHT_TEMPLATE, display_stride

HEAT = [[0.0, "black"], [1 / 3, "red"], [2 / 3, "yellow"], [1.0, "white"]]  # black-red-yellow-white
GRAY = [[0.0, "black"], [1.0, "white"]]
DISPLAY_SIDE = 250  # px: larger images are shown every n-th pixel in a grid (zoomable, a few 100 kB per figure)
NO_VALUE = "lightgrey"  # pixels without a value (hidden MAE patches in the maps that explain)


@dataclass(frozen=True)
class Scale:
    """One colour axis: colours, value range and, when `title` is set, a colour bar with that title."""

    colours: tuple | list = tuple(map(tuple, GRAY))
    low: float = 0.0
    high: float = 1.0
    title: str = ""


TRUTH_BOX, IGNORE_BOX, STRIPE_BOX = "lime", "orange", "cyan"  # truth boxes solid, ignore boxes dashed
BOXES_CAPTION = " · hand-drawn boxes: RFI green, ignore dashed orange"
MAX_STRIPES_DRAWN = 40  # a panel draws at most this many stripes, the strongest (the summary counts them all)


@dataclass(frozen=True)
class Boxes:
    """Rectangles drawn on a panel: (row0, row1, col0, col1) image pixels, end exclusive, in one line style."""

    boxes: tuple[tuple[int, int, int, int], ...]
    colour: str = TRUTH_BOX
    dash: str = "solid"
    name: str = "RFI box"


def truth_boxes(boxes, ignore_boxes) -> tuple[Boxes, ...]:
    """The hand-drawn truth as panel boxes: RFI boxes solid green, ignore boxes dashed orange."""
    layers = (Boxes(tuple(boxes)), Boxes(tuple(ignore_boxes), IGNORE_BOX, "dash", "ignore box"))
    return tuple(layer for layer in layers if layer.boxes)


def stripe_boxes(stripes: list[dict], limit: int = MAX_STRIPES_DRAWN) -> Boxes:
    """A detector's stripes (`detection.stripes`: row0, row1, col0, col1 inclusive, strongest first) as panel boxes,
    the `limit` strongest."""
    return Boxes(tuple((s["row0"], s["row1"] + 1, s["col0"], s["col1"] + 1) for s in stripes[:limit]), STRIPE_BOX,
                 "solid", "stripe")  # fmt: skip


def rectangles(layers: tuple[Boxes, ...], where: dict) -> list[dict]:
    """Plotly rectangle shapes of box layers on one panel's axes (`where`: its xaxis / yaxis references)."""
    axes = {"xref": where["xaxis"], "yref": where["yaxis"]}
    return [{"type": "rect", "x0": col0 - 0.5, "x1": col1 - 0.5, "y0": row0 - 0.5, "y1": row1 - 0.5,
             "line": {"color": layer.colour, "width": 1.5, "dash": layer.dash}, "name": layer.name, **axes}
            for layer in layers for row0, row1, col0, col1 in layer.boxes]  # fmt: skip


@dataclass
class Panel:
    values: np.ndarray  # [H, W]; NaN is drawn transparent
    scale: str  # key of the grid's scales
    title: str = ""
    paint: np.ndarray | None = None  # bool [H, W] painted in `paint_colour`
    paint_colour: str = "rgba(255,0,255,0.75)"
    outline: np.ndarray | None = None  # bool [H, W] outlined in `outline_colour`
    outline_colour: str = "lime"
    boxes: tuple[Boxes, ...] = ()  # rectangles drawn on it


def quantised(values: np.ndarray, scale: Scale) -> np.ndarray:
    """Values on the 8-bit image scale, and small counts, sent as uint8 (4x less data than float32); other values
    as float32. NaN stays NaN (float32)."""
    if (scale.low, scale.high) == (0.0, 255.0) and np.isfinite(values).all():
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    if np.issubdtype(values.dtype, np.integer) and values.min(initial=0) >= 0 and values.max(initial=0) <= 255:
        return values.astype(np.uint8)  # counts
    return values.astype(np.float32)


def _pixels(values: np.ndarray, stride: int) -> dict:
    """Heat-map coordinates of every `stride`-th pixel: the true rows and columns."""
    return {"x": np.arange(0, values.shape[1], stride), "y": np.arange(0, values.shape[0], stride)}


def _overlay(layers: list[tuple[np.ndarray, str]], silent: dict) -> dict:
    """One heat map painting bool masks [H, W] in their colours (later ones on top), transparent elsewhere: uint8
    codes 0 (nothing), 1, 2, … with a stepped colour scale, so that masks cost one byte a pixel together."""
    codes = np.zeros(layers[0][0].shape, np.uint8)
    for number, (mask, _) in enumerate(layers, start=1):
        codes[mask] = number
    colours = ["rgba(0,0,0,0)", *(colour for _, colour in layers)]
    steps = [
        [min(edge, 1.0), colour]
        for i, colour in enumerate(colours)
        for edge in (i / len(colours), (i + 1) / len(colours))
    ]
    return {"type": "heatmap", "z": codes, "zsmooth": False, "colorscale": steps, "zmin": -0.5,
            "zmax": len(colours) - 0.5, **silent}  # fmt: skip


def outline(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """The pixels of a bool mask within `width` pixels of its border: its outline, drawn as a painted mask (the
    browser draws it at once; a plotly contour of a large mask is traced in the browser on every render)."""
    from scipy.ndimage import binary_erosion  # imported when first needed

    return mask & ~binary_erosion(mask, iterations=width, border_value=1)


def _traces(panel: Panel, axis: str, scale: Scale, stride: int, name: str, where: dict) -> list[dict]:
    """The panel's heat map over grey where it has no value (NaN: hidden MAE patches), and its painted mask and
    outline when it has them."""
    placed = _pixels(panel.values, stride) | where
    silent = {"showscale": False, "hoverinfo": "skip", **placed}
    values = panel.values[::stride, ::stride]
    traces = [_overlay([(~np.isfinite(values), NO_VALUE)], silent)] if not np.isfinite(values).all() else []
    hover = f"{name}<br>row %{{y}}, col %{{x}}: %{{z:.3~g}}<extra></extra>"
    traces.append({"type": "heatmap", "z": quantised(values, scale), "coloraxis": axis, "zsmooth": False, "name": name,
                   "hovertemplate": hover, **placed})  # fmt: skip
    layers = [] if panel.paint is None else [(panel.paint[::stride, ::stride], panel.paint_colour)]
    if panel.outline is not None and panel.outline.any():
        layers.append((outline(panel.outline[::stride, ::stride]), panel.outline_colour))
    return traces + ([_overlay(layers, silent)] if layers else [])


def colour_axes(scales: dict[str, Scale]) -> dict:
    """layout.coloraxis, coloraxis2, … one per scale, with its colour bar stacked at the right when titled."""
    titled = [name for name, scale in scales.items() if scale.title]
    axes = {}
    for number, (name, scale) in enumerate(scales.items(), start=1):
        axis = {"colorscale": [list(stop) for stop in scale.colours], "cmin": scale.low, "cmax": scale.high}
        if scale.title:
            place = titled.index(name)
            bar = {"title": {"text": scale.title, "side": "right"}, "len": 1 / len(titled) - 0.05, "thickness": 14,
                   "y": 1 - (place + 0.5) / len(titled), "yanchor": "middle", "x": 1.01}  # fmt: skip
            axis |= {"showscale": True, "colorbar": bar}
        else:
            axis["showscale"] = False
        axes["coloraxis" if number == 1 else f"coloraxis{number}"] = axis
    return axes


def grid_axes(
    n_rows: int, n_cols: int, gap: tuple[float, float], size: tuple[int, int]
) -> tuple[dict, list[list[dict]]]:
    """Layout axes of an n_rows x n_cols grid of linked panels showing images of `size` (H, W) (zoom one, all
    follow; aspect kept; double-click: whole image), and per cell the trace's axis references and its domain."""
    width, height = (1 - gap[0] * (n_cols - 1)) / n_cols, (1 - gap[1] * (n_rows - 1)) / n_rows
    plain = {"showticklabels": False, "ticks": "", "showgrid": False, "zeroline": False, "constrain": "domain"}
    layout, cells = {}, []
    for r in range(n_rows):
        cells.append([])
        for c in range(n_cols):
            k = r * n_cols + c + 1
            x, y = ("x", "y") if k == 1 else (f"x{k}", f"y{k}")
            x_domain = np.clip([c * (width + gap[0]), c * (width + gap[0]) + width], 0, 1).round(6).tolist()
            y_domain = np.clip([1 - (r + 1) * height - r * gap[1], 1 - r * (height + gap[1])], 0, 1).round(6).tolist()
            linked = ({"matches": "x"}, {"matches": "y"}) if k > 1 else ({}, {})
            suffix = "" if k == 1 else k
            layout[f"xaxis{suffix}"] = plain | {"domain": x_domain, "anchor": y, "range": [-0.5, size[1] - 0.5]}
            layout[f"yaxis{suffix}"] = plain | {"domain": y_domain, "anchor": x, "scaleanchor": x,
                                                "range": [size[0] - 0.5, -0.5]}  # fmt: skip
            layout[f"xaxis{suffix}"] |= linked[0]
            layout[f"yaxis{suffix}"] |= linked[1]
            cells[r].append({"where": {"xaxis": x, "yaxis": y}, "x": x_domain, "y": y_domain})
    return layout, cells


def text(label: str, x: float, y: float, size: int, **placement) -> dict:
    return {"text": label, "x": x, "y": y, "xref": "paper", "yref": "paper", "showarrow": False,
            "font": {"size": size}, **placement}  # fmt: skip


def panel_grid(
    rows: list[list[Panel | None]],
    scales: dict[str, Scale],
    *,
    titles: list[str] | None = None,
    labels: list[str] | None = None,
    height: int,
    talk: bool = False,
    max_side: int = DISPLAY_SIDE,
) -> go.Figure:
    """One figure: rows of panels, `titles` above the panels (row-major), `labels` left of the rows.

    Panels are zoomable (the axes are linked: zoom one, the others follow) and keep the images' aspect ratio.
    Images larger than `max_side` pixels a side are shown every n-th pixel; hover shows the true row and column.
    Built as one specification (plotly's make_subplots and update_* calls take about 30x longer)."""
    n_rows, n_cols = len(rows), max(len(cells) for cells in rows)
    base = 20 if talk else 12
    size = next(panel.values.shape for row in rows for panel in row if panel is not None)
    title_lines = max((title.count("<br>") + 1 for title in titles or []), default=0)
    gap = 0.08 if n_rows > 1 and titles and len(titles) > n_cols else 0.03
    layout, cells = grid_axes(n_rows, n_cols, (0.012, gap), size)
    axis_of = {name: "coloraxis" if i == 0 else f"coloraxis{i + 1}" for i, name in enumerate(scales)}
    data, notes, shapes = [], [], []
    for r, row in enumerate(rows):
        label = (labels or [""] * n_rows)[r]
        if label:
            notes.append(text(label, 0, sum(cells[r][0]["y"]) / 2, base - 2 * talk, xanchor="right", xshift=-6,
                              align="right"))  # fmt: skip
        for c, panel in enumerate(row):
            if panel is None:
                continue
            stride = display_stride(panel.values.shape, max_side)
            name = " · ".join(part for part in (label.split("<br>")[0], panel.title) if part)
            data += _traces(panel, axis_of[panel.scale], scales[panel.scale], stride, name, cells[r][c]["where"])
            shapes += rectangles(panel.boxes, cells[r][c]["where"])
    for index, title in enumerate(titles or []):
        cell = cells[index // n_cols][index % n_cols]
        notes.append(text(title, sum(cell["x"]) / 2, cell["y"][1], base + 1, xanchor="center", yanchor="bottom"))
    longest = max(
        (len(re.sub("<[^>]*>", "", line)) for label in labels or [] for line in label.split("<br>")), default=0
    )
    layout |= colour_axes(scales) | {
        "height": height, "font": {"size": base}, "showlegend": False, "annotations": notes, "shapes": shapes,
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 15 + (10 if talk else 7) * longest, "r": 10, "t": title_lines * (base + 8) + 5, "b": 5},
        "dragmode": "zoom", "hoverlabel": {"font": {"size": base}}, "template": LIGHT_TEMPLATE,
    }  # fmt: skip
    return go.Figure({"data": data, "layout": layout})


# ------------------------------------------------------------------------------------------ the pages' grids
IMAGE = Scale(tuple(map(tuple, GRAY)), 0.0, 255.0)  # values on the 8-bit quick-look scale
SEEN = {"mae": "masked input", "dae": "noisy input", "cae": "input"}


def relative(values: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """A map divided by its `percentile`-th finite value, clipped to [0, 1] (NaN stays NaN): maps with different
    units compare on one scale."""
    finite = values[np.isfinite(values)]
    top = float(np.percentile(finite, percentile)) if finite.size else 1.0
    return np.clip(values / max(top, 1e-12), 0, 1)


def quality_label(key: str, quality: dict[str, float]) -> str:
    label = f"<b>{display_name(key)}</b><br>PSNR {quality['psnr']:.2f} dB<br>SSIM {quality['ssim']:.3f}"
    if "psnr_hidden" in quality:
        label += f"<br><i>hidden {quality['psnr_hidden']:.2f} dB<br>raw output {quality['psnr_raw']:.2f} dB</i>"
    return label


def with_boxes(rows: list[list[Panel | None]], boxes: tuple[Boxes, ...]) -> list[list[Panel | None]]:
    """The rows with `boxes` drawn on every panel (e.g. the truth boxes of a real RFI patch)."""
    for panel in (panel for row in rows for panel in row if panel is not None):
        panel.boxes = (*panel.boxes, *boxes)
    return rows


def seen(view, channel: int) -> np.ndarray:
    """What a model saw of `channel` on the 8-bit scale, NaN (drawn grey) where its mask hid the image."""
    picture = view.model_input[channel] * np.float32(255)
    return picture if view.mask is None else np.where(view.mask, np.nan, picture)


def reconstruction_grid(
    image: np.ndarray, views: list, channel: int, *, height: int, talk: bool = False, boxes: tuple[Boxes, ...] = ()
) -> go.Figure:
    """Models as rows (`analysis.ModelReconstruction`s): the original (first row), what the model saw (its hidden
    pixels grey: random patches or whole bands), its reconstruction, reconstruction + visible (models with a mask),
    and the absolute error on one scale shared by all rows; PSNR/SSIM beside each row. Images show `channel` of
    [C, H, W]; the error is over all channels. `boxes` (the truth boxes, when known) are drawn on every panel."""
    masked = any(view.mask is not None for view in views)
    titles = ["original", "what the<br>model saw", "reconstruction", *(["reconstruction<br>+ visible"] * masked),
              "absolute<br>error"]  # fmt: skip
    top = max(float(np.percentile(view.error, 99.5)) for view in views)
    scales = {"image": IMAGE, "error": Scale(tuple(map(tuple, HEAT)), 0.0, max(top, 1e-6), "absolute error")}
    rows = []
    for number, view in enumerate(views):
        cells = [Panel(image[channel] * 255, "image", "original") if number == 0 else None,
                 Panel(seen(view, channel), "image", SEEN.get(family_of(view.family), "input")),
                 Panel(view.reconstruction[channel] * 255, "image", "reconstruction")]  # fmt: skip
        if masked:
            cells.append(
                None if view.mask is None else Panel(view.composite[channel] * 255, "image", "reconstruction + visible")
            )
        cells.append(Panel(view.error, "error", "absolute error"))
        rows.append(cells)
    return panel_grid(with_boxes(rows, boxes), scales, titles=titles,
                      labels=[quality_label(v.family, v.quality) for v in views], height=height, talk=talk)  # fmt: skip


def explanation_grid(
    background: np.ndarray, maps: dict[str, dict[str, np.ndarray]], *, height: int, talk: bool = False,
    boxes: tuple[Boxes, ...] = (),
) -> go.Figure:  # fmt: skip
    """Models as rows: the image the maps explain, then the model's maps (rollout and CLS attention for the
    MAE, then the attribution), each relative to its own 99.5th percentile on one shared scale. `boxes` (the truth
    boxes, when known) are drawn on every panel."""
    names = list(dict.fromkeys(name for family_maps in maps.values() for name in family_maps))
    scales = {"image": IMAGE, "map": Scale(tuple(map(tuple, HEAT)), 0.0, 1.0, "map / its 99.5th percentile")}
    rows = [
        [Panel(background * 255, "image", "image")]
        + [Panel(relative(family_maps[name]), "map", name) if name in family_maps else None for name in names]
        for family_maps in maps.values()
    ]
    return panel_grid(with_boxes(rows, boxes), scales, titles=["image", *names],
                      labels=[f"<b>{display_name(key)}</b>" for key in maps], height=height, talk=talk)  # fmt: skip


def detection_grid(
    vh: np.ndarray, results: dict[str, tuple[np.ndarray, np.ndarray]], agreement: np.ndarray, truth, *,
    show: str = "mask", columns: int = 3, height: int, talk: bool = False, boxes: tuple[Boxes, ...] = (),
    stripes: dict[str, list[dict]] | None = None,
) -> go.Figure:  # fmt: skip
    """One panel per detector over VH (in [0, 1]) and, last, how many detectors flag each pixel.

    results: detector name -> (score / threshold [H, W], mask [H, W]). `show` 'mask' paints the mask over VH,
    'score' shows score / threshold on one scale for every detector (1 = at its threshold). The truth is drawn on
    every panel: `boxes` when given (hand-drawn boxes), else the true RFI mask (bool [H, W] or None) outlined in
    green. stripes: detector name -> its stripes (`detection.stripes`), drawn as rectangles on its panel."""
    heat = tuple(map(tuple, HEAT))
    scales = {"image": IMAGE, "score": Scale(heat, 0.0, 2.0, "score / threshold"),
              "count": Scale(heat, 0.0, float(max(len(results), 1)), "detectors flagging")}  # fmt: skip
    outlined = None if boxes else truth
    panels = []
    for name, (relative_score, mask) in results.items():
        drawn = (*boxes, stripe_boxes(stripes[name])) if stripes and name in stripes else boxes
        if show == "score":
            panels.append(Panel(relative_score, "score", name, outline=outlined, boxes=drawn))
        else:
            panels.append(Panel(vh * 255, "image", name, paint=mask, outline=outlined, boxes=drawn))
    panels.append(Panel(agreement, "count", "agreement", outline=outlined, boxes=boxes))
    rows = [panels[start : start + columns] for start in range(0, len(panels), columns)]
    titles = [display_name(p.title) if p.title != "agreement" else "how many flag" for p in panels]
    return panel_grid(rows, scales, titles=titles, height=height, talk=talk)
