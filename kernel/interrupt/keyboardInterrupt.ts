/**
 * What interrupted cell code sees: the abort signal's reason and the rejection of every await a
 * cell was waiting at. Named like Python's so notebook users recognise it.
 */
export class KeyboardInterrupt extends Error {
  override readonly name = "KeyboardInterrupt";

  constructor(message = "the kernel was interrupted") {
    super(message);
  }
}
