/**
 * The telemetry client: consent and its lifecycle, identity, and the one path of an event: `emit`
 * checks it, wraps it in the envelope and hands it to the sinks.
 *
 * Creating and configuring a client starts nothing: no timer, no file, no request. Those come only
 * once the user has opted in, and go when they opt out.
 */

import { platform } from "#platform";
import type { Data } from "./checks.js";
import type { Level } from "./consent.js";
import { levelFromEnvironment, parseLevel, switchedOn } from "./consent.js";
import type { Envelope } from "./envelope.js";
import { makeEnvelope, randomId } from "./envelope.js";
import type { Violation } from "./errors.js";
import { ConfigurationError, EventValidationError, describeViolation } from "./errors.js";
import type { Store } from "./platform.js";
import type { Session, Sink } from "./sinks.js";
import { ConsoleSink } from "./sinks.js";

/** A generated check: adds the violations of one object to `found`, each field's path after
 * `path`, and returns the copy of what it read, which is the data to send when none were found. */
export type Check = (data: Data, found: Violation[], path?: string) => Data;

export interface ContextSpec {
  readonly name: string;
  readonly source: string;
  readonly package?: string;
}

/** What the generated package tells the runtime about the app. */
export interface AppInfo {
  readonly name: string;
  readonly title: string;
  readonly envPrefix: string;
  readonly catalogVersion: string;
  readonly context: readonly ContextSpec[];
  readonly checkContext: Check;
}

export interface EventSpec {
  readonly name: string;
  readonly schema: string;
  readonly category: "usage" | "errors";
  readonly check: Check;
}

export interface Options {
  appVersion: string;
  commit?: string;
  sinks?: readonly Sink[];
  /** A decision the app made for this run (for example from its settings screen). */
  consent?: Level;
  /** Throw `EventValidationError` on invalid events (development and tests); else drop and count them. */
  strict?: boolean;
  onViolation?: (error: EventValidationError) => void;
  /** Where the saved decision and the instance id live on Node (default: the user-data folder). */
  dataDir?: string;
  /** Print each event instead of sending it (also `<PREFIX>_TELEMETRY_DEBUG=1` on Node). */
  debug?: boolean;
  /** Checked events held for the sending sinks until the emitting code yields; more are dropped and counted. */
  queueSize?: number;
  /** Versions of the packages the catalog's `package_version` context fields name. */
  packageVersions?: Readonly<Record<string, string>>;
}

export const DECISION_FILE = "consent.json";
export const ID_FILE = "user_id.json";
const EXPLICIT = "explicit";

/** What telemetry does right now, and why. */
export class Status {
  constructor(
    readonly level: Level,
    readonly source: string, // what decided the level: "default", "explicit", an environment variable, ...
    readonly instanceId: string | undefined,
    readonly dataDir: string,
    readonly accepted: number, // events validated and handed to the sinks in this process
    readonly dropped: Readonly<Record<string, number>>, // "<event.field or stage>: <reason>" -> count
  ) {}

  describe(): string {
    const lines = [
      `telemetry: ${this.level} (decided by ${this.source})`,
      `instance id: ${this.instanceId ?? "none (nothing is stored while telemetry is off)"}`,
      `data folder: ${this.dataDir}`,
      `events accepted this run: ${this.accepted}`,
    ];
    for (const reason of Object.keys(this.dropped).sort()) lines.push(`dropped: ${reason} x${this.dropped[reason]}`);
    return lines.join("\n");
  }
}

/** Settings a test harness pins, whatever the code under test passes to `configure()`. */
export interface Override {
  readonly sinks: readonly Sink[];
  readonly store: Store;
  readonly consent: Level;
}

export class Telemetry {
  /** What may be emitted right now. */
  readonly gate = { usage: false, errors: false };
  private readonly sessionId = randomId();
  private options: Options | undefined;
  private override: Override | undefined;
  private explicit: [Level, string] | undefined;
  private level: Level = "off";
  private source = "not configured";
  private sinks: readonly Sink[] = [];
  private hasForeground = false; // a sink written as each event is emitted
  private hasBackground = false; // a sink written in batches, after the emitting code has run
  // Checked events waiting for the background sinks: they get their ids, and are handed over, in a
  // microtask after the emitting code has run, so an emit costs its caller little more than the check.
  private pending: Envelope[] = [];
  private deliveryScheduled = false;
  private context: Data | undefined;
  private instanceId: string | undefined;
  private accepted = 0;
  private dropped: Record<string, number> = {};

  constructor(readonly app: AppInfo) {
    platform.onPageHide(() => this.deliver()); // before the sinks send what they hold as the page goes
  }

