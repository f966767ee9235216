/**
 * Ctrl-C for long commands, keeping its word: the first stops the work at its next safe point
 * (the command then saves what it can and says what it saved); a second, while that save runs,
 * waits for it instead of killing it; a third quits at once (atomic writes leave every file
 * either old or new). An interrupted command exits 130, as shells expect of SIGINT.
 */

export const INTERRUPTED_EXIT_CODE = 130;

export interface Interrupt {
  readonly signal: AbortSignal;
  readonly interrupted: boolean;
  /** Stops listening; sets the exit code to 130 when the run was interrupted. */
  close(): void;
}

function ignoreWhileExiting(): void {}

export function interruptOnCtrlC(
  firstMessage: string,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Interrupt {
  const controller = new AbortController();
  let presses = 0;
  const onSigint = () => {
    presses += 1;
    if (presses === 1) {
      log(`\ninterrupted: ${firstMessage}`);
      controller.abort();
    } else if (presses === 2) {
      log("still finishing: waiting for it to end cleanly (Ctrl-C again quits without waiting)");
    } else {
      log("quit before the work ended; files are either as they were or complete (atomic writes)");
      process.exit(INTERRUPTED_EXIT_CODE);
    }
  };
  process.on("SIGINT", onSigint);
  return {
    signal: controller.signal,
    get interrupted() {
      return presses > 0;
    },
    close() {
      process.off("SIGINT", onSigint);
      if (presses > 0) {
        process.exitCode = INTERRUPTED_EXIT_CODE;
        // The work is saved and the process is ending: a late Ctrl-C must not turn that into a
        // kill by signal.
        process.on("SIGINT", ignoreWhileExiting);
      }
    },
  };
}

/**
 * Runs `work` with Ctrl-C wired to its signal, for commands that write nothing when stopped: an
 * error after Ctrl-C is the stop itself, so it is reported as `stoppedMessage`, not thrown.
 */
export async function runUnlessInterrupted(
  firstMessage: string,
  stoppedMessage: string,
  work: (signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const interrupt = interruptOnCtrlC(firstMessage);
  try {
    await work(interrupt.signal);
  } catch (error) {
    if (!interrupt.interrupted) throw error;
    console.error(stoppedMessage);
  } finally {
    interrupt.close();
  }
}
