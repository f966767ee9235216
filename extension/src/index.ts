/**
 * fairdiff's JupyterLab plugin: registers the widget models and views with the widget manager
 * under this package's name and version. The audit-report renderer is the package's
 * mimeExtension (auditReportMime.ts). The stylesheet (style/index.css) is the package's "style"
 * (package.json), which JupyterLab loads with the extension and FairDiff Lab imports itself: an
 * import here would not resolve from lib/, which mirrors the repository one level deeper.
 */
import { IJupyterWidgetRegistry } from "@jupyter-widgets/base";
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { MetricsPlotModel, MetricsPlotView } from "./metricsPlot";
import { SampleGridModel, SampleGridView } from "./sampleGrid";
import { SubgroupHistogramModel, SubgroupHistogramView } from "./subgroupHistogram";
import { TargetDistributionModel, TargetDistributionView } from "./targetDistribution";
import { TrainingDashboardModel, TrainingDashboardView } from "./trainingDashboard";
import { MODULE_NAME, MODULE_VERSION } from "./version";

export const widgetExports = {
  TargetDistributionModel,
  TargetDistributionView,
  SubgroupHistogramModel,
  SubgroupHistogramView,
  MetricsPlotModel,
  MetricsPlotView,
  SampleGridModel,
  SampleGridView,
  TrainingDashboardModel,
  TrainingDashboardView,
};

const widgetsPlugin: JupyterFrontEndPlugin<void> = {
  id: "fairdiff-jupyterlab:widgets",
  description: "fairdiff widgets: target sliders, subgroup histogram, metrics, samples, dashboard",
  requires: [IJupyterWidgetRegistry],
  autoStart: true,
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry) => {
    registry.registerWidget({ name: MODULE_NAME, version: MODULE_VERSION, exports: widgetExports });
  },
};

export { MODULE_NAME, MODULE_VERSION };
export default [widgetsPlugin];
