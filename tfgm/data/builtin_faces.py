"""Built-in procedurally generated "faces" with CelebA's 40 attribute names ("builtin_faces").

For runs with no download: 64x64 RGB cartoon faces drawn with vectorized numpy (coordinate grids,
ellipse masks painted into a region map, then coloured per image). Deterministic from `seed`;
each split uses its own derived random stream; example i of a split is the same whatever the count
(generation runs in fixed chunks), so `num_examples` may ask for fewer or more than the defaults
(train 10000, validation 1000, test 1000). Arrays are cached as uint8 .npz under
`$TFGM_CACHE/builtin_faces/` (default ~/.cache/tfgm), keyed by (version, seed, split, count).

Drawn attributes (DRAWN_ATTRIBUTES; each changes the picture):
  Male (squarer, wider jaw; shorter hair more often), Young (no forehead wrinkles or nose-to-mouth
  lines; gray hair and baldness less likely), Smiling (mouth curves up, wider),
  Mouth_Slightly_Open (dark inner mouth, teeth when smiling), Eyeglasses (dark frames),
  Black_Hair / Blond_Hair / Brown_Hair / Gray_Hair (hair colour, mutually exclusive; none ->
  auburn), Bald (no hair on top), Bangs (fringe), Wavy_Hair / Straight_Hair (wavy outline and
  texture / vertical streaks; exclusive), Wearing_Hat, Goatee, Mustache, No_Beard
  (= 1 - max(Goatee, Mustache)), 5_o_Clock_Shadow (darker lower face), Sideburns, Pale_Skin,
  Heavy_Makeup (purple eye shadow), Wearing_Lipstick (red lips), Big_Lips, Narrow_Eyes, Big_Nose,
  Rosy_Cheeks, Arched_Eyebrows, Bushy_Eyebrows, Oval_Face (longer, narrower), Chubby (wider face),
  Blurry (blurred image), Wearing_Earrings, Wearing_Necktie.
Noise attributes (NOISE_ATTRIBUTES): Attractive, Bags_Under_Eyes, Double_Chin, High_Cheekbones,
  Pointy_Nose, Receding_Hairline, Wearing_Necklace are independent random bits with CelebA-like
  rates; they do not touch the pixels (unlearnable from the image).
Nuisance variation: face position and size, background colour and gradient, skin tone, hair
length, hat/shirt/tie/iris colours, gaze, lighting direction and brightness, pixel noise.

Backgrounds (`background`, dataset "builtin_faces_plain" for "plain"): "gradient" (default) blends two
random colours from top to bottom, each channel uniform in [0.05, 0.95] (two thirds of the pixels, and the
largest share of the pixel variance); "plain" paints one muted colour, each channel in [0.275, 0.725]
(the same random draws, compressed towards grey), as CelebA's attributes and classifier ignore the background.
"""


import numpy as np

from tfgm.data import _generated_cache
from tfgm.data._pipeline import check_split, from_arrays
from tfgm.data.celeba import CELEBA_ATTRIBUTES
from tfgm.data.errors import DataError
from tfgm.data.registry import register

VERSION = 1
SIZE = 64
SPLIT_SIZES = {"train": 10000, "validation": 1000, "test": 1000}
NOISE_ATTRIBUTES = (
    "Attractive", "Bags_Under_Eyes", "Double_Chin", "High_Cheekbones", "Pointy_Nose",
    "Receding_Hairline", "Wearing_Necklace",
)  # fmt: skip
DRAWN_ATTRIBUTES = tuple(a for a in CELEBA_ATTRIBUTES if a not in NOISE_ATTRIBUTES)
HAIR_COLORS = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")
_CHUNK = 256
BACKGROUNDS = ("gradient", "plain")
_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
_A = {name: i for i, name in enumerate(CELEBA_ATTRIBUTES)}

# Regions of the painted map, in painting order; each gets a colour per image.
(BG, SHIRT, TIE, NECK, HAIR, HAIR_HI, SKIN, HAT, WRINKLE, BROW, SHADOW, EYE, IRIS, GLASSES, NOSE, CHEEK,
 STUBBLE, BEARD, LIPS, MOUTH, TEETH, EARRING) = range(22)  # fmt: skip
_N_REGIONS = 22

