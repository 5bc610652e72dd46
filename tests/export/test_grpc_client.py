"""The gRPC client example: PredictRequests typed by the report, checked against the SavedModel's signature_def
and answered the way TF Serving's Predict does (no model server can run here)."""

import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.tools import saved_model_utils
from tensorflow_serving.apis import predict_pb2

from export.grpc_client import outputs_of, predict_request, signatures_from_report
from tests.models._tiny import LATENT


def _serve(loaded, request):
    """TF Serving's Predict: TensorProtos → the signature → PredictResponse."""
    feeds = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
    response = predict_pb2.PredictResponse()
    for name, value in loaded.signatures[request.model_spec.signature_name](**feeds).items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
    return response


def test_requests_match_the_signature_def_and_are_answered(exported):
    run_dir, _ = exported
    path = os.path.join(run_dir, "export", "savedmodel", "vae", "1")
    signatures = signatures_from_report(os.path.join(run_dir, "export", "export_report.json"), "vae")
    signature_defs = saved_model_utils.get_meta_graph_def(path, "serve").signature_def
    z = np.random.default_rng(0).normal(size=(2, LATENT))
    requests = [predict_request("vae", "sample", {"n": 3, "seed": 7}, signatures["sample"], version=1),
                predict_request("vae", "decode", {"z": z}, signatures["decode"])]
    loaded = tf.saved_model.load(path)
    for request in requests:
        declared = signature_defs[request.model_spec.signature_name].inputs
        assert set(request.inputs) == set(declared)
        for name, proto in request.inputs.items():
            assert proto.dtype == declared[name].dtype, name
            dims = [d.size for d in declared[name].tensor_shape.dim]
            sent = [d.size for d in proto.tensor_shape.dim]
            assert len(sent) == len(dims) and all(d in (-1, s) for d, s in zip(dims, sent)), name
    assert requests[0].model_spec.version.value == 1
    sampled = outputs_of(_serve(loaded, requests[0]))
    assert sampled["images"].shape == (3, 32, 32, 3) and sampled["z"].shape == (3, LATENT)
    direct = loaded.signatures["sample"](n=tf.constant(3), seed=tf.constant(7, tf.int64))
    np.testing.assert_array_equal(sampled["images"], direct["images"].numpy())
    decoded = outputs_of(_serve(loaded, requests[1]))
    assert decoded["images"].shape == (2, 32, 32, 3) and decoded["images"].dtype == np.float32


def test_wrong_input_names_and_models_are_named(exported):
    report = os.path.join(exported[0], "export", "export_report.json")
    signatures = signatures_from_report(report, "vae")
    with pytest.raises(ValueError, match=r"signature sample takes inputs \['n', 'seed'\], got \['n'\]"):
        predict_request("vae", "sample", {"n": 3}, signatures["sample"])
    with pytest.raises(ValueError, match="no exported model 'gan'.*exported: discreg_vae, vae"):
        signatures_from_report(report, "gan")
