/**
 * TargetDistribution: one slider per group and attribute, linked so each attribute's groups sum
 * to 1 (moving one rescales the unlocked others), with locks, presets and numeric entry. Native
 * range and number inputs, each labelled, so arrow keys and screen readers work. Each value is
 * shown once, in its number box (which is also where it is typed); the slider announces it as a
 * percentage to screen readers.
 */
import { DOMWidgetModel, DOMWidgetView } from "@jupyter-widgets/base";
import { normalize, rebalance } from "./rebalance";
import { textElement } from "./safeText";
import { MODULE_NAME, MODULE_VERSION } from "./version";

export type Distributions = Record<string, Record<string, number>>;

export interface AttributeGroups {
  name: string;
  groups: string[];
}

export interface TargetPreset {
  name: string;
  value: Distributions;
}

export class TargetDistributionModel extends DOMWidgetModel {
  override defaults() {
    return {
      ...super.defaults(),
      _model_name: "TargetDistributionModel",
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_name: "TargetDistributionView",
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      attributes: [] as AttributeGroups[],
      value: {} as Distributions,
      locked: {} as Record<string, string[]>,
      presets: [] as TargetPreset[],
      description: "",
    };
  }
}

let nextId = 0;

interface GroupInputs {
  range: HTMLInputElement;
  number: HTMLInputElement;
  lock: HTMLInputElement;
}

export class TargetDistributionView extends DOMWidgetView {
  private inputs = new Map<string, Map<string, GroupInputs>>();

  override render(): void {
    this.el.classList.add("fd-widget", "fd-target");
    this.build();
    this.listenTo(this.model, "change:attributes change:presets", () => this.build());
    this.listenTo(this.model, "change:value change:locked", () => this.refresh());
  }

  private attributeList(): AttributeGroups[] {
    return this.model.get("attributes") as AttributeGroups[];
  }

  private value(): Distributions {
    return this.model.get("value") as Distributions;
  }

  private locked(): Record<string, string[]> {
    return this.model.get("locked") as Record<string, string[]>;
  }

  private build(): void {
    this.el.replaceChildren();
    this.inputs.clear();
    const description = this.model.get("description") as string;
    if (description) this.el.appendChild(textElement("div", description, "fd-title"));
    for (const attribute of this.attributeList()) {
      this.el.appendChild(this.attributeBlock(attribute));
    }
    this.refresh();
  }

  private attributeBlock(attribute: AttributeGroups): HTMLElement {
    const block = document.createElement("fieldset");
    block.className = "fd-target-attribute";
    block.appendChild(textElement("legend", attribute.name));
    block.appendChild(this.presetPicker(attribute));
    const rows = new Map<string, GroupInputs>();
    for (const group of attribute.groups) {
      const id = `fd-target-${++nextId}`;
      const row = document.createElement("div");
      row.className = "fd-target-row";
      const name = textElement("label", group, "fd-target-group");
      name.htmlFor = id;
      const range = document.createElement("input");
      range.type = "range";
      range.id = id;
      range.min = "0";
      range.max = "1";
      range.step = "0.01";
      range.setAttribute("aria-label", `${attribute.name}: ${group} target share`);
      range.dataset.attribute = attribute.name;
      range.dataset.group = group;
      // Arrow keys belong to the focused slider, not to the notebook's command-mode shortcuts
      // (Lumino checks the focused element itself before its ancestors).
      range.setAttribute("data-lm-suppress-shortcuts", "true");
      const number = document.createElement("input");
      number.type = "number";
      number.min = "0";
      number.max = "1";
      number.step = "0.01";
      number.className = "fd-target-number";
      number.setAttribute("data-lm-suppress-shortcuts", "true");
      number.setAttribute("aria-label", `${attribute.name}: ${group} target share (number)`);
      const lockLabel = document.createElement("label");
      lockLabel.className = "fd-target-lock";
      const lock = document.createElement("input");
      lock.type = "checkbox";
      lock.setAttribute("aria-label", `lock ${attribute.name}: ${group}`);
      lockLabel.append(lock, document.createTextNode(" lock"));
      range.addEventListener("input", () => this.move(attribute, group, Number(range.value)));
      number.addEventListener("change", () => this.move(attribute, group, Number(number.value)));
      lock.addEventListener("change", () => this.setLock(attribute.name, group, lock.checked));
      row.append(name, range, number, lockLabel);
      block.appendChild(row);
      rows.set(group, { range, number, lock });
    }
    this.inputs.set(attribute.name, rows);
    return block;
  }

  private presetPicker(attribute: AttributeGroups): HTMLElement {
    const presets = (this.model.get("presets") as TargetPreset[]).filter(
      (p) => p.value[attribute.name] !== undefined,
    );
    const wrapper = document.createElement("div");
    wrapper.className = "fd-target-presets";
    const uniform = textElement("button", "uniform", "fd-button");
    uniform.type = "button";
    uniform.setAttribute("aria-label", `set ${attribute.name} to uniform`);
    uniform.addEventListener("click", () =>
      this.apply(attribute, normalize(attribute.groups.map(() => 1))),
    );
    wrapper.appendChild(uniform);
    for (const preset of presets) {
      const button = textElement("button", preset.name, "fd-button");
      button.type = "button";
      button.setAttribute("aria-label", `set ${attribute.name} to ${preset.name}`);
      button.addEventListener("click", () =>
        this.apply(
          attribute,
          normalize(attribute.groups.map((g) => preset.value[attribute.name][g] ?? 0)),
        ),
      );
      wrapper.appendChild(button);
    }
    return wrapper;
  }

  private current(attribute: AttributeGroups): number[] {
    const values = this.value()[attribute.name] ?? {};
    return attribute.groups.map((g) => values[g] ?? 0);
  }

  private move(attribute: AttributeGroups, group: string, requested: number): void {
    if (!Number.isFinite(requested)) {
      this.refresh();
      return;
    }
    const lockedGroups = this.locked()[attribute.name] ?? [];
    const next = rebalance(
      this.current(attribute),
      attribute.groups.map((g) => lockedGroups.includes(g)),
      attribute.groups.indexOf(group),
      requested,
    );
    this.apply(attribute, next);
  }

  private apply(attribute: AttributeGroups, values: number[]): void {
    const distribution: Record<string, number> = {};
    attribute.groups.forEach((g, i) => (distribution[g] = values[i]));
    this.model.set("value", { ...this.value(), [attribute.name]: distribution });
    this.model.save_changes();
    this.refresh();
  }

  private setLock(attribute: string, group: string, on: boolean): void {
    const current = this.locked()[attribute] ?? [];
    const next = on ? [...new Set([...current, group])] : current.filter((g) => g !== group);
    this.model.set("locked", { ...this.locked(), [attribute]: next });
    this.model.save_changes();
  }

  private refresh(): void {
    const value = this.value();
    const locked = this.locked();
    for (const [attribute, rows] of this.inputs) {
      for (const [group, inputs] of rows) {
        const p = value[attribute]?.[group] ?? 0;
        const isLocked = (locked[attribute] ?? []).includes(group);
        inputs.range.value = String(p);
        // Leave the number the user is typing alone; it applies on change.
        if (document.activeElement !== inputs.number) inputs.number.value = p.toFixed(3);
        inputs.range.setAttribute("aria-valuetext", `${(p * 100).toFixed(1)} %`);
        inputs.lock.checked = isLocked;
        inputs.range.disabled = isLocked;
        inputs.number.disabled = isLocked;
      }
    }
  }
}
