/**
 * Consent levels and where a decision comes from. Off by default. Precedence, first that decides wins:
 * 1. an explicit call in this process: `configure({consent})`, `enable()`, `disable()`;
 * 2. the environment (Node only): `DO_NOT_TRACK=1` (always off), then `<PREFIX>_TELEMETRY`;
 * 3. the decision the user saved earlier (`consent.json` on Node, `localStorage` in a browser);
 * 4. nothing: off.
 */

export type Level = "off" | "errors" | "all";
export const LEVELS: readonly Level[] = ["off", "errors", "all"];

const WORDS: Readonly<Record<string, Level>> = {
  "0": "off",
  false: "off",
  no: "off",
  off: "off",
  "1": "all",
  true: "all",
  yes: "all",
  on: "all",
  all: "all",
  errors: "errors",
};

export type Environment = Readonly<Record<string, string | undefined>>;

/** A consent level from user-facing text (`all`, `errors`, `1`, `off`, ...), or undefined. */
export function parseLevel(value: unknown): Level | undefined {
  if (typeof value === "boolean") return value ? "all" : "off";
  if (typeof value !== "string") return undefined;
  const key = value.trim().toLowerCase();
  return Object.prototype.hasOwnProperty.call(WORDS, key) ? WORDS[key] : undefined;
}

/** Whether the on/off variable `name` is on: set to anything but nothing or a word meaning off. */
export function switchedOn(environment: Environment, name: string): boolean {
  const value = (environment[name] ?? "").trim();
  return value !== "" && parseLevel(value) !== "off";
}

/** The decision the environment makes, with its source, or undefined when it makes none. */
export function levelFromEnvironment(environment: Environment, envPrefix: string): [Level, string] | undefined {
  if (switchedOn(environment, "DO_NOT_TRACK")) return ["off", "DO_NOT_TRACK"];
  const variable = `${envPrefix}_TELEMETRY`;
  const level = parseLevel(environment[variable]);
  return level === undefined ? undefined : [level, variable];
}
