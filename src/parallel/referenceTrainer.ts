/** A data-parallel trainer for the reference conv net (backend calibration: bench, `fairdiff start`). */
import * as path from "node:path";
import type { BackendRequest } from "../backend/backendInfo";
import { compiledModule } from "./compiledModule";
import { DataParallelTrainer } from "./dataParallelTrainer";

export function createReferenceTrainer(
  replicas: number,
  backend: BackendRequest = "wasm",
): Promise<DataParallelTrainer> {
  return DataParallelTrainer.create({
    replicas,
    model: {
      module: compiledModule(path.join(__dirname, "../backend"), "referenceConvNet"),
      exportName: "createReferenceConvNet",
      options: { seed: 0 },
    },
    optimizer: { name: "adam", learningRate: 1e-3 },
    backend,
  });
}
