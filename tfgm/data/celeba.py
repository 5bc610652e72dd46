"""CelebA's attribute names and the 64x64 preprocessing of METHODS.md section 1."""

import tensorflow as tf

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip

RESIZED_SHAPE = (78, 64)
CROP_SIZE = 64


def celeba_preprocess(image):
    """Aligned CelebA image(s) -> float32 64x64x3 in [0, 1].

    `image` is HxWx3 or NxHxWx3, uint8 in [0, 255] or float in [0, 1] (218x178 for aligned
    CelebA). It is resized (bilinear, antialiased) to 78x64 (HxW), then the central 64 rows are
    kept, as in the discriminative-regularization release.
    """
    image = tf.convert_to_tensor(image)
    if image.dtype == tf.uint8:
        image = tf.cast(image, tf.float32) / 255.0
    else:
        image = tf.cast(image, tf.float32)
    image = tf.image.resize(image, RESIZED_SHAPE, method="bilinear", antialias=True)
    top = (RESIZED_SHAPE[0] - CROP_SIZE) // 2
    left = (RESIZED_SHAPE[1] - CROP_SIZE) // 2
    image = image[..., top : top + CROP_SIZE, left : left + CROP_SIZE, :]
    return tf.clip_by_value(image, 0.0, 1.0)
