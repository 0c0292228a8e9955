/**
 * A ready `telemetry enable|disable|status` command for a Node CLI: a plain function that any
 * argument parser can call (see `examples/commander.ts`). It prints the status afterwards, so the
 * user sees what now holds and why.
 */

import { platform } from "#platform";
import { DECISION_FILE, ID_FILE } from "./client.js";
import type { Telemetry } from "./client.js";
import { levelFromEnvironment } from "./consent.js";

export type Action = "enable" | "disable" | "status";

export const HELP: Readonly<Record<Action, string>> = {
  enable: "Share anonymous usage data and error reports (or only error reports with --errors-only).",
  disable: "Stop sharing; deletes the anonymous id and anything waiting to be sent.",
  status: "Show whether telemetry is on, what decided it, what was sent this run, and what is stored.",
};

/** Carry out one telemetry sub-command and print the resulting status; the exit code. */
export function runTelemetryCommand(
  client: Telemetry,
  action: Action,
  options: { errorsOnly?: boolean; print?: (line: string) => void } = {},
): number {
  const print = options.print ?? ((line: string) => void process.stdout.write(line + "\n"));
  if (action === "enable") client.enable(options.errorsOnly ? "errors" : "all");
  else if (action === "disable") client.disable();
  else if (action !== "status") {
    print(`unknown telemetry command ${JSON.stringify(action)}: use enable, disable or status`);
    return 2;
  }
  const status = client.status();
  print(status.describe());
  if (action === "status") {
    const store = client.store();
    print("stored in the data folder:");
    print(`  saved decision: ${String(store.read(DECISION_FILE)?.["level"] ?? "none")}`);
    print(`  instance id: ${String(store.read(ID_FILE)?.["user_id"] ?? "none")}`);
  }
  const environment = levelFromEnvironment(platform.environment(), client.app.envPrefix);
  if (action !== "status" && environment !== undefined && environment[0] !== status.level) {
    print(`note: ${environment[1]} is set, so other runs stay at '${environment[0]}' while it is.`);
  }
  return 0;
}
