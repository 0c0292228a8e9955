// What emitting the reference event costs on the caller's thread, in Node: the generated emitter
// (the generated check validates the app's object and copies it as it reads it; the envelope is
// made and queued, and gets its id once the emitting code yields, which a synchronous loop never
// does), against @segment/analytics-node's track() and posthog-node's capture(), which do not
// validate. All three are configured to send to 127.0.0.1 on a closed port with batches and
// intervals larger than the loop, so each call does its caller-side work and nothing is sent during
// it. Repeats are interleaved, so a slow moment of a shared machine hits every loop alike.
//
// node emit.mjs PACKAGE_DIR REPEATS SECONDS  ->  one JSON line: {"figures": {...}, "versions": {...}}
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Analytics } from "@segment/analytics-node";
import { PostHog } from "posthog-node";

const [packageDir, repeatsText, secondsText] = process.argv.slice(2);
const repeats = Number(repeatsText);
const seconds = Number(secondsText);
const generated = await import(pathToFileURL(join(packageDir, "dist", "index.js")).href);
const CLOSED = "http://127.0.0.1:9";
const REFERENCE = {
  command: "watch",
  run_mode: "terminal",
  retry_count: 3,
  duration_seconds: 12.5,
  interactive: true,
  is_first_start: false,
  firmware_version: "2.8.1",
  enabled_features: ["tor", "dry-run"],
};
const INVALID = { ...REFERENCE, retry_count: 1000 };
const USER_ID = "4c5b3c9d2e1f4a5b8c7d6e5f4a3b2c1d";
const LARGE = 1_000_000_000;

// Each repeat starts from fresh clients and empty queues (`setup`), so the heap holds one repeat's
// events at most, for every subject alike.
let segment, posthog;
const queue = [];
const subjects = {
  "telemetry-gen emit": {
    setup: () => {
      const sink = new generated.HttpSink(`${CLOSED}/v1/events`, { batchSize: LARGE, batchIntervalMs: LARGE, queueSize: LARGE });
      generated.configure({ appVersion: "1.0.0", sinks: [sink], consent: "all", queueSize: LARGE, dataDir: process.env.BENCH_DATA_DIR });
    },
    run: () => generated.events.benchReference(REFERENCE),
  },
  "telemetry-gen emit, rejected": { setup: () => {}, run: () => generated.events.benchReference(INVALID) },
  "floor: object + array push": { setup: () => (queue.length = 0), run: () => queue.push({ ...REFERENCE }) },
  "@segment/analytics-node track()": {
    setup: () => {
      segment = new Analytics({ writeKey: "bench", host: CLOSED, flushAt: LARGE, flushInterval: LARGE, maxEventsInBatch: LARGE });
    },
    run: () => segment.track({ userId: USER_ID, event: "bench/reference", properties: REFERENCE }),
  },
  "posthog-node capture()": {
    setup: () => {
      posthog = new PostHog("bench", { host: CLOSED, flushAt: LARGE, flushInterval: LARGE, maxQueueSize: LARGE, disableGeoip: true });
    },
    run: () => posthog.capture({ distinctId: USER_ID, event: "bench/reference", properties: REFERENCE }),
  },
};

function timed(run, number) {
  const start = process.hrtime.bigint();
  for (let index = 0; index < number; index++) run();
  return Number(process.hrtime.bigint() - start);
}

function calibrate(run) {
  for (let number = 1; ; number *= 10) {
    const elapsed = timed(run, number);
    if (elapsed >= (seconds * 1e9) / 10 || number >= 10_000_000) return Math.max(1, Math.round((number * seconds * 1e9) / Math.max(elapsed, 1)));
  }
}

function measure({ setup, run }, number) {
  setup();
  return timed(run, number) / number;
}

function calibrateSubject({ setup, run }) {
  setup();
  return calibrate(run);
}

const numbers = Object.fromEntries(Object.entries(subjects).map(([name, subject]) => [name, calibrateSubject(subject)]));
const samples = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const [name, subject] of Object.entries(subjects)) samples[name].push(measure(subject, numbers[name]));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const figures = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [
    name,
    { median: median(values), low: Math.min(...values), high: Math.max(...values), unit: "ns", repeats: values.length },
  ]),
);
const modules = join(dirname(fileURLToPath(import.meta.url)), "node_modules");
const version = (name) => JSON.parse(readFileSync(join(modules, name, "package.json"), "utf-8")).version;
const versions = { node: process.versions.node, "@segment/analytics-node": version("@segment/analytics-node"), "posthog-node": version("posthog-node") };
process.stdout.write(JSON.stringify({ figures, versions, dropped: generated.status().dropped }) + "\n");
process.exit(0); // the SDKs' timers and sockets are not waited for
