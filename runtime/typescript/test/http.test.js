import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { HttpSink, MemorySink, Telemetry, queryString, retryAfterMs } from "telemetry-gen-runtime";
import { STARTED, app, temporaryFolder, withEnvironment } from "./helpers.js";

const QUIET = { DO_NOT_TRACK: undefined, DEMO_APP_TELEMETRY: undefined, DEMO_APP_TELEMETRY_DEBUG: undefined };

/** A loopback HTTP server answering each request with the next of `answers` (then 200), recording what it got. */
async function server(answers = []) {
  const requests = [];
  const http = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
      requests.push({ method: request.method, url: request.url, headers: request.headers, body: body.toString(), at: Date.now() });
      const [status, headers] = answers.shift() ?? [200, {}];
      response.writeHead(status, headers);
      response.end();
    });
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const url = `http://127.0.0.1:${http.address().port}/v1/events`;
  return { url, requests, close: () => http.close() };
}

function client(sink) {
  const telemetry = new Telemetry(app);
  telemetry.configure({ appVersion: "1.2.3", sinks: [sink], dataDir: temporaryFolder(), consent: "all" });
  return telemetry;
}

test("events leave in one gzipped JSON batch in the Python runtime's wire format", async () => {
  await withEnvironment(QUIET, async () => {
    const endpoint = await server();
    try {
      const telemetry = client(new HttpSink(endpoint.url, { batchIntervalMs: 60_000 }));
      telemetry.emit(STARTED, { command: "one" });
      telemetry.emit(STARTED, { command: "two" });
      assert.equal(await telemetry.flush(10_000), true);
      assert.equal(endpoint.requests.length, 1);
      const [request] = endpoint.requests;
      assert.equal(request.method, "POST");
      assert.equal(request.headers["content-type"], "application/json");
      assert.equal(request.headers["content-encoding"], "gzip");
      const body = JSON.parse(request.body);
      assert.deepEqual(Object.keys(body), ["sent_at", "events"]);
      assert.deepEqual(body.events.map((event) => event.data.command), ["one", "two"]);
    } finally {
      endpoint.close();
    }
  });
});

test("5xx and network errors are retried; a refused batch is dropped and counted", async () => {
  await withEnvironment(QUIET, async () => {
    const endpoint = await server([[503, {}], [500, {}], [400, {}]]);
    try {
      const telemetry = client(new HttpSink(endpoint.url, { backoffMs: 10, batchIntervalMs: 60_000 }));
      telemetry.emit(STARTED, { command: "retried" });
      assert.equal(await telemetry.flush(10_000), true);
      telemetry.emit(STARTED, { command: "refused" });
      assert.equal(await telemetry.flush(10_000), true);
      assert.equal(endpoint.requests.length, 4);
      assert.deepEqual(telemetry.status().dropped, { "http 400": 1 });
    } finally {
      endpoint.close();
    }
  });
});

test("Retry-After is waited for before the next attempt", async () => {
  await withEnvironment(QUIET, async () => {
    const endpoint = await server([[429, { "Retry-After": "1" }]]);
    try {
      const telemetry = client(new HttpSink(endpoint.url, { backoffMs: 1, batchIntervalMs: 60_000 }));
      telemetry.emit(STARTED, { command: "later" });
      assert.equal(await telemetry.flush(20_000), true);
      assert.equal(endpoint.requests.length, 2);
      assert.ok(endpoint.requests[1].at - endpoint.requests[0].at >= 900);
      assert.deepEqual(telemetry.status().dropped, {});
    } finally {
      endpoint.close();
    }
  });
  assert.equal(retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", Date.UTC(2015, 9, 21, 7, 27, 58)), 2000);
  assert.equal(retryAfterMs("soon", 0), undefined);
});

test("an unreachable endpoint costs the app nothing: the events are counted once the attempts are spent", async () => {
  await withEnvironment(QUIET, async () => {
    const endpoint = await server();
    endpoint.close();
    const telemetry = client(new HttpSink(endpoint.url, { backoffMs: 1, maxAttempts: 2, batchIntervalMs: 60_000 }));
    telemetry.emit(STARTED, { command: "lost" });
    assert.equal(await telemetry.flush(10_000), true);
    assert.deepEqual(telemetry.status().dropped, { "network error": 1 });
  });
});

test("the GET form carries one event in the query string", async () => {
  await withEnvironment(QUIET, async () => {
    const endpoint = await server();
    try {
      const telemetry = client(new HttpSink(endpoint.url, { method: "GET", batchIntervalMs: 60_000 }));
      telemetry.emit(STARTED, { command: "a b&c" });
      assert.equal(await telemetry.flush(10_000), true);
      const [request] = endpoint.requests;
      assert.equal(request.method, "GET");
      const query = new URL(request.url, endpoint.url).searchParams;
      assert.equal(query.get("event"), "app/started");
      assert.equal(query.get("command"), "a b&c");
      assert.equal(query.get("c_app_version"), "1.2.3");
      assert.ok(query.get("sent_at").endsWith("Z"));
    } finally {
      endpoint.close();
    }
  });
  const envelope = { event: "e/x", schema: "s", id: "i", timestamp: "t", context: {}, data: { n: 1, l: ["a"] } };
  assert.equal(queryString(envelope, "now"), "event=e%2Fx&schema=s&id=i&timestamp=t&sent_at=now&n=1&l=%5B%22a%22%5D");
});

test("an endpoint that is not http or https is refused at once", () => {
  assert.throws(() => new HttpSink("file:///etc/passwd"), TypeError);
});

test("a sink takes a write of more events than a function call has arguments", () => {
  const envelopes = new Array(200_000).fill({ event: "app/started" });
  const memory = new MemorySink();
  assert.doesNotThrow(() => memory.write(envelopes));
  assert.equal(memory.events.length, envelopes.length);
  const http = new HttpSink("http://127.0.0.1:9/v1/events", { queueSize: 300_000, batchIntervalMs: 60_000 });
  try {
    assert.doesNotThrow(() => http.write(envelopes));
  } finally {
    http.stop(true);
  }
});
