import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "coverage/",
      "test-artifacts/",
      "extension/lib/",
      // Local experiments, ignored by git as well.
      "scratch/",
      "**/*.js",
      "!eslint.config.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-constant-condition": ["error", { checkLoops: false }],
      // Optional backends and native addons are loaded lazily with require() on purpose.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // Code that may run on WebGPU reads tensors with `await data()`: tfjs-webgpu cannot read a
    // GPU buffer synchronously under Node (dataSync throws "OffscreenCanvas is not defined").
    files: [
      "src/**/*.ts",
      "kernel/**/*.ts",
      "bench/**/*.ts",
      "scripts/**/*.ts",
      "test/webgpu/**/*.ts",
    ],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[property.name=/^(dataSync|arraySync|bufferSync)$/]",
          message:
            "synchronous tensor reads fail on WebGPU under Node: use `await tensor.data()` / `await tensor.array()` / `await tensor.buffer()`",
        },
      ],
    },
  },
);
