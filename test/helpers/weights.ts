/** Synchronous weight copies for tests that run on wasm or cpu (src reads weights with data()). */
import type { Module } from "../../src/models/module";

export function weightsSync(module: Module): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, v] of module.namedParameters()) out[name] = Float32Array.from(v.dataSync());
  return out;
}
