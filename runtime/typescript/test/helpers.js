// A small app for the runtime's own tests: one usage event, one error event, a checked context.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Checks as the generated ones: violations go to `found`, and what was read is returned as the copy to send.
export function checkContext(data, found, path = "") {
  if (typeof data.app_version !== "string" || !/^[0-9][0-9a-z.+-]*$/.test(data.app_version)) {
    found.push({ event: "context", field: `${path}app_version`, code: "pattern", message: "bad version" });
  }
  if (!/^[0-9a-f]{32}$/.test(data.instance_id)) {
    found.push({ event: "context", field: `${path}instance_id`, code: "pattern", message: "bad id" });
  }
  return { ...data };
}

export const app = {
  name: "demo-app",
  title: "Demo App",
  envPrefix: "DEMO_APP",
  catalogVersion: "1.0",
  context: [
    { name: "app_version", source: "app_version" },
    { name: "instance_id", source: "instance_id" },
    { name: "os", source: "os" },
  ],
  checkContext,
};

export const STARTED = {
  name: "app/started",
  schema: "https://telemetry.invalid/demo-app/events/app/started/v1.schema.json",
  category: "usage",
  check(data, found, path = "") {
    const command = data.command;
    if (typeof command !== "string") {
      found.push({ event: "app/started", field: `${path}command`, code: "type", message: "is not a string" });
    }
    return { command };
  },
};

export const CRASHED = { ...STARTED, name: "app/crashed", category: "errors" };

export function temporaryFolder() {
  return mkdtempSync(join(tmpdir(), "telemetry-runtime-test-"));
}

/** Run `body` with these environment variables set (undefined: unset), then restore them. */
export async function withEnvironment(variables, body) {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const apply = (values) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(variables);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}
