"""A file the decoder rejects at load time: one DataError naming it, with TensorFlow's reason and none of its
op / function-node decorations."""

import numpy as np
import pytest
from PIL import Image

from tfgm.data import DataError, load


def test_a_garbled_png_found_at_load_time_is_named_with_the_decoders_reason_only(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(tmp_path / f"{i:02d}.png")
    data = bytearray((tmp_path / "01.png").read_bytes())
    data[45:-20] = bytes(rng.integers(0, 256, len(data) - 65, dtype=np.uint8))  # chunk headers, IEND kept
    (tmp_path / "00.png").write_bytes(bytes(data))
    with pytest.raises(DataError) as caught:
        load("folder", "train", path=str(tmp_path))
    message = str(caught.value)
    assert message.startswith(f"cannot read image {tmp_path / '00.png'}: ")
    assert "PNG" in message and "function_node" not in message and "[Op:" not in message
    assert "Remove or replace that file" in message
