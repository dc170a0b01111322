"""Pure functions from arrays to things a page shows: display images, false colour, latent maps, curves,
plotly figures, and PNG bytes for downloads.

Nothing here knows about Streamlit; every function takes arrays and returns arrays (uint8 images ready for
display), bytes, or a plotly figure. `talk=True` makes figures large for a projector.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw
from plotly.colors import qualitative

from ..artifacts.training_log import TrainingLog
from ..data.quicklook_scale import quicklook_to_db
from .model_names import display_name


def to_uint8(gray: np.ndarray) -> np.ndarray:
    """[H, W] in [0, 1] -> uint8 [H, W]."""
    return np.clip(np.rint(np.asarray(gray, dtype=np.float32) * 255), 0, 255).astype(np.uint8)


def false_colour(image: np.ndarray) -> np.ndarray:
    """SAR [2, H, W] (VV, VH) in [0, 1] -> uint8 RGB [H, W, 3]: R = VV, G = VH, B = VV - VH (dB), no-data black.

    The usual Sentinel-1 dual-pol composite: sea dark blue-ish, land green-yellow, RFI (VH only) green.
    """
    vv, vh = image[0], image[1]
    ratio_db = quicklook_to_db(vv * 255) - quicklook_to_db(vh * 255)  # typically 0..15 dB
    blue = np.clip(ratio_db / 15.0, 0, 1)
    rgb = np.stack([vv, vh, blue], axis=-1)
    rgb[(vv == 0) & (vh == 0)] = 0
    return to_uint8(rgb)


def thumbnail(image: np.ndarray) -> np.ndarray:
    """One uint8 picture of an image [C, H, W]: the digit, or the SAR false-colour composite."""
    return to_uint8(image[0]) if image.shape[0] == 1 else false_colour(image)


def channel_views(image: np.ndarray, domain: str) -> list[tuple[str, np.ndarray]]:
    """[(caption, uint8 image)] to show one image: the digit, or VV, VH and the false-colour composite."""
    if domain == "mnist":
        return [("digit", to_uint8(image[0]))]
    return [("VV", to_uint8(image[0])), ("VH", to_uint8(image[1])), ("false colour", false_colour(image))]


BOX_RGB = {"truth": (0, 255, 0), "ignore": (255, 165, 0)}  # hand-drawn RFI boxes green, ignore boxes orange


def frame(picture: np.ndarray, box: tuple[int, int, int, int], colour, thick: int) -> np.ndarray:
    """Draw the border of `box` (row0, row1, col0, col1 in the picture's pixels, end exclusive) on a uint8 RGB
    picture, in place, `thick` pixels wide inside the box; returns the picture."""
    height, width = picture.shape[:2]
    top, bottom = max(box[0], 0), min(box[1], height)
    left, right = max(box[2], 0), min(box[3], width)
    if top >= bottom or left >= right:
        return picture
    picture[top : min(top + thick, bottom), left:right] = colour
    picture[max(bottom - thick, top) : bottom, left:right] = colour
    picture[top:bottom, left : min(left + thick, right)] = colour
    picture[top:bottom, max(right - thick, left) : right] = colour
    return picture


def draw_boxes(picture: np.ndarray, boxes, ignore_boxes=(), stride: int = 1) -> np.ndarray:
    """A copy of a uint8 picture (gray or RGB, every `stride`-th pixel of the image) with the hand-drawn boxes of
    the image (row0, row1, col0, col1, end exclusive) drawn on it: RFI boxes green, ignore boxes orange."""
    out = as_rgb(picture).copy()
    thick = max(1, min(out.shape[:2]) // 200)
    for kind, found in (("ignore", ignore_boxes), ("truth", boxes)):
        for row0, row1, col0, col1 in found:
            box = (row0 // stride, -(-row1 // stride), col0 // stride, -(-col1 // stride))
            frame(out, box, BOX_RGB[kind], thick)
    return out


# ------------------------------------------------------------------------------------------ downloads
def as_rgb(picture: np.ndarray) -> np.ndarray:
    return np.repeat(picture[..., None], 3, axis=-1) if picture.ndim == 2 else picture


def image_strip(panels: list[tuple[str, np.ndarray]], gap: int = 8, caption_height: int = 16) -> np.ndarray:
    """Side-by-side uint8 panels (gray or RGB, any sizes) with their captions above: one RGB image."""
    scale = max(1, 128 // max(p.shape[0] for _, p in panels))  # small images (MNIST) are enlarged
    pictures = [np.kron(as_rgb(p), np.ones((scale, scale, 1), np.uint8)) for _, p in panels]
    height = max(p.shape[0] for p in pictures) + caption_height
    width = sum(p.shape[1] for p in pictures) + gap * (len(pictures) - 1)
    canvas = Image.new("RGB", (width, height), "white")
    draw, left = ImageDraw.Draw(canvas), 0
    for (caption, _), picture in zip(panels, pictures, strict=True):
        draw.text((left + 2, 2), caption, fill="black")
        canvas.paste(Image.fromarray(picture), (left, caption_height))
        left += picture.shape[1] + gap
    return np.asarray(canvas)


def display_stride(shape: tuple[int, ...], max_side: int = 1600) -> int:
    """The step that brings an image of `shape` [..., H, W] down to at most `max_side` pixels a side for display."""
    return max(1, -(-max(shape[-2:]) // max_side))


# ------------------------------------------------------------------------------------------ figures
CATEGORY_COLOURS = qualitative.Plotly  # ten colours, one per digit
PLOTLY_PNG_EXPORT = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False}
# The figures' whole template: light grid lines and the category colours. Plotly's default template (and
# Streamlit's theme, which the app turns off) costs the browser about 0.3 s per figure to apply, measured in
# headless Chromium; with it every figure-heavy page took longer than benchmarks/results.json allows.
LIGHT_TEMPLATE = go.layout.Template(layout={
    "colorway": list(CATEGORY_COLOURS), "paper_bgcolor": "white", "plot_bgcolor": "white",
    "xaxis": {"gridcolor": "#e8e8e8"}, "yaxis": {"gridcolor": "#e8e8e8"},
})  # fmt: skip


def styled(figure: go.Figure, talk: bool = False, height: int | None = None) -> go.Figure:
    """Common layout: compact margins; large fonts and figures in talk mode."""
    base = 22 if talk else 13
    figure.layout.template = LIGHT_TEMPLATE  # replaces plotly's default template (assigned, not merged)
    figure.update_layout(
        font={"size": base},
        height=height or (640 if talk else 420),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"font": {"size": base - 2}},
    )
    return figure


def _map_traces(points: np.ndarray, rows: np.ndarray, name: str, marker: dict, hover: list[str], where: dict) -> dict:
    """One scatter trace of `points[rows]`; each point carries its row (sample) as customdata, for selections.
    2-D maps draw as SVG, not WebGL: a browser without a GPU spends longer creating WebGL contexts and shaders than
    drawing a few thousand SVG points (measured in headless Chromium); both select by box or lasso."""
    named = {"x": points[rows, 0], "y": points[rows, 1]} | ({"z": points[rows, 2]} if points.shape[1] == 3 else {})
    return {"type": "scatter3d" if points.shape[1] == 3 else "scatter", "mode": "markers", "name": name,
            "legendgroup": name, "marker": marker, "customdata": rows, "text": [hover[r] for r in rows],
            "hovertemplate": "%{text}<extra></extra>", **named, **where}  # fmt: skip


def _map_cells(count: int, three_d: bool) -> tuple[dict, list[dict]]:
    """Layout of `count` maps side by side (2-D axes or 3-D scenes) and each map's trace placement."""
    gap = 0.04
    width = (1 - gap * (count - 1)) / count
    layout, cells = {}, []
    for i in range(count):
        domain = np.clip([i * (width + gap), i * (width + gap) + width], 0, 1).round(6).tolist()
        suffix = "" if i == 0 else i + 1
        if three_d:
            layout[f"scene{suffix}"] = {"domain": {"x": domain, "y": [0, 1]}}
            cells.append({"scene": f"scene{suffix}"})
        else:
            layout[f"xaxis{suffix}"] = {"domain": domain, "anchor": f"y{suffix}", "zeroline": False}
            layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "zeroline": False}
            cells.append({"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"})
    return layout, cells


