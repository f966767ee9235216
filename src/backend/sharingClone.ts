/**
 * tfjs saves every tensor a gradient needs by cloning it (engine.clone), and each clone runs an
 * Identity kernel: ~1,000 kernels per cxr-mini training step, each a full copy on wasm. A saved
 * tensor is never written to (tfjs tensors are immutable; a variable's assign swaps buffers), so
 * the clone can share its buffer instead: the backend's reference count goes up, exactly as
 * Reshape's output shares its input. This replaces the engine's clone with that sharing clone,
 * keeping the tape node it records (the gradient passes dy through, as Identity's would).
 */
import * as tf from "@tensorflow/tfjs-core";

interface BackendWithRefCount {
  incRef(dataId: object): void;
}

interface EngineInternals {
  clone(x: tf.Tensor): tf.Tensor;
  state: {
    tensorInfo: Map<object, { backend: BackendWithRefCount }>;
    activeScope: { name: string };
  };
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend: BackendWithRefCount): tf.Tensor;
  addTapeNode(
    kernelName: string,
    inputs: Record<string, tf.Tensor>,
    outputs: tf.Tensor[],
    gradient: (dy: tf.Tensor) => Record<string, () => tf.Tensor>,
    saved: tf.Tensor[],
    attrs: object,
  ): void;
}

let installed = false;

export function installSharingClone(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  engine.clone = function sharingClone(this: EngineInternals, x: tf.Tensor): tf.Tensor {
    const holder = this.state.tensorInfo.get(x.dataId)?.backend;
    if (!holder) throw new Error(`clone of a disposed tensor (id ${x.id})`);
    holder.incRef(x.dataId);
    const y = this.makeTensorFromTensorInfo(
      { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
      holder,
    );
    this.addTapeNode(
      this.state.activeScope.name,
      { x },
      [y],
      (dy) => ({ x: () => tf.cast(dy, "float32") }),
      [],
      {},
    );
    return y;
  };
}
