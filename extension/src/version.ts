/**
 * The npm name and exact version the widget models and views are registered under. The kernel
 * asks for a semver range of this name (kernel/widgets/fairdiffModule.ts); a test keeps the two
 * and package.json in step.
 */
export const MODULE_NAME = "fairdiff-jupyterlab";
export const MODULE_VERSION = "0.1.0";