def latent_figure(
    coords: dict[str, np.ndarray], hover: list[str], *, colours: np.ndarray | dict | None = None, colour_name: str = "",
    categorical: bool = False, placed: dict | None = None, neighbours: dict | None = None, title: str = "",
    talk: bool = False, height: int = 600,
) -> go.Figure:  # fmt: skip
    """Latent maps side by side with one legend (click an entry: it hides in every map), or, with `colours` None,
    all maps overlaid in one, coloured by model. coords: name -> [N, 2|3]; colours: [N] or name -> [N] (categories
    when `categorical`, else one colour bar); placed: name -> [M, 2|3] new samples (stars); neighbours: name -> row
    indices ringed in black. Every point carries its row as customdata, so a selection maps back to samples."""
    names = list(coords)
    three_d = coords[names[0]].shape[1] == 3
    panels = [names] if colours is None else [[name] for name in names]
    layout, cells = _map_cells(len(panels), three_d)
    size = 3 if three_d else 6
    data, notes = [], []
    for i, (members, where) in enumerate(zip(panels, cells, strict=True)):
        suffix = "" if i == 0 else i + 1
        for number, name in enumerate(members):
            points, rows = coords[name], np.arange(len(coords[name]))
            values = colours.get(name) if isinstance(colours, dict) else colours
            if values is None:
                groups = [(display_name(name), rows, {"color": CATEGORY_COLOURS[number % len(CATEGORY_COLOURS)]})]
            elif categorical:
                groups = [(str(v), rows[values == v], {"color": CATEGORY_COLOURS[j % len(CATEGORY_COLOURS)]})
                          for j, v in enumerate(np.unique(values))]  # fmt: skip
            else:
                groups = [(colour_name, rows, {"color": values, "coloraxis": "coloraxis"})]
            for group, chosen, colour in groups:
                marker = {"size": size, "opacity": 0.8} | colour
                data.append(_map_traces(points, chosen, group, marker, hover, where) | {"showlegend": i == 0})
            if neighbours is not None and len(neighbours.get(name, ())):
                ring = {"size": size + 6, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 2}}
                data.append(_map_traces(points, np.asarray(neighbours[name]), "nearest neighbours", ring, hover, where)
                            | {"showlegend": i == 0, "hoverinfo": "skip", "hovertemplate": None})  # fmt: skip
            if placed is not None and name in placed:
                star = {"size": size * 4, "color": "red", "symbol": "diamond" if three_d else "star",
                        "line": {"color": "black", "width": 1}}  # fmt: skip
                star_trace = _map_traces(placed[name], np.arange(len(placed[name])), "current image", star,
                                         ["current image"] * len(placed[name]), where)  # fmt: skip
                data.append(star_trace | {"showlegend": i == 0 and number == 0, "customdata": None})
        label = f"{display_name(members[0])}: {title}" if colours is not None else title
        domain = layout[f"scene{suffix}"]["domain"]["x"] if three_d else layout[f"xaxis{suffix}"]["domain"]
        centre = sum(domain) / 2
        notes.append({"text": label, "x": centre, "y": 1.0, "xref": "paper", "yref": "paper", "showarrow": False,
                      "xanchor": "center", "yanchor": "bottom"})  # fmt: skip
    if colours is not None and not categorical:
        layout["coloraxis"] = {"colorscale": "Viridis", "colorbar": {"title": {"text": colour_name}}}
    figure = styled(go.Figure({"data": data, "layout": layout | {"annotations": notes, "dragmode": "lasso"}}), talk,
                    height=height)  # fmt: skip
    legend = {"title": {"text": colour_name}, "orientation": "h", "x": 0, "y": -0.04, "yanchor": "top"}
    return figure.update_layout(legend=legend, margin={"l": 10, "r": 10, "t": 40, "b": 10})


