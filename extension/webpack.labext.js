/**
 * Extra webpack settings for build-labextension (package.json jupyterlab.webpackConfig).
 * plotly.js-dist-min is already minified and self-contained: no parsing, no second minification
 * (that alone took minutes on two cores).
 */
module.exports = {
  module: { noParse: /plotly\.js-dist-min/ },
  optimization: { minimize: false },
};
