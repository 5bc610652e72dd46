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