def line_chart(
    series: dict[str, tuple[np.ndarray, np.ndarray]], x_title: str, y_title: str, title: str = "",
    log_y: bool = False, talk: bool = False,
) -> go.Figure:  # fmt: skip
    """One line per named (x, y) series."""
    figure = go.Figure([go.Scatter(x=x, y=y, mode="lines+markers" if len(x) < 40 else "lines", name=name)
                        for name, (x, y) in series.items()])  # fmt: skip
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title)
    if log_y:
        figure.update_yaxes(type="log")
    return styled(figure, talk)


def training_curves(log: TrainingLog, title: str, talk: bool = False) -> go.Figure:
    """Training loss per logged step, and training/validation loss per epoch on the step axis."""
    steps_per_epoch = log.steps[-1] / log.epochs[-1] if log.epochs and log.steps else 1.0
    epoch_steps = np.asarray(log.epochs) * steps_per_epoch
    return line_chart(
        {
            log.step_loss_label(): (np.asarray(log.steps), np.asarray(log.step_losses)),
            "training loss (epoch)": (epoch_steps, np.asarray(log.train_losses)),
            "validation loss (epoch)": (epoch_steps, np.asarray(log.val_losses)),
        },
        "step",
        "loss",
        title,
        log_y=True,
        talk=talk,
    )


