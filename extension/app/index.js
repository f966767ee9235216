/**
 * FairDiff Lab: a JupyterLab 4 front end assembled from npm packages, with the ipywidgets
 * manager and fairdiff's own plugin and audit-report renderer bundled in (no module
 * federation). Served by jupyterlab_server's LabServerApp (extension/app/fairdiff_lab.py).
 */
import { JupyterLab } from "@jupyterlab/application";
import "./build/style.js";
// fairdiff's own stylesheet (the labextension declares it as its package "style").
import "../../style/index.css";

import applicationExtension from "@jupyterlab/application-extension";
import apputilsExtension from "@jupyterlab/apputils-extension";
import codemirrorExtension from "@jupyterlab/codemirror-extension";
import completerExtension from "@jupyterlab/completer-extension";
import docmanagerExtension from "@jupyterlab/docmanager-extension";
import documentsearchExtension from "@jupyterlab/documentsearch-extension";
import filebrowserExtension from "@jupyterlab/filebrowser-extension";
import helpExtension from "@jupyterlab/help-extension";
import launcherExtension from "@jupyterlab/launcher-extension";
import mainmenuExtension from "@jupyterlab/mainmenu-extension";
import markdownviewerExtension from "@jupyterlab/markdownviewer-extension";
import markedparserExtension from "@jupyterlab/markedparser-extension";
import notebookExtension from "@jupyterlab/notebook-extension";
import rendermimeExtension from "@jupyterlab/rendermime-extension";
import runningExtension from "@jupyterlab/running-extension";
import shortcutsExtension from "@jupyterlab/shortcuts-extension";
import statusbarExtension from "@jupyterlab/statusbar-extension";
import themeDarkExtension from "@jupyterlab/theme-dark-extension";
import themeLightExtension from "@jupyterlab/theme-light-extension";
import translationExtension from "@jupyterlab/translation-extension";
import uiComponentsExtension from "@jupyterlab/ui-components-extension";
import widgetManager from "@jupyter-widgets/jupyterlab-manager";

// extension/lib mirrors the repository (tsconfig rootDir ".."): the extension's modules are
// under lib/extension/src, the report chart modules it shares with the library under lib/src.
import fairdiffPlugins from "../lib/extension/src/index.js";
import auditReportMime from "../lib/extension/src/auditReportMime.js";
import fairdiffLabPlugins from "../lib/extension/src/lab/index.js";

/** Plugins left out: language servers need a server extension jupyter_server 1.x lacks; the
 * news announcements would fetch from the internet; the forum and web-reference Help entries
 * point at websites a class offline cannot reach (the Help menu lists fairdiff's own docs
 * instead, lab/helpDocs.ts); the table of contents and metadata form need packages this app
 * does not bundle. */
const LEFT_OUT = [
  /language-server/,
  /:announcements$/,
  /help-extension:(jupyter-forum|resources)$/,
  /:toc$/,
  /:update-raw-mimetype$/,
];
const without = (plugins) => plugins.filter(({ id }) => !LEFT_OUT.some((re) => re.test(id)));

window.addEventListener("load", async () => {
  const lab = new JupyterLab({ mimeExtensions: [auditReportMime] });
  lab.registerPluginModules([
    applicationExtension,
    without(apputilsExtension),
    codemirrorExtension,
    completerExtension,
    docmanagerExtension,
    documentsearchExtension,
    filebrowserExtension,
    without(helpExtension),
    launcherExtension,
    mainmenuExtension,
    markdownviewerExtension,
    markedparserExtension,
    without(notebookExtension),
    rendermimeExtension,
    runningExtension,
    shortcutsExtension,
    statusbarExtension,
    themeDarkExtension,
    themeLightExtension,
    translationExtension,
    uiComponentsExtension,
    widgetManager,
    fairdiffPlugins,
    fairdiffLabPlugins,
  ]);
  await lab.start();
  await lab.restored;
  // A marker the browser test (and curious users) can wait on.
  document.body.dataset.fairdiffLab = "ready";
  window.fairdiffLab = lab;
});
