import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { temporaryFolder } from "./helpers.js";

const EXAMPLE = fileURLToPath(new URL("../examples/commander.mjs", import.meta.url));

function cli(dataDir, ...args) {
  const environment = { ...process.env, EXAMPLE_CLI_DATA_DIR: dataDir };
  delete environment.DO_NOT_TRACK;
  delete environment.EXAMPLE_CLI_TELEMETRY;
  return execFileSync(process.execPath, [EXAMPLE, "telemetry", ...args], { env: environment, encoding: "utf-8" });
}

test("the commander example enables, shows and disables telemetry, remembered across runs", () => {
  const dataDir = temporaryFolder();
  assert.match(cli(dataDir, "status"), /^telemetry: off \(decided by default\)/);
  assert.match(cli(dataDir, "enable", "--errors-only"), /^telemetry: errors \(decided by explicit\)/);
  assert.match(cli(dataDir, "status"), /^telemetry: errors \(decided by saved decision\)[\s\S]*saved decision: errors/);
  assert.match(cli(dataDir, "disable"), /^telemetry: off \(decided by explicit\)/);
  assert.match(cli(dataDir, "status"), /saved decision: off\n {2}instance id: none/);
});
