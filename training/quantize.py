"""int8 quantization of an exported graph: per-channel weights, per-token activations.

Needs `onnx` and `onnxruntime`, not torch (the test fixture's build script uses it too).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

QUANTIZATION = "int8-per-token"


def quantize(fp32: Path, int8: Path, *, reduce_range: bool = True) -> None:
    """int8 with per-channel weights and per-token activations (see `per_token`).

    Weights use 7 of their 8 bits (`reduce_range`: -64..64). On x86 CPUs without VNNI
    (AVX2 only, e.g. AMD EPYC before Zen 4) onnxruntime's u8 x s8 kernels multiply with
    VPMADDUBSW, which adds two u8 x s8 products into an int16 and saturates past 32,767:
    with 8-bit weights, 255 x 127 x 2 can overflow, so a score there could differ from
    fp32 and from the same message on another CPU (and, on one such machine, a row batched
    differed from the same row alone). With 7-bit weights every pair sum fits (255 x 64 x 2 =
    32,640): the integer products are exact on every CPU, VNNI or not. (`reduce_range=False`
    gives the 8-bit weights models had before, for bench/int8_fidelity.py.)"""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # onnxruntime logs a pre-processing hint at WARNING
    try:
        dynamic = int8.with_name(int8.name + ".dynamic")
        quantize_dynamic(str(fp32), str(dynamic), per_channel=True, weight_type=QuantType.QInt8,
                         reduce_range=reduce_range)
        onnx.save(per_token(onnx.load(str(dynamic))), str(dynamic))
        optimize(dynamic, int8)
        dynamic.unlink()
    finally:
        quiet.setLevel(level)


def optimize(src: Path, dst: Path) -> None:
    """Save the graph as onnxruntime rewrites it before running it (fusions that hold on any
    CPU: `ORT_ENABLE_EXTENDED`): the same arithmetic, and a session loads in about 0.1 s
    instead of 0.3 s (`triage score --text` starts sooner). The runtime still asks for
    every optimization; there is little left to do."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(dst)
    opts.log_severity_level = 3
    ort.InferenceSession(str(src), opts, providers=["CPUExecutionProvider"])


def per_token(model: Any) -> Any:
    """Quantize activations per token instead of per call: batch invariant, so batchable.

    `quantize_dynamic` puts a DynamicQuantizeLinear before each weight MatMul: one scale
    and zero point for the whole activation tensor, computed over every row of the call, so
    a message's score depended on the messages batched with it and each window had to run
    in a call of its own. Here each of those nodes becomes a symmetric quantization of each
    token's activation vector on its own: scale = max|x| / 127 over the last axis, zero
    point 128 (uint8), so a token's int8 values, the integer MatMul and the result depend
    on that token alone (attention and the rest stay fp32). The per-tensor product of the
    two scales is replaced by two multiplications (weight scale, then the token's scale);
    onnxruntime would otherwise fuse MatMulInteger -> Cast -> Mul into MatMulIntegerToFloat,
    which assumes one activation scale.
    """
    import numpy as np
    from onnx import TensorProto, checker, helper, numpy_helper

    graph = model.graph
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    consts = {"pt_eps": np.array(1e-8, np.float32), "pt_127": np.array(127.0, np.float32),
              "pt_128": np.array(128.0, np.float32), "pt_0": np.array(0.0, np.float32),
              "pt_255": np.array(255.0, np.float32), "pt_zero_point": np.array(128, np.uint8)}
    if opset >= 18:  # ReduceMax takes its axes as an input from opset 18 on
        consts["pt_axes"] = np.array([-1], np.int64)
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
    nodes: list[Any] = []
    row_scales: set[str] = set()
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        (x,), (q, scale, zero) = node.input, node.output
        row_scales.add(scale)
        p = f"pt{len(row_scales)}_"
        if opset >= 18:
            amax = helper.make_node("ReduceMax", [p + "abs", "pt_axes"], [p + "amax"], keepdims=1)
        else:
            amax = helper.make_node("ReduceMax", [p + "abs"], [p + "amax"], axes=[-1], keepdims=1)
        nodes += [helper.make_node("Abs", [x], [p + "abs"]), amax,
                  helper.make_node("Max", [p + "amax", "pt_eps"], [p + "amax1"]),
                  helper.make_node("Div", [p + "amax1", "pt_127"], [scale]),
                  helper.make_node("Div", [x, scale], [p + "scaled"]),
                  helper.make_node("Round", [p + "scaled"], [p + "round"]),
                  helper.make_node("Add", [p + "round", "pt_128"], [p + "shift"]),
                  helper.make_node("Clip", [p + "shift", "pt_0", "pt_255"], [p + "clip"]),
                  helper.make_node("Cast", [p + "clip"], [q], to=TensorProto.UINT8),
                  helper.make_node("Identity", ["pt_zero_point"], [zero])]
    products = {n.output[0]: n for n in nodes
                if n.op_type == "Mul" and any(i in row_scales for i in n.input)}
    rewired: list[Any] = []
    for n in nodes:
        if n.op_type == "Mul" and n.output[0] in products:
            continue  # scale x weight scale: replaced below
        product = next((products[i] for i in n.input if i in products), None)
        if n.op_type == "Mul" and product is not None:
            other = next(i for i in n.input if i not in products)
            token = next(i for i in product.input if i in row_scales)
            weight = next(i for i in product.input if i not in row_scales)
            rewired += [helper.make_node("Mul", [other, weight], [n.output[0] + "_w"]),
                        helper.make_node("Mul", [n.output[0] + "_w", token], [n.output[0]])]
            continue
        if product is not None:
            raise ValueError(f"unexpected use of an activation scale by {n.op_type}")
        rewired.append(n)
    del graph.node[:]
    graph.node.extend(rewired)
    kept = [v for v in graph.value_info if v.name not in row_scales]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    checker.check_model(model)
    return model
