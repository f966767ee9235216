/** fairdiff: study and fix subgroup bias in text-to-medical-image diffusion models. */
export * from "./backend";
export { createRng, hashString, type Rng } from "./util/random";
export * from "./schedulers";
export * from "./data";
export * from "./io";
export * from "./models";
export * from "./fairness";
export * from "./parallel";
export * from "./pipeline";
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from "./io/checkpoint";
export { writeFileAtomic } from "./io/atomicWrite";
export * from "./classifiers";
export * from "./audit";
export * from "./features";
export * from "./methods";
export * from "./study";
