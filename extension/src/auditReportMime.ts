/**
 * JupyterLab mime renderer for fairdiff audit reports. It draws from the saved JSON alone, so a
 * notebook reopened without a kernel still shows the full report; it never injects HTML, so it
 * is safe for untrusted notebooks too.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { AUDIT_REPORT_MIME } from "./auditReport/reportJson";
import { renderAuditReport } from "./auditReport/renderReport";

export class AuditReportRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly mimeType: string) {
    super();
    this.addClass("fd-report-host");
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    renderAuditReport(this.node, model.data[this.mimeType]);
    return Promise.resolve();
  }
}

export const auditReportRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [AUDIT_REPORT_MIME],
  defaultRank: 40,
  createRenderer: (options) => new AuditReportRenderer(options.mimeType),
};

const extension: IRenderMime.IExtension = {
  id: "fairdiff-jupyterlab:audit-report",
  description: "Renders fairdiff audit reports",
  rendererFactory: auditReportRendererFactory,
  rank: 40,
  dataType: "json",
};

export default extension;
