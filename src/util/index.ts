/** "fairdiff/util": the seeded random streams every result in fairdiff is drawn from. */
export { createRng, hashString, type Rng } from "./random";
