/**
 * TargetDistribution (kernel side): sliders for the target share of each group, per attribute.
 * `.value` is attribute → group → p; `getter()` is a TargetGetter for the mitigation methods, read
 * every step, so dragging a slider changes the target of a loop that is already running.
 * Frontend updates are validated (every group present, finite, ≥ 0, sum 1) before they apply.
 */
import { defineAttribute } from "../../src/data/subgroups";
import { validateTarget, uniformTarget } from "../../src/data/targetDistribution";
import type { TargetDistributions, TargetGetter } from "../../src/methods/methodEvents";
import { shareBarChartSvg } from "../../src/study/svgCharts";
import { DOM_WIDGET_BASE, fairdiffSpec } from "./fairdiffModule";
import { fallbackBlock, percent, svgImage, type StaticFallback } from "./staticFallback";
import { Widget } from "./widget";

export interface TargetDistributionOptions {
  /** attribute → its groups, in display order. */
  attributes: Record<string, readonly string[]>;
  /** Starting target; uniform for attributes left out. */
  value?: TargetDistributions;
  /** Named targets offered as buttons next to "uniform", e.g. a dataset's own proportions. */
  presets?: Record<string, TargetDistributions>;
  /** attribute → groups whose share stays put while the others move. */
  locked?: Record<string, string[]>;
  description?: string;
}

type State = Record<string, unknown> & {
  attributes: { name: string; groups: string[] }[];
  value: TargetDistributions;
  locked: Record<string, string[]>;
  presets: { name: string; value: TargetDistributions }[];
  description: string;
};

function copy(value: TargetDistributions): TargetDistributions {
  return Object.fromEntries(Object.entries(value).map(([a, d]) => [a, { ...d }]));
}

export class TargetDistribution extends Widget<State> {
  private readonly groupsOf: Record<string, readonly string[]>;

  constructor(options: TargetDistributionOptions) {
    const entries = Object.entries(options.attributes);
    if (entries.length === 0) throw new Error("TargetDistribution needs at least one attribute");
    const attributes = entries.map(([name, groups]) => defineAttribute(name, groups));
    const value: Record<string, Record<string, number>> = {};
    for (const attribute of attributes) {
      const given = options.value?.[attribute.name];
      value[attribute.name] = {
        ...(given ? validateTarget(attribute, given) : uniformTarget(attribute)),
      };
    }
    for (const name of Object.keys(options.value ?? {})) {
      if (!options.attributes[name]) throw new Error(`value names unknown attribute "${name}"`);
    }
    const presets = Object.entries(options.presets ?? {}).map(([name, preset]) => {
      const checked: Record<string, Record<string, number>> = {};
      for (const [attributeName, distribution] of Object.entries(preset)) {
        const attribute = attributes.find((a) => a.name === attributeName);
        if (!attribute) {
          throw new Error(`preset "${name}" names unknown attribute "${attributeName}"`);
        }
        checked[attributeName] = { ...validateTarget(attribute, distribution) };
      }
      return { name, value: checked };
    });
    super(fairdiffSpec("TargetDistribution"), {
      ...DOM_WIDGET_BASE,
      attributes: attributes.map((a) => ({ name: a.name, groups: [...a.groups] })),
      value,
      locked: options.locked ?? {},
      presets,
      description: options.description ?? "Target distribution",
    });
    this.groupsOf = Object.fromEntries(attributes.map((a) => [a.name, a.groups]));
  }

  /** The current target, attribute → group → p (a copy). */
  get value(): TargetDistributions {
    return copy(this.get("value"));
  }

  /** Replaces the target of the attributes given (others keep theirs). */
  set value(value: TargetDistributions) {
    this.set({ value: { ...this.get("value"), ...this.checked(value) } });
  }

  /** A TargetGetter for the mitigation methods: always the latest slider positions. */
  getter(): TargetGetter {
    return () => this.value;
  }

  /** Calls `handler` with the new target after every change (slider or code). */
  onChange(handler: (value: TargetDistributions) => void): () => void {
    return this.observe("value", () => handler(this.value));
  }

  lock(attribute: string, group: string, locked = true): void {
    const groups = this.groupsOf[attribute];
    if (!groups) throw new Error(`unknown attribute "${attribute}"`);
    if (!groups.includes(group)) throw new Error(`unknown group "${group}" of "${attribute}"`);
    const current = this.get("locked")[attribute] ?? [];
    const next = locked ? [...new Set([...current, group])] : current.filter((g) => g !== group);
    this.set({ locked: { ...this.get("locked"), [attribute]: next } });
  }

  /** The target share of each group, in words and as one bar chart per attribute. */
  override staticFallback(): StaticFallback {
    const description = this.get("description");
    const value = this.get("value");
    const attributes = this.get("attributes");
    const lines = attributes.map(
      (a) => `  ${a.name}: ${a.groups.map((g) => `${g} ${percent(value[a.name][g])}`).join(" / ")}`,
    );
    const charts = attributes.map((a) =>
      svgImage(
        shareBarChartSvg([{ name: "target", values: a.groups.map((g) => value[a.name][g]) }], {
          title: `${description} · ${a.name}`,
          groups: a.groups,
        }),
      ),
    );
    return {
      text: [`${description}:`, ...lines].join("\n"),
      html: fallbackBlock("TargetDistribution", description, charts),
    };
  }

  private checked(value: unknown): TargetDistributions {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error(
        `target must be an object attribute → group → p, got ${JSON.stringify(value)}`,
      );
    }
    const out: Record<string, Record<string, number>> = {};
    for (const [name, distribution] of Object.entries(value as Record<string, unknown>)) {
      const groups = this.groupsOf[name];
      if (!groups) throw new Error(`target names unknown attribute "${name}"`);
      if (typeof distribution !== "object" || distribution === null) {
        throw new Error(
          `target for "${name}" must be group → p, got ${JSON.stringify(distribution)}`,
        );
      }
      out[name] = {
        ...validateTarget(defineAttribute(name, groups), distribution as Record<string, number>),
      };
    }
    return out;
  }

  protected override validateUpdate(incoming: Record<string, unknown>): void {
    if ("value" in incoming) {
      const checked = this.checked(incoming.value);
      for (const name of Object.keys(this.groupsOf)) {
        if (!checked[name]) throw new Error(`frontend target lacks attribute "${name}"`);
      }
    }
    if ("locked" in incoming) {
      const locked = incoming.locked as Record<string, unknown>;
      for (const [name, groups] of Object.entries(locked ?? {})) {
        const known = this.groupsOf[name];
        if (!known || !Array.isArray(groups) || groups.some((g) => !known.includes(String(g)))) {
          throw new Error(`frontend locked groups are invalid: ${JSON.stringify(locked)}`);
        }
      }
    }
  }
}