# Base rates P(attribute = 1) of attributes drawn independently; the rest follow rules below.
_RATES = {
    "Attractive": 0.5, "Bags_Under_Eyes": 0.2, "Double_Chin": 0.05, "High_Cheekbones": 0.45,
    "Pointy_Nose": 0.28, "Receding_Hairline": 0.08, "Wearing_Necklace": 0.12,
    "Smiling": 0.48, "Wearing_Hat": 0.07, "Pale_Skin": 0.08, "Narrow_Eyes": 0.12, "Oval_Face": 0.28,
    "Big_Lips": 0.24, "Blurry": 0.05, "Eyeglasses": 0.08,
}  # fmt: skip


def sample_attributes(rng, n):
    """(n, 40) float32 in {0, 1}, CelebA-like rates and correlations (e.g. beards only on men)."""
    u = rng.random((n, len(CELEBA_ATTRIBUTES)), dtype=np.float32)
    hair_u = rng.random(n, dtype=np.float32)
    out = np.zeros((n, len(CELEBA_ATTRIBUTES)), bool)

    def col(name):
        return u[:, _A[name]]

    def put(name, value):
        out[:, _A[name]] = value

    for name, rate in _RATES.items():
        put(name, col(name) < rate)
    male = col("Male") < 0.42
    young = col("Young") < 0.75
    female = ~male
    put("Male", male)
    put("Young", young)
    bald = male & (col("Bald") < np.where(young, 0.04, 0.25))
    put("Bald", bald)
    p_gray = np.where(young, 0.02, 0.35)
    edges = np.cumsum(
        [0.28 * (1 - p_gray), np.where(male, 0.05, 0.28) * (1 - p_gray), 0.25 * (1 - p_gray), p_gray], axis=0
    )
    hair = (hair_u[None, :] >= edges).sum(axis=0)  # 0..3: HAIR_COLORS, 4: other (auburn)
    for k, name in enumerate(HAIR_COLORS):
        put(name, (hair == k) & ~bald)
    put("Bangs", ~bald & (col("Bangs") < np.where(male, 0.08, 0.22)))
    wavy = ~bald & (col("Wavy_Hair") < np.where(male, 0.15, 0.45))
    put("Wavy_Hair", wavy)
    put("Straight_Hair", ~bald & ~wavy & (col("Straight_Hair") < 0.35))
    put("Mouth_Slightly_Open", col("Mouth_Slightly_Open") < np.where(out[:, _A["Smiling"]], 0.7, 0.25))
    for name, rate in (("Goatee", 0.15), ("Mustache", 0.1), ("5_o_Clock_Shadow", 0.25), ("Sideburns", 0.13)):
        put(name, male & (col(name) < rate))
    put("Bushy_Eyebrows", col("Bushy_Eyebrows") < np.where(male, 0.25, 0.05))
    put("Big_Nose", col("Big_Nose") < np.where(male, 0.35, 0.12))
    put("Chubby", col("Chubby") < np.where(young, 0.03, 0.15))
    makeup = female & (col("Heavy_Makeup") < 0.6)
    put("Heavy_Makeup", makeup)
    put("Wearing_Lipstick", female & (makeup | (col("Wearing_Lipstick") < 0.3)))
    for name, rate in (("Rosy_Cheeks", 0.12), ("Arched_Eyebrows", 0.45), ("Wearing_Earrings", 0.3)):
        put(name, female & (col(name) < rate))
    put("Wearing_Necktie", male & (col("Wearing_Necktie") < 0.15))
    out[:, _A["No_Beard"]] = ~(out[:, _A["Goatee"]] | out[:, _A["Mustache"]])
    return out.astype(np.float32)


def apply_overrides(attributes, overrides):
    """Force attributes (name -> 0/1 for every row) and restore the exclusivity rules.

    Setting a hair colour (or Wavy/Straight) to 1 clears the others; No_Beard follows Goatee and
    Mustache unless forced itself (No_Beard=0 without a beard adds a goatee).
    """
    attributes = attributes.copy()
    for name, value in (overrides or {}).items():
        if name not in _A:
            raise DataError(f"unknown attribute {name!r}; use names from CELEBA_ATTRIBUTES.")
        attributes[:, _A[name]] = float(value)
        group = HAIR_COLORS if name in HAIR_COLORS else ("Wavy_Hair", "Straight_Hair")
        if value and name in group:
            for other in group:
                if other != name:
                    attributes[:, _A[other]] = 0.0
    beard = np.maximum(attributes[:, _A["Goatee"]], attributes[:, _A["Mustache"]])
    if "No_Beard" in (overrides or {}):
        if overrides["No_Beard"]:
            attributes[:, _A["Goatee"]] = attributes[:, _A["Mustache"]] = 0.0
        else:
            attributes[:, _A["Goatee"]] = np.where(beard > 0, attributes[:, _A["Goatee"]], 1.0)
    else:
        attributes[:, _A["No_Beard"]] = 1.0 - beard
    return attributes


