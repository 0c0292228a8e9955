/** The envelope every event travels in: the same keys, id and timestamp format as the Python runtime's. */

import { platform } from "#platform";
import type { Data } from "./checks.js";

export const ENVELOPE_KEYS = ["event", "schema", "id", "timestamp", "context", "data"] as const;

export interface Envelope {
  event: string;
  schema: string;
  id: string;
  timestamp: string;
  context: Data;
  data: Data;
}

/** `at` (milliseconds since the epoch) as the envelope's UTC timestamp, with microseconds like Python's. */
export function utcTimestamp(at: number): string {
  return new Date(at).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export function makeEnvelope(event: string, schema: string, context: Data, data: Data, at: number): Envelope {
  return { event, schema, id: platform.randomId(), timestamp: utcTimestamp(at), context, data };
}
