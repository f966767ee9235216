/**
 * webpack configuration of FairDiff Lab (extension/app): one development bundle (no
 * minification, no source maps: fast to build, served locally), plus the asset configs from
 * @jupyterlab/builder that copy settings schemas and theme CSS where LabServerApp serves them.
 */
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const webpack = require("webpack");
const { merge } = require("webpack-merge");
const baseConfig = require("@jupyterlab/builder/lib/webpack.config.base");
const { Build } = require("@jupyterlab/builder");

/** JupyterLab packages whose schemas, themes and styles the app needs (see app/index.js). */
const LAB_PACKAGES = [
  "@jupyterlab/application-extension",
  "@jupyterlab/apputils-extension",
  "@jupyterlab/codemirror-extension",
  "@jupyterlab/completer-extension",
  "@jupyterlab/docmanager-extension",
  "@jupyterlab/documentsearch-extension",
  "@jupyterlab/filebrowser-extension",
  "@jupyterlab/help-extension",
  "@jupyterlab/launcher-extension",
  "@jupyterlab/mainmenu-extension",
  "@jupyterlab/markdownviewer-extension",
  "@jupyterlab/markedparser-extension",
  "@jupyterlab/notebook-extension",
  "@jupyterlab/rendermime-extension",
  "@jupyterlab/running-extension",
  "@jupyterlab/shortcuts-extension",
  "@jupyterlab/statusbar-extension",
  "@jupyterlab/theme-dark-extension",
  "@jupyterlab/theme-light-extension",
  "@jupyterlab/translation-extension",
  "@jupyterlab/ui-components-extension",
  "@jupyter-widgets/jupyterlab-manager",
];

module.exports = function appWebpackConfig({ app, output }) {
  fs.mkdirSync(output, { recursive: true });
  const assets = Build.ensureAssets({ packageNames: LAB_PACKAGES, output });
  const bundle = merge(baseConfig, {
    mode: "development",
    devtool: false,
    context: app,
    entry: path.join(app, "index.js"),
    output: { path: output, filename: "bundle.js", publicPath: "auto" },
    module: { noParse: /plotly\.js-dist-min/ },
    resolve: {
      // yjs ships CommonJS and ES builds; packages reaching it both ways would load two copies
      // ("Yjs was already imported"), so every import gets the ES build.
      alias: { yjs$: path.join(path.dirname(require.resolve("yjs")), "yjs.mjs") },
    },
    performance: { hints: false },
    infrastructureLogging: { level: "error" },
    stats: "errors-warnings",
    plugins: [new webpack.DefinePlugin({ "process.env.NODE_ENV": JSON.stringify("development") })],
  });
  return [bundle, ...assets];
};

module.exports.LAB_PACKAGES = LAB_PACKAGES;