def sample_nuisance(rng, n):
    """Per-image nuisance parameters (dict of (n,) or (n, 3) float32 arrays, and a noise seed)."""

    def uniform(lo, hi, shape=()):
        return rng.uniform(lo, hi, (n, *shape)).astype(np.float32)

    return {
        "cx": uniform(29.0, 35.0), "cy": uniform(30.5, 35.5), "scale": uniform(0.88, 1.08),
        "skin_tone": uniform(0.0, 0.9), "skin_jitter": uniform(-0.04, 0.04, (3,)),
        "hair_jitter": uniform(-0.05, 0.05, (3,)), "other_hair": uniform(0.0, 1.0),
        "long_hair": uniform(0.0, 1.0), "hair_length": uniform(0.4, 1.0), "phase": uniform(0.0, 6.3),
        "bg1": uniform(0.05, 0.95, (3,)), "bg2": uniform(0.05, 0.95, (3,)),
        "hat": uniform(0.1, 0.9, (3,)), "shirt": uniform(0.1, 0.9, (3,)), "iris": uniform(0.05, 0.5, (3,)),
        "gaze": uniform(-0.6, 0.6), "brightness": uniform(0.85, 1.1), "light_x": uniform(-0.12, 0.12),
        "light_y": uniform(-0.12, 0.12), "noise": uniform(0.01, 0.035),
        "noise_seed": rng.integers(0, 2**31 - 1, ()),
    }  # fmt: skip


def _palette(attrs, nz):
    """(n, _N_REGIONS, 3) float32 colours."""
    n = len(attrs)

    def a(name):
        return attrs[:, _A[name]][:, None]

    t = nz["skin_tone"][:, None] ** 0.7
    skin = (1 - t) * np.float32([0.45, 0.3, 0.22]) + t * np.float32([0.93, 0.76, 0.64]) + nz["skin_jitter"]
    skin = skin * (1 - 0.7 * a("Pale_Skin")) + 0.7 * a("Pale_Skin") * np.float32([0.98, 0.94, 0.91])
    mix = nz["other_hair"][:, None]
    other = (1 - mix) * np.float32([0.55, 0.2, 0.08]) + mix * np.float32([0.3, 0.12, 0.06])
    flags = attrs[:, [_A[h] for h in HAIR_COLORS]] > 0.5
    first = np.where(flags.any(axis=1), flags.argmax(axis=1), len(HAIR_COLORS))
    colours = np.float32([[0.07, 0.06, 0.06], [0.92, 0.8, 0.45], [0.42, 0.26, 0.12], [0.72, 0.72, 0.74]])
    named = colours[np.minimum(first, len(HAIR_COLORS) - 1)]
    hair = np.where((first < len(HAIR_COLORS))[:, None], named, other)
    hair = np.clip(hair + nz["hair_jitter"], 0, 1)
    lips_natural = skin * 0.8 + np.float32([0.12, 0.0, 0.0])
    pal = np.zeros((n, _N_REGIONS, 3), np.float32)
    pal[:, BG] = nz["bg1"]
    pal[:, SHIRT] = nz["shirt"]
    pal[:, TIE] = (nz["shirt"] + 0.5) % 1.0 * 0.6
    pal[:, NECK] = skin * 0.85
    pal[:, HAIR] = hair
    pal[:, HAIR_HI] = np.clip(hair * 0.7 + 0.22, 0, 1)
    pal[:, SKIN] = skin
    pal[:, HAT] = nz["hat"]
    pal[:, WRINKLE] = skin * 0.7
    pal[:, BROW] = hair * 0.6
    pal[:, SHADOW] = np.float32([0.45, 0.22, 0.55])
    pal[:, EYE] = np.float32([0.95, 0.95, 0.95])
    pal[:, IRIS] = nz["iris"]
    pal[:, GLASSES] = np.float32([0.08, 0.08, 0.1])
    pal[:, NOSE] = skin * 0.85
    pal[:, CHEEK] = skin * 0.5 + np.float32([0.48, 0.15, 0.18])
    pal[:, STUBBLE] = skin * 0.65 + hair * 0.1
    pal[:, BEARD] = hair * 0.8
    lipstick = a("Wearing_Lipstick")
    pal[:, LIPS] = lips_natural * (1 - lipstick) + lipstick * np.float32([0.8, 0.05, 0.15])
    pal[:, MOUTH] = np.float32([0.25, 0.04, 0.05])
    pal[:, TEETH] = np.float32([0.96, 0.95, 0.9])
    pal[:, EARRING] = np.float32([0.95, 0.8, 0.2])
    return np.clip(pal, 0, 1)


