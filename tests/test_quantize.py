"""Per-token int8 quantization (training/quantize.py): batch invariant and close to fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from training.quantize import quantize

FIXTURE = Path(__file__).parent / "fixtures" / "tiny-model"


def _inputs(rng: np.random.Generator, rows: int, width: int) -> dict[str, np.ndarray]:
    ids = rng.integers(5, 2000, size=(rows, width), dtype=np.int64)
    mask = np.ones((rows, width), dtype=np.int64)
    for r in range(rows):
        n = int(rng.integers(3, width + 1))
        ids[r, n:] = 0
        mask[r, n:] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> tuple[ort.InferenceSession, ...]:
    out = tmp_path_factory.mktemp("q") / "model.onnx"
    quantize(FIXTURE / "model-fp32.onnx", out)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    int8 = ort.InferenceSession(str(out), opts, providers=["CPUExecutionProvider"])
    fp32 = ort.InferenceSession(str(FIXTURE / "model-fp32.onnx"),
                                providers=["CPUExecutionProvider"])
    return int8, fp32, out


def test_per_token_graph_has_no_per_call_activation_scale(graphs: tuple) -> None:
    ops = {n.op_type for n in onnx.load(str(graphs[2])).graph.node}
    assert "DynamicQuantizeLinear" not in ops
    assert "MatMulInteger" in ops


def test_weights_use_seven_bits(graphs: tuple) -> None:
    """Every int8 weight lies in -64..64, so that u8 x s8 pair sums fit in int16 on CPUs
    without VNNI (VPMADDUBSW saturates past 32,767; 255 x 127 x 2 would): with 8-bit weights
    the two checks below fail on an AVX2-only AMD EPYC (logits 0.25 from fp32, a row 29.6
    from it where it should be within 3.7)."""
    from onnx import TensorProto, numpy_helper

    weights = [numpy_helper.to_array(t) for t in onnx.load(str(graphs[2])).graph.initializer
               if t.data_type == TensorProto.INT8 and len(t.dims) == 2]
    assert weights
    widest = max(int(np.abs(w.astype(np.int16)).max()) for w in weights)
    assert 60 <= widest <= 64  # 7 bits, and not shrunk further


def _two_layer(path: Path) -> None:
    """x [batch, tokens, 16] -> MatMul -> Relu -> MatMul -> y: the weight MatMuls of an
    encoder layer, with nothing else that could differ by batch shape."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    weights = [numpy_helper.from_array(rng.normal(size=(16, 32)).astype(np.float32), "w1"),
               numpy_helper.from_array(rng.normal(size=(32, 8)).astype(np.float32), "w2")]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("MatMul", ["r", "w2"], ["y"])], "two-layer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", 8])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_per_token_scores_do_not_depend_on_batch_company(tmp_path: Path) -> None:
    """Each token is quantized alone: a row's output is bit for bit the same alone, in any
    batch and beside rows of any size (the default model: 1,500 dev messages, largest
    difference 0.0, docs/benchmarks.md)."""
    _two_layer(tmp_path / "fp32.onnx")
    quantize(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    session = ort.InferenceSession(str(tmp_path / "int8.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 24, 16)).astype(np.float32)
    x[3] *= 1000  # a loud neighbour: with one scale per call it would crush the others
    together = session.run(["y"], {"x": x})[0]
    alone = np.concatenate([session.run(["y"], {"x": x[i:i + 1]})[0] for i in range(16)])
    assert np.array_equal(together, alone)
    fp32 = ort.InferenceSession(str(tmp_path / "fp32.onnx"), providers=["CPUExecutionProvider"])
    exact = fp32.run(["y"], {"x": x})[0]
    quiet = np.delete(np.arange(16), 3)
    assert np.abs(together[quiet] - exact[quiet]).max() < 0.05 * np.abs(exact[quiet]).max()


def test_per_token_stays_close_to_fp32(graphs: tuple) -> None:
    """The fused kernel onnxruntime would make of MatMulInteger -> Cast -> Mul assumes one
    activation scale; the graph must not let it apply (that bug moved logits by ~0.5)."""
    int8, fp32, _ = graphs
    feed = _inputs(np.random.default_rng(5), 32, 40)
    a, b = int8.run(["logits"], feed)[0], fp32.run(["logits"], feed)[0]
    assert np.abs(a - b).max() < 0.05
    assert np.abs(a - b).max() > 0  # it is quantized
