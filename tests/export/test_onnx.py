import os

import numpy as np
import onnx
import onnxruntime
import pytest
import tensorflow as tf
from onnx import TensorProto, helper

from export.onnx_export import UnsupportedOpsError, check_onnx_ops, export_onnx
from tests.export.conftest import BATCH_SIZES
from tests.models._tiny import LATENT


@pytest.mark.parametrize("model", ["vae", "discreg_vae"])
def test_decoder_file_is_valid_standard_and_matches_keras(exported, loaded_models, model):
    run_dir, report = exported
    path = os.path.join(run_dir, "export", "onnx", f"{model}_decoder.onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    assert {o.domain: o.version for o in proto.opset_import}[""] == 17
    assert {n.domain for n in proto.graph.node} <= {"", "ai.onnx"}
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z"]
    for batch in BATCH_SIZES:
        z = np.random.default_rng(batch).normal(size=(batch, LATENT)).astype("float32")
        (images,) = session.run(["images"], {"z": z})
        assert np.max(np.abs(images - loaded_models[model].decode(z).numpy())) <= 1e-4
    entry = report["models"][model]["onnx"]["decoder"]
    assert [row["batch_size"] for row in entry["parity"]] == list(BATCH_SIZES)
    assert all(row["passed"] and row["max_abs_error"] <= 1e-4 for row in entry["parity"])


def test_unconvertible_op_fails_and_writes_nothing(tmp_path):
    spec = tf.TensorSpec((None, LATENT), tf.float32, name="z")

    def noisy(z):
        return {"y": z + tf.random.stateless_normal(tf.shape(z), seed=[1, 2])}

    path = str(tmp_path / "noisy.onnx")
    with pytest.raises(UnsupportedOpsError, match="StatelessRandomNormalV2"):
        export_onnx(noisy, [spec], path, batch_sizes=(1,))
    assert os.listdir(tmp_path) == []


def _model(nodes, extra_opsets=()):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    opsets = [helper.make_opsetid("", 17)] + [helper.make_opsetid(d, 1) for d in extra_opsets]
    return helper.make_model(graph, opset_imports=opsets)


def test_non_standard_domain_is_listed_even_inside_subgraphs():
    custom = helper.make_node("FancyOp", ["x"], ["y"], domain="com.example", name="fancy")
    with pytest.raises(UnsupportedOpsError, match=r"FancyOp \(domain 'com.example'\)"):
        check_onnx_ops(_model([custom], ["com.example"]))
    branch = helper.make_graph([helper.make_node("MyTfOp", ["x"], ["b"], name="inner")], "branch", [],
                               [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    cond = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch, name="if")
    const = helper.make_node("Constant", [], ["c"], value=helper.make_tensor("v", TensorProto.BOOL, [], [True]))
    with pytest.raises(UnsupportedOpsError, match=r"MyTfOp \(domain ''\) x2"):
        check_onnx_ops(_model([const, cond]))
    standard = helper.make_node("Relu", ["x"], ["y"])
    assert check_onnx_ops(_model([standard])) == {"Relu": 1}


def test_nchw_uint8_generator_is_what_torch_fidelity_reads(tmp_path):
    """torch-fidelity's GenerativeModelONNX feeds z to the first input, reads the first output: uint8 [B, 3, H, W]."""
    from export.run import export_model
    from tests.export.conftest import tiny_vae

    model = tiny_vae()
    entry = export_model(model, "vae", str(tmp_path), batch_sizes=(1, 7), onnx_layout="nchw_uint8")
    assert entry["passed"], entry.get("traceback") or entry["onnx"]
    assert set(entry["onnx"]) == {"decoder", "decoder_nchw_uint8"}
    graph = entry["onnx"]["decoder_nchw_uint8"]
    assert graph["outputs"] == {"images": {"shape": [None, 3, 32, 32], "dtype": "uint8"}}
    session = onnxruntime.InferenceSession(graph["path"], providers=["CPUExecutionProvider"])
    assert len(session.get_inputs()) == 1 and len(session.get_outputs()) == 1
    z = np.random.default_rng(3).normal(size=(7, LATENT)).astype("float32")
    images = session.run(None, {session.get_inputs()[0].name: z})[0]
    assert images.dtype == np.uint8 and images.shape == (7, 3, 32, 32)
    expected = np.round(np.clip(model.decode(z).numpy(), 0, 1) * 255).transpose(0, 3, 1, 2)
    assert np.max(np.abs(images.astype(int) - expected)) <= 1 and images.std() > 0


def test_nchw_uint8_repeats_one_channel_to_three():
    from export.onnx_export import nchw_uint8

    gray = nchw_uint8(lambda z: {"images": tf.reshape(z, [-1, 2, 2, 1]), "other": z})
    out = gray(tf.constant([[0.0, 0.5, 1.0, 2.0]]))
    assert list(out) == ["images"] and out["images"].dtype == tf.uint8
    np.testing.assert_array_equal(out["images"].numpy(), np.tile(np.array([[[0, 128], [255, 255]]]), (1, 3, 1, 1)))