def _blur(images):
    """Separable [1, 2, 1]/4 filter applied twice (about a Gaussian with sigma 1)."""
    for _ in range(2):
        for axis in (1, 2):
            width = [(1, 1) if ax == axis else (0, 0) for ax in range(4)]
            padded = np.pad(images, width, "edge")
            lo = np.take(padded, range(0, SIZE), axis=axis)
            mid = np.take(padded, range(1, SIZE + 1), axis=axis)
            hi = np.take(padded, range(2, SIZE + 2), axis=axis)
            images = 0.25 * lo + 0.5 * mid + 0.25 * hi
    return images


def render(attributes, nuisance):
    """(n, 40) attributes in {0, 1} + nuisance dict -> uint8 (n, 64, 64, 3) images."""
    n = len(attributes)
    at = {name: attributes[:, i][:, None, None] > 0.5 for name, i in _A.items()}
    nz = {k: (v[:, None, None] if np.ndim(v) == 1 else v) for k, v in nuisance.items()}
    s = nz["scale"]
    grid = np.arange(SIZE, dtype=np.float32) + 0.5
    X, Y = grid[None, None, :], grid[None, :, None]
    U, V = X - nz["cx"], Y - nz["cy"]
    AU = np.abs(U)
    chubby, male, oval = (at[k].astype(np.float32) for k in ("Chubby", "Male", "Oval_Face"))
    a = s * (12.5 + 2.5 * chubby + male - oval)
    b = s * (16.0 + 2.0 * oval + 0.5 * chubby)
    lab = np.zeros((n, SIZE, SIZE), np.uint8)

    def pick(condition, yes, no):
        return np.where(condition, np.float32(yes), np.float32(no))

    def paint(mask, region):
        np.putmask(lab, mask, np.uint8(region))

    def ellipse(u0, v0, rx, ry):
        return ((U - u0) / rx) ** 2 + ((V - v0) / ry) ** 2 <= 1.0

    def mirrored(u0, v0, rx, ry):
        return ellipse(u0, v0, rx, ry) | ellipse(-u0, v0, rx, ry)

    bald, wavy, straight = at["Bald"], at["Wavy_Hair"], at["Straight_Hair"]
    long_hair = ~bald & (nz["long_hair"] < pick(at["Male"], 0.15, 0.75))
    wave = np.where(wavy, 1.6 * np.sin(0.7 * V + nz["phase"]), np.float32(0))
    # body, neck, long hair behind the head, ears
    paint(V > b + 4.0 + 0.015 * U**2, SHIRT)
    paint(at["Wearing_Necktie"] & (V > b + 4.0) & (AU < 0.8 + 0.3 * (V - b - 4.0)), TIE)
    paint((AU < 0.5 * a) & (V > 0.5 * b) & (V < b + 4.0 + 0.015 * U**2), NECK)
    back = (AU < a + 3.5 + wave) & (V > -0.2 * b) & (V < b * (0.4 + 0.9 * nz["hair_length"]))
    paint(long_hair & (back | ellipse(0, -1, a + 3.5, b + 3.5)), HAIR)
    paint(mirrored(a, 0.02 * b, 2.0 * s, 3.2 * s), SKIN)
    # face: elliptic top, squarer jaw for men
    p = pick(at["Male"], 3.2, 2.0)
    face = np.where(V <= 0, (U / a) ** 2 + (V / b) ** 2, (AU / a) ** p + (np.abs(V) / b) ** p) <= 1.0
    paint(face, SKIN)
    lines = (np.abs(V + 0.36 * b) < 0.45) | (np.abs(V + 0.27 * b) < 0.45)
    paint(~at["Young"] & (AU < 0.45 * a) & lines, WRINKLE)
    # hair on the head
    head = ellipse(0, -1.0, a + 2.5, b + 3.0)
    top = (V < -0.45 * b + 0.6 * wave) | ((AU > 0.78 * a) & (V < -0.05 * b))
    sides = (AU > 0.8 * a) & (V > -0.5 * b) & (V < 0)
    paint(head & np.where(bald, sides, top), HAIR)
    fringe = (AU < 0.85 * a) & (V < -0.2 * b + 0.9 * np.sin(1.6 * U + nz["phase"]))
    paint(at["Bangs"] & head & fringe, HAIR)
    paint(at["Sideburns"] & face & (AU > a - 2.8 * s) & (V > -0.35 * b) & (V < 0.25 * b), HAIR)
    wavy_streaks = np.sin(1.1 * (U + 1.8 * np.sin(0.55 * V + nz["phase"])))
    streaks = np.where(wavy, wavy_streaks, np.sin(1.4 * U + nz["phase"]))
    np.putmask(lab, (lab == HAIR) & (wavy | straight) & (streaks > 0.5), np.uint8(HAIR_HI))
    # hat
    paint(at["Wearing_Hat"] & ellipse(0, -0.55 * b, a + 3.0, 0.75 * b) & (V < -0.5 * b), HAT)
    paint(at["Wearing_Hat"] & (AU < a + 5.5) & (np.abs(V + 0.5 * b) < 1.3), HAT)
    # eyes, brows, glasses
    ey = -0.07 * b
    for side in (-1.0, 1.0):
        ex = side * 0.4 * a
        du = U - ex
        half = 0.27 * a
        arch = np.where(at["Arched_Eyebrows"], -1.8 * (1 - (du / half) ** 2), np.float32(0))
        thick = pick(at["Bushy_Eyebrows"], 1.7, 0.8)
        paint((np.abs(du) < half) & (np.abs(V + 0.26 * b - arch) < thick), BROW)
        paint(at["Heavy_Makeup"] & ellipse(ex, ey - 1.0, 3.6 * s, 2.6 * s), SHADOW)
        eye = ellipse(ex, ey, 2.7 * s, pick(at["Narrow_Eyes"], 0.75, 1.7) * s)
        paint(eye, EYE)
        paint(eye & ellipse(ex + nz["gaze"], ey, 1.25 * s, 1.25 * s), IRIS)
        ring = ellipse(ex, ey, 4.4 * s, 3.4 * s) & ~ellipse(ex, ey, 3.4 * s, 2.5 * s)
        paint(at["Eyeglasses"] & ring, GLASSES)
    bridge_and_temples = (AU < 0.4 * a - 3.9 * s) | ((AU > 0.4 * a + 4.0 * s) & (AU < a + 1.0))
    paint(at["Eyeglasses"] & (np.abs(V - ey) < 0.6) & bridge_and_temples, GLASSES)
    # nose, cheeks, beard, mouth
    big_nose = at["Big_Nose"]
    paint(ellipse(0, 0.2 * b, pick(big_nose, 2.7, 1.6) * s, pick(big_nose, 4.6, 3.2) * s), NOSE)
    paint(at["Rosy_Cheeks"] & mirrored(0.58 * a, 0.28 * b, 2.8 * s, 2.0 * s), CHEEK)
    fold = np.abs(AU - 0.28 * a - (V - 0.32 * b) * 0.54 * a / b) < 0.5
    paint(~at["Young"] & fold & (V > 0.32 * b) & (V < 0.58 * b), WRINKLE)
    paint(at["5_o_Clock_Shadow"] & face & (V > 0.38 * b), STUBBLE)
    my = 0.6 * b
    w = pick(at["Smiling"], 0.42, 0.34) * a
    yc = my + pick(at["Smiling"], 1.8, 0.0) * s * (1 - (U / w) ** 2)
    lip = pick(at["Big_Lips"], 1.5, 0.85) * s
    opened = at["Mouth_Slightly_Open"]
    inner = 1.1 * s
    gap = pick(opened, 1.0, 0.0) * inner
    paint(at["Mustache"] & (AU < 1.1 * w) & (np.abs(V - (yc - lip - gap - 1.3 * s)) < 1.0 * s), BEARD)
    goatee = ellipse(0, 0.86 * b, 0.3 * a, 0.14 * b) | ((AU < 0.12 * a) & (V > my) & (V < 0.86 * b))
    paint(at["Goatee"] & face & goatee, BEARD)
    paint((AU < w) & (np.abs(V - yc) < lip + gap), LIPS)
    mouth = opened & (AU < 0.75 * w) & (np.abs(V - yc) < inner)
    paint(mouth, MOUTH)
    paint(mouth & at["Smiling"] & (V < yc), TEETH)
    paint(at["Wearing_Earrings"] & mirrored(a + 0.6, 0.02 * b + 3.6 * s, 1.3, 1.3), EARRING)

    pal = _palette(attributes, nuisance)
    images = pal[np.arange(n)[:, None, None], lab]
    gradient = (nuisance["bg2"] - nuisance["bg1"])[:, None, None, :]
    images += ((lab == BG) * (Y / SIZE))[..., None] * gradient
    light = nz["brightness"] * (1 + nz["light_x"] * (X - 32) / 32 + nz["light_y"] * (Y - 32) / 32)
    images *= light[..., None]
    blurry = attributes[:, _A["Blurry"]] > 0.5
    if blurry.any():
        images[blurry] = _blur(images[blurry])
    noise_rng = np.random.default_rng(int(nuisance["noise_seed"]))
    images += noise_rng.standard_normal(images.shape, dtype=np.float32) * nz["noise"][..., None]
    return np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)


