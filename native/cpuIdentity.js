/**
 * What a native build is compiled for (-march=native): the architecture, the CPU's model and,
 * on Linux, a digest of its instruction-set flags. scripts/build-native.js records it beside the
 * addon; src/backend/nativeKernels/nativeAddon.ts refuses an addon built for another CPU.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");

function cpuIdentity() {
  let flags = "";
  try {
    const line = fs
      .readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => /^(flags|Features)\s*:/.test(l));
    if (line) {
      const sorted = line.split(":")[1].trim().split(/\s+/).sort().join(" ");
      flags = crypto.createHash("sha256").update(sorted).digest("hex").slice(0, 16);
    }
  } catch {
    // Not Linux: the model alone.
  }
  return { arch: process.arch, cpu: os.cpus()[0]?.model ?? "unknown", flags };
}

module.exports = { cpuIdentity };
