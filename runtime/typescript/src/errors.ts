/**
 * The runtime's error taxonomy, as in the Python runtime.
 *
 * - `TelemetryError`: base of everything the runtime throws. In production mode nothing is thrown
 *   into the host app: problems are counted (see `status().dropped`).
 * - `ConfigurationError`: telemetry was given something unusable (an unknown consent level, an app
 *   version the catalog's context rejects). Thrown in strict mode; otherwise counted, and
 *   telemetry stays off.
 * - `EventValidationError`: an emitted event does not match its schema. Thrown in strict mode;
 *   in production the event is dropped and counted per event and field.
 */

/** One way an event departs from its schema. */
export interface Violation {
  /** The event's name (`app/started`), or `context`. */
  readonly event: string;
  /** The path of the field: `command`, `device.model`, `tags[2]`; empty for the event itself. */
  readonly field: string;
  /** The JSON Schema keyword that fails: `required`, `type`, `enum`, `maxLength`, ... */
  readonly code: string;
  readonly message: string;
}

/** `event.field: message`, as the Python runtime prints a violation. */
export function describeViolation(violation: Violation): string {
  const where = violation.field ? `${violation.event}.${violation.field}` : violation.event;
  return `${where}: ${violation.message}`;
}

export class TelemetryError extends Error {
  override name = "TelemetryError";
}

export class ConfigurationError extends TelemetryError {
  override name = "ConfigurationError";
}

export class EventValidationError extends TelemetryError {
  override name = "EventValidationError";
  readonly event: string;
  readonly violations: readonly Violation[];

  constructor(event: string, violations: readonly Violation[]) {
    super(`invalid ${event} event: ` + violations.map(describeViolation).join("; "));
    this.event = event;
    this.violations = violations;
  }
}
