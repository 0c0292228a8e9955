/**
 * Capturing the events an app emits, for the app's own tests (node:test, vitest, ...). While
 * capturing, every event goes to memory only, validated strictly (an invalid event throws
 * `EventValidationError` in the code under test), whatever the app passes to `configure()`;
 * nothing is read from or written to the real user-data folder.
 *
 *     test("start is tracked", (t) => {
 *       const captured = captureEvents(telemetry);
 *       t.after(() => captured.stop());
 *       runApp();
 *       assert.deepEqual(captured.names(), ["app/started"]);
 *     });
 */

import type { Data } from "./checks.js";
import type { Status, Telemetry } from "./client.js";
import type { Level } from "./consent.js";
import type { Envelope } from "./envelope.js";
import type { Store } from "./platform.js";
import { MemorySink } from "./sinks.js";

/** A store that keeps everything in memory (the saved decision, the instance id) for one test. */
export function memoryStore(): Store {
  const files = new Map<string, Record<string, unknown>>();
  return {
    location: "memory (test harness)",
    read: (name) => files.get(name),
    write: (name, value) => void files.set(name, value),
    remove: (name) => void files.delete(name),
  };
}

export class CapturedEvents {
  constructor(
    private readonly client: Telemetry,
    private readonly sink: MemorySink,
  ) {}

  get events(): Envelope[] {
    return [...this.sink.events];
  }

  names(): string[] {
    return this.sink.names();
  }

  /** The fields of each emitted event called `name`, in order. */
  data(name: string): Data[] {
    return this.sink.events.filter((event) => event.event === name).map((event) => event.data);
  }

  clear(): void {
    this.sink.clear();
  }

  status(): Status {
    return this.client.status();
  }

  /** Give the client back to the app, fresh and unconfigured. */
  stop(): void {
    this.client.unpin();
  }
}

export function captureEvents(client: Telemetry, consent: Level = "all"): CapturedEvents {
  const sink = new MemorySink();
  client.pinForTests({ sinks: [sink], store: memoryStore(), consent });
  return new CapturedEvents(client, sink);
}
