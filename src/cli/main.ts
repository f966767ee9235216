#!/usr/bin/env node
/** The `fairdiff` command line. Each subcommand is a thin view over the library. */
import { createProgram } from "./program";

createProgram()
  .parseAsync(process.argv)
  .catch((error: Error) => {
    console.error(`fairdiff: ${error.message}`);
    process.exit(1);
  });
