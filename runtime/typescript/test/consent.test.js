import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { MemorySink, Telemetry } from "telemetry-gen-runtime";
import { STARTED, app, temporaryFolder, withEnvironment } from "./helpers.js";

const QUIET = { DO_NOT_TRACK: undefined, DEMO_APP_TELEMETRY: undefined, DEMO_APP_TELEMETRY_DEBUG: undefined };

function configured(dataDir, extra = {}) {
  const client = new Telemetry(app);
  const sink = new MemorySink();
  client.configure({ appVersion: "1.2.3", sinks: [sink], dataDir, ...extra });
  return { client, sink };
}

test("nothing is stored or sent before the user opts in", async () => {
  await withEnvironment(QUIET, () => {
    const dataDir = join(temporaryFolder(), "data");
    const { client, sink } = configured(dataDir);
    STARTED.check({ command: "run" }, []);
    client.emit(STARTED, { command: "run" });
    assert.deepEqual(sink.events, []);
    assert.equal(existsSync(dataDir), false);
    assert.equal(client.status().level, "off");
    assert.equal(client.status().source, "default");
  });
});

test("enable saves the decision and an instance id; the next run starts from them", async () => {
  await withEnvironment(QUIET, () => {
    const dataDir = temporaryFolder();
    const first = configured(dataDir);
    first.client.enable();
    first.client.emit(STARTED, { command: "run" });
    assert.equal(first.sink.events.length, 1);
    const saved = JSON.parse(readFileSync(join(dataDir, "consent.json"), "utf-8"));
    assert.deepEqual(saved, { level: "all" });
    const { user_id: id } = JSON.parse(readFileSync(join(dataDir, "user_id.json"), "utf-8"));
    assert.match(id, /^[0-9a-f]{32}$/);

    const second = configured(dataDir);
    assert.equal(second.client.status().source, "saved decision");
    second.client.emit(STARTED, { command: "again" });
    assert.equal(second.sink.events[0].context.instance_id, id);
  });
});

test("precedence: explicit call, then DO_NOT_TRACK, then <PREFIX>_TELEMETRY, then the saved decision", async () => {
  const dataDir = temporaryFolder();
  await withEnvironment(QUIET, () => configured(dataDir).client.enable());
  await withEnvironment({ ...QUIET, DEMO_APP_TELEMETRY: "0" }, () => {
    assert.deepEqual(pick(configured(dataDir).client), ["off", "DEMO_APP_TELEMETRY"]);
  });
  await withEnvironment({ ...QUIET, DO_NOT_TRACK: "1", DEMO_APP_TELEMETRY: "1" }, () => {
    assert.deepEqual(pick(configured(dataDir).client), ["off", "DO_NOT_TRACK"]);
    assert.deepEqual(pick(configured(dataDir, { consent: "errors" }).client), ["errors", "explicit"]);
  });
  await withEnvironment({ ...QUIET, DEMO_APP_TELEMETRY: "errors" }, () => {
    const { client, sink } = configured(dataDir);
    assert.deepEqual(pick(client), ["errors", "DEMO_APP_TELEMETRY"]);
    client.emit(STARTED, { command: "usage is not sent at errors" });
    assert.deepEqual(sink.events, []);
  });
});

function pick(client) {
  const status = client.status();
  return [status.level, status.source];
}

test("disable deletes the instance id, keeps the decision, and stops sending", async () => {
  await withEnvironment(QUIET, () => {
    const dataDir = temporaryFolder();
    const { client, sink } = configured(dataDir);
    client.enable();
    client.disable();
    client.emit(STARTED, { command: "run" });
    assert.deepEqual(sink.events, []);
    assert.deepEqual(readdirSync(dataDir), ["consent.json"]);
    assert.deepEqual(JSON.parse(readFileSync(join(dataDir, "consent.json"), "utf-8")), { level: "off" });
  });
});

test("a context the catalog rejects keeps telemetry off and says why", async () => {
  await withEnvironment(QUIET, () => {
    const { client } = configured(temporaryFolder(), { appVersion: "not a version" });
    client.enable();
    assert.equal(client.status().level, "off");
    assert.equal(client.status().dropped.configuration, 1);
    assert.throws(() => configured(temporaryFolder(), { appVersion: "bad one", strict: true }).client.enable(), {
      name: "ConfigurationError",
      message: /context\.app_version|app_version/,
    });
  });
});
