"""A TF Serving gRPC client for exported signatures: ``PredictRequest``s typed from ``export_report.json``.

Needs ``tensorflow-serving-api`` (same version as TensorFlow) and ``grpcio`` on the client only; tfgm never
imports this module. Example (TF Serving's gRPC port is 8500)::

    import grpc
    from export.grpc_client import predict, predict_request, signatures_from_report
    signatures = signatures_from_report("runs/discreg_celeba/<name>/export/export_report.json", "discreg_vae")
    request = predict_request("discreg_vae", "sample", {"n": 4, "seed": 7}, signatures["sample"])
    outputs = predict(grpc.insecure_channel("localhost:8500"), request)   # {"images": [4, 64, 64, 3], "z": ...}
"""

from __future__ import annotations

import json

import numpy as np
import tensorflow as tf


def signatures_from_report(report_path: str, model: str) -> dict:
    """``{signature: {"inputs": {name: {shape, dtype}}, "outputs": ...}}`` of ``model`` in an export report."""
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    if model not in report.get("models", {}) or "savedmodel" not in report["models"][model]:
        raise ValueError(f"{report_path} has no exported model {model!r}; exported: "
                         f"{', '.join(m for m, e in report.get('models', {}).items() if 'savedmodel' in e)}")
    return report["models"][model]["savedmodel"]["signatures"]


def predict_request(model: str, signature_name: str, inputs: dict, signature: dict, version: int | None = None):
    """A ``PredictRequest`` for ``signature_name`` of ``model``: each input a TensorProto of the dtype the
    signature declares (so ``seed=7`` is sent as int64 and ``n=4`` as int32). Missing or unknown input
    names raise ValueError."""
    from tensorflow_serving.apis import predict_pb2

    expected = signature["inputs"]
    if set(inputs) != set(expected):
        raise ValueError(f"signature {signature_name} takes inputs {sorted(expected)}, got {sorted(inputs)}")
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value), dtype=expected[name]["dtype"]))
    return request


def outputs_of(response) -> dict:
    """``{output name: numpy array}`` of a ``PredictResponse``."""
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def predict(channel, request, timeout: float = 60.0) -> dict:
    """Send ``request`` over a gRPC ``channel`` to TF Serving; ``{output name: numpy array}``."""
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    return outputs_of(prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout))
