/**
 * SampleGrid: generated images sent as one uint8 buffer ([n, h, w, c], c = 1 grey or 3 RGB),
 * grouped under the subgroup the classifier predicted; hovering an image shows its prompt and
 * the classifier's probabilities (a title attribute, so plain text).
 */
import { DOMWidgetModel, DOMWidgetView, type ISerializers } from "@jupyter-widgets/base";
import { type Binary, toUint8 } from "./binary";
import { formatProportion, textElement } from "./safeText";
import { MODULE_NAME, MODULE_VERSION } from "./version";

export interface SampleItem {
  group: string;
  prompt: string;
  probabilities: Record<string, number>;
}

export class SampleGridModel extends DOMWidgetModel {
  override defaults() {
    return {
      ...super.defaults(),
      _model_name: "SampleGridModel",
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_name: "SampleGridView",
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      pixels: new Uint8Array(),
      shape: [0, 0, 0, 1],
      items: [] as SampleItem[],
      scale: 3,
      title: "Samples",
    };
  }

  static override serializers: ISerializers = {
    ...DOMWidgetModel.serializers,
    pixels: { deserialize: (value: Binary | null) => (value ? toUint8(value) : new Uint8Array()) },
  };
}

/** Draws image `index` of an [n, h, w, c] uint8 block onto a canvas. */
function drawImage(pixels: Uint8Array, shape: number[], index: number, scale: number) {
  const [, h, w, c] = shape;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  canvas.style.width = `${w * scale}px`;
  canvas.style.height = `${h * scale}px`;
  const context = canvas.getContext("2d");
  if (!context) return canvas;
  const image = context.createImageData(w, h);
  const offset = index * h * w * c;
  for (let p = 0; p < h * w; p++) {
    const src = offset + p * c;
    const r = pixels[src];
    image.data[p * 4] = r;
    image.data[p * 4 + 1] = c >= 3 ? pixels[src + 1] : r;
    image.data[p * 4 + 2] = c >= 3 ? pixels[src + 2] : r;
    image.data[p * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

export class SampleGridView extends DOMWidgetView {
  override render(): void {
    this.el.classList.add("fd-widget", "fd-samples");
    this.draw();
    this.listenTo(this.model, "change:pixels change:shape change:items change:scale", () =>
      this.draw(),
    );
  }

  private draw(): void {
    const pixels = this.model.get("pixels") as Uint8Array;
    const shape = this.model.get("shape") as number[];
    const items = this.model.get("items") as SampleItem[];
    const scale = this.model.get("scale") as number;
    const [n, h, w, c] = shape;
    this.el.replaceChildren(textElement("div", this.model.get("title") as string, "fd-title"));
    if (pixels.length < n * h * w * c) {
      this.el.appendChild(
        textElement("div", `expected ${n * h * w * c} bytes, got ${pixels.length}`, "fd-error"),
      );
      return;
    }
    const byGroup = new Map<string, number[]>();
    items.slice(0, n).forEach((item, i) => {
      const list = byGroup.get(item.group) ?? [];
      list.push(i);
      byGroup.set(item.group, list);
    });
    for (const [group, indices] of byGroup) {
      const section = document.createElement("section");
      section.className = "fd-samples-group";
      section.appendChild(textElement("h4", `${group} (${indices.length})`, "fd-samples-heading"));
      const row = document.createElement("div");
      row.className = "fd-samples-row";
      for (const i of indices) {
        const canvas = drawImage(pixels, shape, i, scale);
        const item = items[i];
        const probabilities = Object.entries(item.probabilities)
          .map(([g, p]) => `${g}: ${formatProportion(p)}`)
          .join(", ");
        canvas.title = `${item.prompt}\n${probabilities}`;
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", `${item.prompt} (predicted ${item.group})`);
        row.appendChild(canvas);
      }
      section.appendChild(row);
      this.el.appendChild(section);
    }
  }
}