  /** Set telemetry up once at start-up. Sends nothing, and stores nothing, until the user opts in. */
  configure(options: Options): void {
    this.stopSinks(false);
    this.options = options;
    this.explicit = undefined;
    if (options.consent !== undefined) {
      if (parseLevel(options.consent) === options.consent) this.explicit = [options.consent, EXPLICIT];
      else {
        this.problem(new ConfigurationError(`unknown consent level ${JSON.stringify(options.consent)}; use 'off', 'errors' or 'all'`));
        this.explicit = ["off", "configuration error"];
      }
    }
    this.apply();
  }

  /** The user opts in (`all`, or `errors` for error reports only); the choice is saved. */
  enable(level: Level = "all"): void {
    if (level !== "all" && level !== "errors") {
      this.problem(new ConfigurationError(`enable() takes 'all' or 'errors', not ${JSON.stringify(level)}`));
      return;
    }
    this.decide(level);
  }

  /** The user opts out: nothing more is sent, queued events and the instance id are deleted, and the choice is saved. */
  disable(): void {
    this.decide("off");
  }

  status(): Status {
    return new Status(this.level, this.source, this.instanceId, this.store().location, this.accepted, { ...this.dropped });
  }

  /** Wait until the sinks have tried to send what they were given, at most `timeoutMs`; true if so. */
  async flush(timeoutMs = 2000): Promise<boolean> {
    this.deliver();
    const results = await Promise.all(this.sinks.map((sink) => sink.flush?.(timeoutMs) ?? Promise.resolve(true)));
    return results.every(Boolean);
  }

  /** The store of the saved decision and the instance id (nothing is written before opt-in). */
  store(): Store {
    return this.override?.store ?? platform.store(this.app.name, this.options?.dataDir);
  }

  /** Check and deliver one event; the generated emitters call this. Never throws, unless strict. */
  emit(spec: EventSpec, data: Data): void {
    if (!(spec.category === "errors" ? this.gate.errors : this.gate.usage)) return;
    const violations: Violation[] = [];
    let copy: Data;
    try {
      copy = spec.check(data ?? {}, violations); // an untyped call without an object is checked as an empty one
    } catch (error) {
      this.count(`${spec.name}: internal error`, 1); // telemetry never breaks the host app
      return;
    }
    if (violations.length > 0) {
      this.violation(spec.name, violations);
      return;
    }
    this.accepted++;
    // One envelope per event, for every sink; a background sink's gets its id when handed over.
    const id = this.hasForeground ? randomId() : "";
    const envelope = makeEnvelope(spec.name, spec.schema, this.context ?? {}, copy, Date.now(), id);
    if (this.hasForeground) this.write(false, [envelope]);
    if (this.hasBackground) {
      if (this.pending.length >= (this.options?.queueSize ?? 10_000)) {
        this.count("queue full", 1);
        return;
      }
      this.pending.push(envelope);
      if (!this.deliveryScheduled) {
        this.deliveryScheduled = true;
        queueMicrotask(() => this.deliver());
      }
    }
  }

  /** Hand the pending events to the background sinks. */
  private deliver(): void {
    this.deliveryScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    for (const envelope of batch) if (envelope.id === "") envelope.id = randomId();
    this.write(true, batch);
  }

  private write(background: boolean, envelopes: Envelope[]): void {
    for (const sink of this.sinks) {
      if ((sink.background === true) !== background) continue;
      try {
        sink.write(envelopes);
      } catch {
        this.count(`sink ${sink.constructor.name}: failed`, envelopes.length);
      }
    }
  }

  /** Route every event to `sinks`, strictly validated, whatever the app configures (see `testing`). */
  pinForTests(override: Override): void {
    this.stopSinks(false);
    this.override = override;
    this.options ??= { appVersion: "0.0.0+test" };
    this.explicit = undefined;
    this.apply();
  }

  /** Undo `pinForTests`: back to a fresh, unconfigured client. */
  unpin(): void {
    this.stopSinks(false);
    this.override = undefined;
    this.options = undefined;
    this.explicit = undefined;
    this.accepted = 0;
    this.dropped = {};
    this.apply();
  }

  private get strict(): boolean {
    return this.override !== undefined || this.options?.strict === true;
  }

  private decide(level: Level): void {
    this.explicit = [level, EXPLICIT];
    const store = this.store();
    try {
      store.write(DECISION_FILE, { level });
      if (level === "off") store.remove(ID_FILE);
    } catch (error) {
      this.count("save decision: failed", 1);
    }
    if (level === "off") this.stopSinks(true);
    this.apply();
  }

