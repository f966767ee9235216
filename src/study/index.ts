/** The end-to-end study (what `fairdiff start --headless` runs) and helpers the notebooks share. */
export { runStudy, studyAudit } from "./runStudy";
export type {
  StudyAttribute,
  StudyAudit,
  StudyOptions,
  StudyProgress,
  StudyResult,
  StudyTrainingStep,
} from "./runStudy";
export { studySettings, STUDY_PROMPT, type StudySettings } from "./studySettings";
export { studyReportPage } from "./studyReportPage";
export {
  lineChartSvg,
  shareBarChartSvg,
  niceTicks,
  type BarChartOptions,
  type BarSeries,
  type LineChartOptions,
  type LineSeries,
} from "./svgCharts";
export {
  writeChexpertFormat,
  writeFairGenMedFormat,
  writeHam10000Format,
  type RealFormatFiles,
  type RealFormatOptions,
} from "./realFormatFixtures";
export { imageGridPng, type ImageGridOptions } from "./imageGridPng";
export { staticFigure, type StaticFigure } from "./staticFigure";
export { compareFixes, type CompareFixesOptions, type ComparisonProgress } from "./compareFixes";
export {
  comparisonSettings,
  type ComparisonAuditSettings,
  type ComparisonOverrides,
  type ComparisonSettings,
} from "./comparisonSettings";
export { comparisonTable, type ComparisonColumn, type ComparisonTable } from "./comparisonTable";
export { comparisonHtmlPage, comparisonMarkdown, comparisonSummary } from "./comparisonPage";
export {
  FIX_COMPARISON_KIND,
  FIX_COMPARISON_SCHEMA_VERSION,
  loadFixComparison,
  parseFixComparison,
  saveFixComparison,
  type ComparisonRow,
  type FixComparisonData,
  type FixCost,
} from "./fixComparison";
