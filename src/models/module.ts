/**
 * The base of every fairdiff network part: parameters are `tf.Variable`s registered under
 * names, children are registered modules, so a whole model can list, freeze, save, load and
 * free its weights with dotted names ("down.0.res.0.conv1.kernel").
 */
import * as tf from "@tensorflow/tfjs-core";

/** Weights as plain arrays by dotted parameter name — what checkpoints store. */
export type NamedWeights = Record<string, Float32Array>;

export interface SetWeightsOptions {
  /** Require exactly this module's names (default). Off: load the names present, ignore others. */
  strict?: boolean;
}

export abstract class Module {
  private readonly ownParameters = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();
  private disposed = false;

  /** Creates a parameter from initial values; the variable is owned (and freed) by this module. */
  protected addParameter(
    name: string,
    values: Float32Array,
    shape: number[],
    trainable = true,
  ): tf.Variable {
    this.assertFreeName(name);
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new Error(`parameter ${name}: ${values.length} values for shape [${shape}]`);
    }
    const initial = tf.tensor(values, shape, "float32");
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.ownParameters.set(name, variable);
    return variable;
  }

  protected addModule<T extends Module>(name: string, module: T): T {
    this.assertFreeName(name);
    this.children.set(name, module);
    return module;
  }

  /** Unregisters and frees a child (e.g. a LoRA adapter being removed). */
  protected removeModule(name: string): void {
    const child = this.children.get(name);
    if (!child) throw new Error(`no submodule "${name}" to remove`);
    child.dispose();
    this.children.delete(name);
  }

  /** Every parameter under this module with its dotted name, in registration order. */
  namedParameters(): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [...this.ownParameters.entries()];
    for (const [childName, child] of this.children) {
      for (const [name, variable] of child.namedParameters())
        out.push([`${childName}.${name}`, variable]);
    }
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  /** This module ("") and every descendant with its dotted path. */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [["", this]];
    for (const [childName, child] of this.children) {
      for (const [path, module] of child.namedModules()) {
        out.push([path === "" ? childName : `${childName}.${path}`, module]);
      }
    }
    return out;
  }

  parameterCount(): number {
    return this.parameters().reduce((n, v) => n + v.size, 0);
  }

  /** Freezes (false) or unfreezes (true) every parameter under this module. */
  setTrainable(trainable: boolean): this {
    for (const v of this.parameters()) v.trainable = trainable;
    return this;
  }

  /** Copies of all weights (async: works on backends whose dataSync is unavailable, e.g. WebGPU). */
  async getWeights(): Promise<NamedWeights> {
    const out: NamedWeights = {};
    for (const [name, v] of this.namedParameters()) out[name] = Float32Array.from(await v.data());
    return out;
  }

  /** Assigns weights by name; checks every name and size before changing anything. */
  setWeights(weights: NamedWeights, options: SetWeightsOptions = {}): void {
    const strict = options.strict ?? true;
    const named = this.namedParameters();
    const known = new Set(named.map(([name]) => name));
    if (strict) {
      const missing = named.filter(([name]) => !(name in weights)).map(([name]) => name);
      const extra = Object.keys(weights).filter((name) => !known.has(name));
      if (missing.length > 0 || extra.length > 0) {
        throw new Error(
          `weights do not match the model: missing [${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}], unexpected [${extra.slice(0, 5).join(", ")}${extra.length > 5 ? ", …" : ""}]`,
        );
      }
    }
    for (const [name, v] of named) {
      const values = weights[name];
      if (values !== undefined && values.length !== v.size) {
        throw new Error(
          `weight ${name}: ${values.length} values, the model needs ${v.size} [${v.shape}]`,
        );
      }
    }
    for (const [name, v] of named) {
      const values = weights[name];
      if (values === undefined) continue;
      tf.tidy(() => v.assign(tf.tensor(values, v.shape, "float32")));
    }
  }

  /** Frees every variable under this module. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.ownParameters.values()) v.dispose();
    for (const child of this.children.values()) child.dispose();
  }

  private assertFreeName(name: string): void {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`bad parameter/module name "${name}"`);
    if (this.ownParameters.has(name) || this.children.has(name)) {
      throw new Error(`name "${name}" is already registered`);
    }
  }
}
