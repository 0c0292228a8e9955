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

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
// Random bytes are drawn in blocks: one call to the random source serves 256 ids.
const pool = new Uint8Array(4096);
let used = pool.length;

/** A random id of 32 hex digits: a UUID4 without its hyphens, as Python's `uuid4().hex`. */
export function randomId(): string {
  if (used === pool.length) {
    platform.fillRandom(pool);
    used = 0;
  }
  pool[used + 6] = (pool[used + 6]! & 0x0f) | 0x40;
  pool[used + 8] = (pool[used + 8]! & 0x3f) | 0x80;
  let id = "";
  for (let index = used; index < used + 16; index++) id += HEX[pool[index]!];
  used += 16;
  return id;
}

let lastAt = Number.NaN;
let lastTimestamp = "";

/** `at` (milliseconds since the epoch) as the envelope's UTC timestamp, with microseconds like Python's. */
export function utcTimestamp(at: number): string {
  if (at !== lastAt) {
    lastTimestamp = new Date(at).toISOString().slice(0, -1) + "000Z"; // events of one millisecond share it
    lastAt = at;
  }
  return lastTimestamp;
}

export function makeEnvelope(
  event: string,
  schema: string,
  context: Data,
  data: Data,
  at: number,
  id: string = randomId(),
): Envelope {
  return { event, schema, id, timestamp: utcTimestamp(at), context, data };
}
