/**
 * Where validated events go. A sink is started each time telemetry is switched on (or its level
 * changes), written with batches of envelopes, flushed when the app flushes, and stopped when the
 * user opts out (`forget`: drop what is queued) or the app stops telemetry.
 */

import type { Level } from "./consent.js";
import type { Envelope } from "./envelope.js";
import { platform } from "#platform";

/** What a sink learns once the user has opted in: enough to deliver, nothing about the person. */
export interface Session {
  readonly appName: string;
  readonly level: Level;
  readonly instanceId: string;
  readonly sessionId: string;
  /** Count events the sink had to drop, by reason (shown by `status().dropped`). */
  countDropped(reason: string, events: number): void;
}

export interface Sink {
  /** Written after the emitting code has run, in batches (a sink that sends); else as each event is emitted. */
  readonly background?: boolean;
  start?(session: Session): void;
  write(events: readonly Envelope[]): void;
  /** Resolve true once what `write` got has been tried, within `timeoutMs`. */
  flush?(timeoutMs: number): Promise<boolean>;
  stop?(forget: boolean): void;
}

/** Keeps events in a list, as they are emitted; for tests and for showing what would be sent. */
export class MemorySink implements Sink {
  readonly events: Envelope[] = [];

  write(events: readonly Envelope[]): void {
    for (const event of events) this.events.push(event);
  }

  names(): string[] {
    return this.events.map((event) => event.event);
  }

  clear(): void {
    this.events.length = 0;
  }
}

/** Prints each event as it would be sent, and sends nothing. */
export class ConsoleSink implements Sink {
  constructor(private readonly print: (line: string) => void = platform.print) {}

  write(events: readonly Envelope[]): void {
    for (const event of events) this.print(`telemetry (not sent): ${JSON.stringify(event)}`);
  }
}