  /** The level in force and what decided it (see `consent.ts` for the precedence). */
  private decision(): [Level, string] {
    if (this.options === undefined) return ["off", "not configured"];
    if (this.explicit !== undefined) return this.explicit;
    if (this.override === undefined) {
      const fromEnvironment = levelFromEnvironment(platform.environment(), this.app.envPrefix);
      if (fromEnvironment !== undefined) return fromEnvironment;
    }
    const saved = parseLevel(this.store().read(DECISION_FILE)?.["level"]);
    if (saved !== undefined) return [saved, "saved decision"];
    return this.override === undefined ? ["off", "default"] : [this.override.consent, "test harness"];
  }

  /** Bring the gate, identity and sinks in line with the decision in force. */
  private apply(): void {
    let [level, source] = this.decision();
    if (level !== "off" && (this.context === undefined || this.level !== level)) level = this.startSinks(level);
    else if (level === "off") this.stopSinks(false);
    this.level = level;
    this.source = source;
    this.gate.usage = level === "all";
    this.gate.errors = level !== "off";
  }

  private startSinks(level: Level): Level {
    const options = this.options!;
    this.stopSinks(false);
    const store = this.store();
    let instanceId = store.read(ID_FILE)?.["user_id"];
    try {
      if (typeof instanceId !== "string" || !/^[0-9a-f]{32}$/.test(instanceId)) {
        instanceId = randomId();
        store.write(ID_FILE, { user_id: instanceId });
      }
    } catch {
      this.count("identity: cannot store the instance id", 1);
      return "off";
    }
    const context = this.contextValues(options, instanceId as string);
    const problems: Violation[] = [];
    this.app.checkContext(context, problems);
    if (problems.length > 0) {
      this.problem(new ConfigurationError("context rejected: " + problems.map(describeViolation).join("; ")));
      return "off";
    }
    const debug = options.debug === true || switchedOn(platform.environment(), `${this.app.envPrefix}_TELEMETRY_DEBUG`);
    this.sinks = this.override?.sinks ?? (debug ? [new ConsoleSink()] : options.sinks ?? []);
    const session: Session = {
      appName: this.app.name,
      level,
      instanceId: instanceId as string,
      sessionId: this.sessionId,
      countDropped: (reason, events) => this.count(reason, events),
    };
    this.hasForeground = this.sinks.some((sink) => sink.background !== true);
    this.hasBackground = this.sinks.some((sink) => sink.background === true);
    for (const sink of this.sinks) sink.start?.(session);
    this.context = context;
    this.instanceId = instanceId as string;
    return level;
  }

  private stopSinks(forget: boolean): void {
    if (forget) this.pending = [];
    else this.deliver();
    this.gate.usage = this.gate.errors = false;
    for (const sink of this.sinks) sink.stop?.(forget);
    this.sinks = [];
    this.hasForeground = this.hasBackground = false;
    this.context = undefined;
    this.instanceId = undefined;
  }

  /** The values of the catalog's context fields, from the running process only. A JavaScript
   * runtime fills the Python sources as another implementation: `other`, and its own version. */
  private contextValues(options: Options, instanceId: string): Data {
    const facts = platform.facts();
    const bySource: Record<string, (spec: ContextSpec) => string> = {
      app_version: () => options.appVersion,
      app_commit: () => options.commit ?? "unknown",
      python_version: () => facts.runtimeVersion,
      python_implementation: () => "other",
      os: () => facts.os,
      os_version: () => facts.osVersion,
      machine_arch: () => facts.arch,
      instance_id: () => instanceId,
      session_id: () => this.sessionId,
      package_version: (spec) => options.packageVersions?.[spec.package ?? ""] ?? "not-installed",
    };
    const values: Data = {};
    for (const spec of this.app.context) values[spec.name] = bySource[spec.source]?.(spec) ?? "unknown";
    return values;
  }

  private violation(event: string, violations: Violation[]): void {
    if (this.strict) throw new EventValidationError(event, violations);
    for (const reason of new Set(violations.map(droppedAs))) this.count(reason, 1);
    const hook = this.options?.onViolation;
    if (hook === undefined) return; // an error, with its stack trace, is made only for a hook
    try {
      hook(new EventValidationError(event, violations));
    } catch {
      this.count("on_violation hook: failed", 1);
    }
  }

  private problem(error: ConfigurationError): void {
    if (this.strict) throw error;
    this.count("configuration", 1);
  }

  private count(reason: string, events: number): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + events;
  }
}

/** The tally's reason for a violation: its field, or for undeclared fields, which the app names
 * freely, one reason per event, so the tally never grows with the app's keys. */
function droppedAs(violation: Violation): string {
  return violation.code === "additionalProperties"
    ? `${violation.event}: undeclared field`
    : `${violation.event}.${violation.field}: invalid`;
}
