/** The throwaway Redis the scale-out tests use: the benchmark's own (bench/localRedis.ts). */
export {
  redisServerAvailable,
  startRedis,
  type LocalRedis as TestRedis,
} from "../../bench/localRedis";
