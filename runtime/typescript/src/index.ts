/** telemetry-gen-runtime: what the TypeScript packages `telemetry-gen build` writes run on. */

export { Telemetry, Status, DECISION_FILE, ID_FILE } from "./client.js";
export type { AppInfo, Check, ContextSpec, EventSpec, Options, Override } from "./client.js";
export { hasDuplicates, isObject, longerThan, shorterThan, shown, unexpectedFields } from "./checks.js";
export type { Data } from "./checks.js";
export { LEVELS, levelFromEnvironment, parseLevel } from "./consent.js";
export type { Level } from "./consent.js";
export { ENVELOPE_KEYS, makeEnvelope, utcTimestamp } from "./envelope.js";
export type { Envelope } from "./envelope.js";
export { ConfigurationError, EventValidationError, TelemetryError, describeViolation } from "./errors.js";
export type { Violation } from "./errors.js";
export { CONTEXT_PREFIX, HttpSink, queryString, retryAfterMs } from "./http.js";
export type { HttpSinkOptions, Method } from "./http.js";
export { ConsoleSink, MemorySink } from "./sinks.js";
export type { Session, Sink } from "./sinks.js";
export type { Store } from "./platform.js";

export const VERSION = "0.1.0";