def _apply_background(nuisance, background):
    """The nuisance parameters with `background` ("gradient" unchanged, "plain": bg2 = bg1, muted)."""
    if background not in BACKGROUNDS:
        raise DataError(f"unknown background {background!r}; use one of {', '.join(BACKGROUNDS)}.")
    if background == "gradient":
        return nuisance
    plain = 0.5 + 0.5 * (nuisance["bg1"] - 0.5)
    return {**nuisance, "bg1": plain, "bg2": plain}


def generate(count, seed=0, split="train", overrides=None, background="gradient"):
    """(uint8 (count, 64, 64, 3), float32 (count, 40)) for `split`; `overrides` forces attributes.

    Generated in chunks of 256 with a stream per (seed, split, chunk), so a prefix of a longer set
    equals a shorter set and the same images come out with or without overrides (only the forced
    attributes, and what follows from them, change).
    """
    check_split(split, "builtin_faces")

    def make_chunk(rng, n):
        attrs = apply_overrides(sample_attributes(rng, _CHUNK), overrides)
        nuisance = _apply_background(_generated_cache.first(sample_nuisance(rng, _CHUNK), n), background)
        return render(attrs[:n], nuisance), attrs[:n]

    empty = (np.zeros((0, SIZE, SIZE, 3), np.uint8), np.zeros((0, len(CELEBA_ATTRIBUTES)), np.float32))
    return _generated_cache.in_chunks(count, _CHUNK, [VERSION, seed, _SPLIT_IDS[split]], make_chunk, empty)


