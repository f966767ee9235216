/**
 * FairDiff Lab's own plugins (extension/app only, not the labextension: they need FairDiff Lab's
 * server): the project's docs in the Help menu and the kernels' backend and mode in the status bar.
 */
import { helpDocsPlugin } from "./helpDocs";
import { modeStatusPlugin } from "./modeStatus";

export default [helpDocsPlugin, modeStatusPlugin];
