/**
 * SubgroupHistogram (kernel side): generated vs target vs training-data share per group, with the
 * generated share's interval, one panel per attribute or intersection, and a note saying what the
 * shares are (which step's evaluation, its bias and the target that bias is measured against).
 * Updates replace a panel's numbers; the frontend redraws in place and the widget coalesces fast
 * updates.
 */
import type { AttributeProportions } from "../../src/methods/methodEvents";
import { shareBarChartSvg, type BarSeries } from "../../src/study/svgCharts";
import { DOM_WIDGET_BASE, fairdiffSpec } from "./fairdiffModule";
import { fallbackBlock, note, percent, svgImage, type StaticFallback } from "./staticFallback";
import { biasAgainst } from "./targetLabel";
import type { HistogramPanel } from "./histogramPanel";
import { Widget } from "./widget";

type State = Record<string, unknown> & {
  panels: HistogramPanel[];
  selected: string;
  title: string;
};

function checkLength(key: string, what: string, values: number[] | undefined, k: number): void {
  if (values && values.length !== k) {
    throw new Error(`panel "${key}": ${what} has ${values.length} values for ${k} groups`);
  }
  for (const v of values ?? []) {
    if (!Number.isFinite(v)) throw new Error(`panel "${key}": ${what} holds ${v}`);
  }
}

export class SubgroupHistogram extends Widget<State> {
  constructor(options: { title?: string; panels?: HistogramPanel[] } = {}) {
    super(fairdiffSpec("SubgroupHistogram"), {
      ...DOM_WIDGET_BASE,
      panels: [],
      selected: "",
      title: options.title ?? "Subgroup shares",
    });
    for (const panel of options.panels ?? []) this.setPanel(panel);
  }

  get panels(): HistogramPanel[] {
    return this.get("panels").map((p) => ({ ...p }));
  }

  /** Adds or replaces the panel with `panel.key`, keeping fields the update leaves out. */
  setPanel(panel: HistogramPanel): void {
    const k = panel.groups.length;
    checkLength(panel.key, "generated", panel.generated, k);
    checkLength(panel.key, "lower", panel.lower, k);
    checkLength(panel.key, "upper", panel.upper, k);
    checkLength(panel.key, "target", panel.target, k);
    checkLength(panel.key, "training", panel.training, k);
    const panels = this.get("panels");
    const old = panels.find((p) => p.key === panel.key);
    const merged =
      old && old.groups.join("\u0000") === panel.groups.join("\u0000")
        ? { ...old, ...withoutUndefined(panel) }
        : { ...withoutUndefined(panel) };
    const next = old ? panels.map((p) => (p === old ? merged : p)) : [...panels, merged];
    this.set({ panels: next, selected: this.get("selected") || panel.key });
  }

  /**
   * The audited proportions of a method's evaluation event (one panel per attribute); `step`
   * names the evaluation in the panel's note.
   */
  showProportions(
    attributes: readonly AttributeProportions[],
    context: { step?: number } = {},
  ): void {
    for (const a of attributes) {
      const when = context.step !== undefined ? `evaluation at step ${context.step} · ` : "";
      this.setPanel({
        key: a.attribute,
        groups: [...a.groups],
        generated: [...a.proportions],
        lower: a.intervals.map((i) => i.lower),
        upper: a.intervals.map((i) => i.upper),
        target: [...a.target],
        n: a.n,
        note: `${when}${biasAgainst(a.groups, a.target)} ${a.bias.toFixed(3)}`,
      });
    }
  }

  /** The training data's share of each group, e.g. from a cohort summary. */
  setTraining(key: string, groups: string[], shares: number[]): void {
    this.setPanel({ key, groups, training: shares });
  }

  /** Each panel in words, and as a bar chart: generated (with interval), training, target. */
  override staticFallback(): StaticFallback {
    const title = this.get("title");
    const panels = this.get("panels");
    if (panels.length === 0) {
      return {
        text: `${title}: no data yet`,
        html: fallbackBlock("SubgroupHistogram", title, [note("No data yet.")]),
      };
    }
    const lines = panels.map((p) => {
      const n = p.n !== undefined ? ` (n=${p.n}${p.note ? `; ${p.note}` : ""})` : "";
      const groups = p.groups.map((g, i) => {
        const parts: string[] = [];
        if (p.generated) {
          const interval =
            p.lower && p.upper ? ` [${percent(p.lower[i])}, ${percent(p.upper[i])}]` : "";
          parts.push(`${percent(p.generated[i])}${interval}`);
        }
        if (p.target) parts.push(`target ${percent(p.target[i])}`);
        if (p.training) parts.push(`training ${percent(p.training[i])}`);
        return `${g} ${parts.join(", ")}`;
      });
      return `  ${p.key}${n}: ${groups.join("; ")}`;
    });
    const charts = panels.map((p) => {
      const series: BarSeries[] = [];
      if (p.generated) {
        series.push({ name: "generated", values: p.generated, lower: p.lower, upper: p.upper });
      }
      if (p.training) series.push({ name: "training data", values: p.training });
      if (series.length === 0 && p.target) series.push({ name: "target", values: p.target });
      const n = p.n !== undefined ? ` (n=${p.n})` : "";
      return svgImage(
        shareBarChartSvg(series, {
          title: `${title} · ${p.key}${n}`,
          groups: p.groups,
          target: p.target,
        }),
      );
    });
    return {
      text: [`${title}:`, ...lines].join("\n"),
      html: fallbackBlock("SubgroupHistogram", title, charts),
    };
  }

  select(key: string): void {
    if (!this.get("panels").some((p) => p.key === key)) throw new Error(`no panel "${key}"`);
    this.set({ selected: key });
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