def _cache_name(background):
    return "builtin_faces" if background == "gradient" else f"builtin_faces_{background}"


def cache_dir(background="gradient"):
    """$TFGM_CACHE/builtin_faces (default ~/.cache/tfgm/builtin_faces; builtin_faces_plain for plain backgrounds)."""
    return _generated_cache.cache_dir(_cache_name(background))


def arrays(split="train", count=None, seed=0, background="gradient"):
    """Cached `generate(count, seed, split, background=background)`; count defaults to SPLIT_SIZES[split]."""
    check_split(split, "builtin_faces")
    count = SPLIT_SIZES[split] if count is None else int(count)

    def make(n, s, sp):
        return generate(n, s, sp, background=background)

    return _generated_cache.cached_arrays(_cache_name(background), VERSION, split, count, seed, make, "attributes",
                                          np.float32)


def load(split="train", seed=0, num_examples=None, background="gradient"):
    """Unbatched dataset of {"image": float32 64x64x3 in [0, 1], "attributes": float32 (40,) in {0, 1}}."""
    images, attributes = arrays(split, num_examples, seed, background)
    return from_arrays(images, attributes=attributes)


register("builtin_faces", lambda split, seed=0, num_examples=None, **_: load(split, seed, num_examples))
register("builtin_faces_plain", lambda split, seed=0, num_examples=None, **_: load(
    split, seed, num_examples, background="plain"))
