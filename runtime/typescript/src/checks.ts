/** What the generated checks use: the tests that take more than an expression. */

import type { Violation } from "./errors.js";

export type Data = Record<string, unknown>;

/** The value as a violation's message shows it. */
export function shown(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Whether `value` is a JSON object: not null, not an array. */
export function isObject(value: unknown): value is Data {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function codePoints(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    // A high surrogate followed by a low one is one code point, as JSON Schema counts.
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    count++;
  }
  return count;
}

/** Whether `text` has more than `limit` code points; a huge string is judged by its UTF-16 length alone. */
export function longerThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  return text.length > 2 * limit || codePoints(text) > limit;
}

/** Whether `text` has fewer than `limit` code points. */
export function shorterThan(text: string, limit: number): boolean {
  return text.length < limit || (text.length < 2 * limit && codePoints(text) < limit);
}

// Up to this many items, a list is compared pair by pair: at most 120 comparisons, and no allocation.
const PAIRWISE_LIMIT = 16;

/** Whether a list of JSON scalars repeats an item, as a Set compares them (NaN repeats NaN; objects
 * are reported by the item checks). A short list, the usual one, is compared pair by pair, which
 * allocates nothing; a longer one goes through a Set, so the test stays linear. */
export function hasDuplicates(values: readonly unknown[]): boolean {
  if (values.length > PAIRWISE_LIMIT) return new Set(values).size !== values.length;
  for (let index = 1; index < values.length; index++) {
    const value = values[index];
    for (let earlier = 0; earlier < index; earlier++) {
      const other = values[earlier];
      if (value === other || (value !== value && other !== other)) return true;
    }
  }
  return false;
}

/** Adds to `found` one violation per key the schema does not declare, in sorted order. */
export function unexpectedFields(found: Violation[], event: string, path: string, keys: string[]): void {
  // One push per key: an object may have more keys than a call takes arguments.
  for (const key of keys.sort()) found.push({ event, field: path + key, code: "additionalProperties", message: "unexpected field" });
}
