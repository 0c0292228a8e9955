import assert from "node:assert/strict";
import { test } from "node:test";
import { EventValidationError, MemorySink, Telemetry, utcTimestamp } from "telemetry-gen-runtime";
import { runTelemetryCommand } from "telemetry-gen-runtime/command";
import { captureEvents } from "telemetry-gen-runtime/testing";
import { CRASHED, STARTED, app, temporaryFolder, withEnvironment } from "./helpers.js";

const QUIET = { DO_NOT_TRACK: undefined, DEMO_APP_TELEMETRY: undefined, DEMO_APP_TELEMETRY_DEBUG: undefined };

function enabled(extra = {}) {
  const client = new Telemetry(app);
  const sink = new MemorySink();
  client.configure({ appVersion: "1.2.3", sinks: [sink], dataDir: temporaryFolder(), consent: "all", ...extra });
  return { client, sink };
}

test("the envelope has Python's keys, a 32-hex id and Python's timestamp format", async () => {
  await withEnvironment(QUIET, () => {
    const { sink, client } = enabled();
    client.emit(STARTED, { command: "run", skipped: undefined });
    const [envelope] = sink.events;
    assert.deepEqual(Object.keys(envelope), ["event", "schema", "id", "timestamp", "context", "data"]);
    assert.match(envelope.id, /^[0-9a-f]{32}$/);
    assert.match(envelope.timestamp, /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/);
    assert.deepEqual(envelope.data, { command: "run" });
    assert.deepEqual(Object.keys(envelope.context), ["app_version", "instance_id", "os"]);
    assert.equal(utcTimestamp(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), "2024-01-02T03:04:05.678000Z");
  });
});

test("strict mode throws EventValidationError naming event.field; production drops and counts", async () => {
  await withEnvironment(QUIET, () => {
    const strict = enabled({ strict: true });
    assert.throws(
      () => strict.client.emit(STARTED, { command: 3 }),
      (error) => error instanceof EventValidationError && error.message.includes("app/started.command"),
    );
    const production = enabled();
    const seen = [];
    production.client.configure({
      appVersion: "1.2.3",
      sinks: [production.sink],
      consent: "all",
      dataDir: temporaryFolder(),
      onViolation: (error) => seen.push(error.violations[0].field),
    });
    production.client.emit(STARTED, { command: 3 });
    production.client.emit(STARTED, { command: "ok" });
    assert.deepEqual(production.sink.names(), ["app/started"]);
    assert.deepEqual(production.client.status().dropped, { "app/started.command: invalid": 1 });
    assert.deepEqual(seen, ["command"]);
  });
});

test("a check that throws never reaches the app", async () => {
  await withEnvironment(QUIET, () => {
    const { client, sink } = enabled();
    const broken = { ...STARTED, check: () => { throw new Error("bug"); } };
    client.emit(broken, { command: "run" });
    assert.deepEqual(sink.events, []);
    assert.equal(client.status().dropped["app/started: internal error"], 1);
  });
});

test("at the errors level only error events are sent", async () => {
  await withEnvironment(QUIET, () => {
    const { client, sink } = enabled({ consent: "errors" });
    client.emit(STARTED, { command: "run" });
    client.emit(CRASHED, { command: "run" });
    assert.deepEqual(sink.names(), ["app/crashed"]);
  });
});

test("debug mode prints each event instead of sending it", async () => {
  await withEnvironment({ ...QUIET, DEMO_APP_TELEMETRY_DEBUG: "1" }, () => {
    const printed = [];
    const original = process.stderr.write;
    process.stderr.write = (text) => printed.push(String(text)) > 0;
    try {
      const { client, sink } = enabled();
      client.emit(STARTED, { command: "run" });
      assert.deepEqual(sink.events, []);
    } finally {
      process.stderr.write = original;
    }
    assert.equal(printed.length, 1);
    assert.match(printed[0], /^telemetry \(not sent\): \{"event":"app\/started"/);
  });
});

test("captureEvents pins memory and strict validation, and gives the client back", async () => {
  await withEnvironment(QUIET, () => {
    const client = new Telemetry(app);
    const captured = captureEvents(client);
    client.configure({ appVersion: "1.2.3", sinks: [] });
    client.emit(STARTED, { command: "run" });
    assert.deepEqual(captured.names(), ["app/started"]);
    assert.deepEqual(captured.data("app/started"), [{ command: "run" }]);
    assert.throws(() => client.emit(STARTED, {}), EventValidationError);
    captured.stop();
    assert.equal(client.status().level, "off");
    assert.equal(client.status().source, "not configured");
  });
});

test("the telemetry command enables, disables and shows what is stored", async () => {
  await withEnvironment(QUIET, () => {
    const client = new Telemetry(app);
    const dataDir = temporaryFolder();
    client.configure({ appVersion: "1.2.3", dataDir });
    const lines = [];
    const print = (line) => lines.push(line);
    assert.equal(runTelemetryCommand(client, "enable", { print }), 0);
    assert.match(lines.join("\n"), /^telemetry: all \(decided by explicit\)/);
    lines.length = 0;
    runTelemetryCommand(client, "status", { print });
    assert.match(lines.join("\n"), /saved decision: all\n {2}instance id: [0-9a-f]{32}/);
    lines.length = 0;
    runTelemetryCommand(client, "disable", { print });
    runTelemetryCommand(client, "status", { print });
    assert.match(lines.join("\n"), /saved decision: off\n {2}instance id: none/);
    assert.equal(runTelemetryCommand(client, "frobnicate", { print }), 2);
  });
});

test("what is sent is the check's copy: later changes to the app's object do not reach the event", async () => {
  await withEnvironment(QUIET, async () => {
    const client = new Telemetry(app);
    const sink = new MemorySink();
    sink.background = true; // handed over after the emitting code has run
    client.configure({ appVersion: "1.2.3", sinks: [sink], dataDir: temporaryFolder(), consent: "all" });
    const data = { command: "run" };
    client.emit(STARTED, data);
    data.command = 3;
    await client.flush();
    assert.deepEqual(sink.events.map((envelope) => envelope.data), [{ command: "run" }]);
    assert.match(sink.events[0].id, /^[0-9a-f]{32}$/);
  });
});