def weight_histograms(rows: list[dict], title: str, talk: bool = False) -> go.Figure:
    """Per-layer weight histograms from `analysis.weight_statistics` rows, overlaid; hovering a line names its layer.
    No legend: a model has dozens of layers (the table under the figure lists them), and a legend of that many
    entries takes the browser longer to lay out than the lines themselves."""
    traces = []
    for row in rows:
        edges = np.asarray(row["histogram"]["edges"])
        centres = (edges[:-1] + edges[1:]) / 2
        share = np.asarray(row["histogram"]["counts"]) / max(row["count"], 1)
        label = f"{row['layer']} ({row['near_zero_share']:.0%} near 0)"
        traces.append({"type": "scatter", "x": centres, "y": share, "mode": "lines", "name": label,
                       "line": {"shape": "hvh"}, "hovertemplate": "w %{x:.3g}: %{y:.1%}"})  # fmt: skip
    figure = go.Figure({"data": traces, "layout": {"showlegend": False, "hovermode": "closest"}})
    figure.update_layout(title=title, xaxis_title="weight value", yaxis_title="share of the layer's weights")
    return styled(figure, talk, height=700 if talk else 480)


def probe_depth_figure(stages: dict[str, list[dict]], scores: dict[str, dict[str, float]], y_title: str,
                       title: str = "", talk: bool = False, height: int | None = None) -> go.Figure:  # fmt: skip
    """Linear-probe scores by depth in the encoder (0 = first stage, 1 = the latent): one solid line per model, its
    random-init copy (a set named "<family> (random init)") dashed in the same colour, the MAE's CLS tokens dotted,
    and the pixel control (set "pixels") a dashed grey line. stages: {set: [{"name", "depth", "line"}]} in encoder
    order; scores: {set: {stage name: score}}."""
    families = [name for name in stages if name != "pixels" and "(" not in name]
    colour = {name: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, name in enumerate(families)}
    figure = go.Figure()
    for name, entries in stages.items():
        if name == "pixels" or name not in scores:
            continue
        family, random_init = name.split(" ")[0], name.endswith("(random init)")
        for line in dict.fromkeys(entry["line"] for entry in entries):
            shown = [entry for entry in entries if entry["line"] == line and entry["name"] in scores[name]]
            label = name.upper().replace(" (RANDOM INIT)", " random init") + (" (CLS tokens)" if line == "cls" else "")
            figure.add_scatter(
                x=[entry["depth"] for entry in shown], y=[scores[name][entry["name"]] for entry in shown],
                text=[entry["name"] for entry in shown], name=label, mode="lines+markers",
                line={"color": colour.get(family, "#555"), "dash": "dash" if random_init else "dot" if line == "cls"
                      else "solid"}, hovertemplate=f"{label}<br>%{{text}}: %{{y:.3f}}<extra></extra>",
            )  # fmt: skip
    if "pixels" in scores:
        level = next(iter(scores["pixels"].values()))
        hover = f"raw pixels: {level:.3f}<extra></extra>"
        figure.add_scatter(x=[0, 1], y=[level, level], name="pixels", mode="lines",
                           line={"color": "#777", "dash": "dash"}, hovertemplate=hover)  # fmt: skip
    figure.update_layout(title=title, xaxis_title="depth in the encoder (0 = first stage, 1 = latent)",
                         yaxis_title=y_title)  # fmt: skip
    return styled(figure, talk, height)


def cka_heatmap(labels: list[str], matrix: np.ndarray, title: str = "", talk: bool = False,
                height: int | None = None) -> go.Figure:  # fmt: skip
    """Linear CKA between feature sets as a heatmap on [0, 1] (labels in matrix order, the first at the top)."""
    figure = go.Figure(go.Heatmap(z=np.asarray(matrix), x=labels, y=labels, zmin=0, zmax=1, colorscale="Viridis",
                                  colorbar={"title": {"text": "CKA"}},
                                  hovertemplate="%{y}<br>%{x}<br>CKA %{z:.3f}<extra></extra>"))  # fmt: skip
    figure.update_layout(title=title, yaxis={"autorange": "reversed"}, xaxis={"tickangle": -45})
    return styled(figure, talk, height)
