"""ONNX export with tf2onnx: convert, refuse non-standard or unconverted ops, check, compare with onnxruntime."""

from __future__ import annotations

import collections
import functools
import os

import numpy as np
import onnx
import tensorflow as tf

from tfgm.training.atomic import atomic_path

from .endpoints import exported_fn
from .parity import check_parity, keras_outputs

OPSET = 17
STANDARD_DOMAINS = ("", "ai.onnx")
LAYOUTS = ("nhwc_float", "nchw_uint8")


class UnsupportedOpsError(ValueError):
    """The ONNX graph holds ops outside the standard ONNX domain, or TF ops tf2onnx left unconverted."""


def _nodes(graph):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from _nodes(sub)


def _default_opset(model_proto) -> int:
    versions = [o.version for o in model_proto.opset_import if o.domain in STANDARD_DOMAINS]
    return max(versions) if versions else OPSET


def find_unsupported_ops(model_proto) -> list[tuple[str, str, str]]:
    """``(domain, op_type, node name)`` of every node (subgraphs included) that is not a standard ONNX op.

    Standard: default domain ('' or 'ai.onnx') and an op schema exists at the model's opset. tf2onnx
    keeps TF ops it cannot convert as default-domain nodes with the TF op name, which this catches.
    """
    opset = _default_opset(model_proto)
    bad = []
    for node in _nodes(model_proto.graph):
        if node.domain not in STANDARD_DOMAINS:
            bad.append((node.domain, node.op_type, node.name))
            continue
        try:
            onnx.defs.get_schema(node.op_type, max_inclusive_version=opset, domain="")
        except onnx.defs.SchemaError:
            bad.append((node.domain, node.op_type, node.name))
    return bad


def check_onnx_ops(model_proto, what: str = "ONNX graph") -> dict[str, int]:
    """Op-type counts of ``model_proto``; raises ``UnsupportedOpsError`` listing every non-standard op."""
    bad = find_unsupported_ops(model_proto)
    if bad:
        by_op = collections.Counter(f"{op} (domain '{domain}')" for domain, op, _ in bad)
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(by_op.items()))
        raise UnsupportedOpsError(
            f"{what} contains ops outside the standard ONNX opset {_default_opset(model_proto)}: {listed}; "
            f"nodes: {', '.join(name for _, _, name in bad[:10])}. tf2onnx leaves ops it cannot convert "
            "(e.g. stateless random ops) in the graph; export only deterministic graphs (the client draws z)"
        )
    return dict(sorted(collections.Counter(n.op_type for n in _nodes(model_proto.graph)).items()))


def nchw_uint8(fn):
    """``fn`` (returning "images" float [B, H, W, C] in [0, 1]) as the layout torch-fidelity and other PyTorch
    consumers read: {"images": uint8 [B, 3, H, W]} (round(255·x), clipped; one channel repeated to three),
    its only output."""

    def images_nchw_uint8(*args):
        images = tf.cast(tf.round(tf.clip_by_value(fn(*args)["images"], 0.0, 1.0) * 255.0), tf.uint8)
        if images.shape[-1] == 1:
            images = tf.tile(images, [1, 1, 1, 3])
        return {"images": tf.transpose(images, [0, 3, 1, 2])}

    return images_nchw_uint8


def image_generators(graphs: dict) -> dict:
    """The graphs ``{name: (fn, signature)}`` that map one input (z) to an "images" output of rank 4."""
    found = {}
    for name, (fn, sig) in graphs.items():
        if len(sig) != 1:
            continue
        outputs = tf.function(fn, input_signature=list(sig), autograph=False).get_concrete_function().structured_outputs
        if isinstance(outputs, dict) and "images" in outputs and outputs["images"].shape.rank == 4:
            found[name] = (fn, sig)
    return found


def convert(fn, specs, opset: int = OPSET):
    """tf2onnx ``from_function`` on ``fn`` traced with ``specs``; returns the ModelProto."""
    import tf2onnx

    model_proto, _ = tf2onnx.convert.from_function(
        tf.function(fn, input_signature=specs, autograph=False), input_signature=specs, opset=opset)
    return model_proto


def _value_info(values) -> dict:
    described = {}
    for value in values:
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        described[value.name] = {"shape": dims,
                                 "dtype": onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name}
    return described


def _onnxruntime_caller(path: str):
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    input_names = [i.name for i in session.get_inputs()]
    output_names = [o.name for o in session.get_outputs()]

    def call(arrays):
        values = session.run(output_names, dict(zip(input_names, arrays)))
        return {name.removesuffix(":0"): np.asarray(v) for name, v in zip(output_names, values)}

    return call


def export_onnx(fn, input_signature, path: str, opset: int = OPSET, batch_sizes=(1, 7, 64),
                atol: float = 1e-4, name: str = "graph") -> dict:
    """Convert ``fn`` to ONNX at ``path`` (written atomically) and compare onnxruntime with Keras.

    Raises ``UnsupportedOpsError`` (nothing written) if ops are not standard ONNX, and
    ``onnx.checker.ValidationError`` if the checker rejects the model. Returns the report section.
    """
    wrapped, specs = exported_fn(name, fn, input_signature, check_shapes=False)
    model_proto = convert(wrapped, specs, opset)
    op_types = check_onnx_ops(model_proto, what=f"ONNX graph '{name}'")
    onnx.checker.check_model(model_proto)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path, suffix=".onnx") as tmp:
        onnx.save(model_proto, tmp)
    parity = check_parity(functools.partial(keras_outputs, fn, list(input_signature)),
                          _onnxruntime_caller(path), specs, batch_sizes, atol)
    return {
        "path": path,
        "opset": _default_opset(model_proto),
        "inputs": _value_info(model_proto.graph.input),
        "outputs": _value_info(model_proto.graph.output),
        "op_types": op_types,
        "parity": parity,
        "max_abs_error": max(row["max_abs_error"] for row in parity),
        "passed": all(row["passed"] for row in parity),
    }
