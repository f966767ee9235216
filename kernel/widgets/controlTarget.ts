/**
 * `jupyter.widget.control`: answers a reloaded frontend's `request_states` with every live
 * widget's full state in one message, so it does not wait 4 s and fall back to one request per
 * model.
 */
import type { CommManager } from "../comm/commManager";
import { removeBuffers } from "./buffers";
import { liveWidgets } from "./widget";

export const CONTROL_TARGET = "jupyter.widget.control";

export function registerControlTarget(comms: CommManager): void {
  comms.registerTarget(CONTROL_TARGET, (comm) => {
    comm.onMessage((msg) => {
      if (msg.data.method !== "request_states") {
        throw new Error(`unknown ${CONTROL_TARGET} method ${String(msg.data.method)}`);
      }
      const states: Record<string, unknown> = {};
      for (const widget of liveWidgets()) {
        const state = widget.getState();
        states[widget.modelId] = {
          model_name: state._model_name,
          model_module: state._model_module,
          model_module_version: state._model_module_version,
          state,
        };
      }
      const split = removeBuffers(states);
      comm.send(
        { method: "update_states", states: split.state, buffer_paths: split.bufferPaths },
        {},
        split.buffers,
      );
    });
  });
}
