"""`--data` help texts of the recipes, built from `tfgm.data.catalog` (no TensorFlow, so --help stays fast): a
dataset added to the catalog appears in the help of every recipe whose data it fits."""

from tfgm.data import catalog

NPZ_28 = "x N×28×28[×1], y labels, in a local .npz (--data-path)"
NPZ_32 = "x N×32×32×3, y labels, in a local .npz (--data-path)"
GRID25 = (f"grid25: the built-in {catalog.BY_NAME['gaussian_grid_25'].description} (tfgm.data's "
          "gaussian_grid_25)")


def data_help(keys, notes=None, extra=(), images=True):
    """The catalogued datasets whose elements hold every key of `keys` (and whose `images` flag is `images`; None:
    either), then `extra` names, each "name (description)" joined by " | "; `notes` {name: text} replaces a
    description. A description's "(path)" becomes "(--data-path)", the recipes' flag."""
    names = list(dict.fromkeys(catalog.names(keys, images) + list(extra)))
    return catalog.describe(names, notes).replace("(path)", "(--data-path)")
