#!/usr/bin/env node
// A Node CLI with a `telemetry enable|disable|status` command, built with commander: the runtime's
// `runTelemetryCommand` does the work, commander only parses. An app passes its generated
// package's `telemetry` client; this example makes one for a small app of its own.
//
//     node examples/commander.mjs telemetry status
//     node examples/commander.mjs telemetry enable --errors-only
import { Command } from "commander";
import { Telemetry } from "telemetry-gen-runtime";
import { HELP, runTelemetryCommand } from "telemetry-gen-runtime/command";

const telemetry = new Telemetry({
  name: "example-cli",
  title: "Example CLI",
  envPrefix: "EXAMPLE_CLI",
  catalogVersion: "1.0",
  context: [],
  checkContext: (context) => ({ ...context }), // an empty context: nothing to reject
});
telemetry.configure({ appVersion: "1.0.0", dataDir: process.env.EXAMPLE_CLI_DATA_DIR });

const program = new Command("example-cli");
const command = program.command("telemetry").description("Control anonymous usage data and error reports.");
command
  .command("enable")
  .description(HELP.enable)
  .option("--errors-only", "Share error reports only, no usage data.")
  .action((options) => {
    process.exitCode = runTelemetryCommand(telemetry, "enable", { errorsOnly: options.errorsOnly === true });
  });
for (const action of ["disable", "status"]) {
  command
    .command(action)
    .description(HELP[action])
    .action(() => {
      process.exitCode = runTelemetryCommand(telemetry, action);
    });
}
program.parse();
