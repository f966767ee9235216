/** "fairdiff/util": the seeded random streams every result in fairdiff is drawn from, and quick mode. */
export { createRng, hashString, type Rng } from "./random";
export { QUICK_MODE_VARIABLE, quickMode } from "./quickMode";
