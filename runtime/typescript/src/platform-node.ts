/** The Node platform: files in the user-data folder, the process environment, `os` facts. */

import { randomFillSync, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { arch, homedir, release } from "node:os";
import { join } from "node:path";
import { isObject } from "./checks.js";
import type { Environment } from "./consent.js";
import type { Facts, Platform, Store } from "./platform.js";

const OS_FAMILIES: ReadonlyArray<[string, string]> = [
  ["linux", "linux"],
  ["darwin", "macos"],
  ["win32", "windows"],
  ["freebsd", "freebsd"],
];
const UNSAFE = /[^0-9A-Za-z._+-]/g;

/** The platform's per-user data folder for the app, as the Python runtime computes it. */
export function userDataDir(appName: string): string {
  const home = homedir();
  let base: string;
  if (process.platform === "win32") base = process.env["LOCALAPPDATA"] || join(home, "AppData", "Local");
  else if (process.platform === "darwin") base = join(home, "Library", "Application Support");
  else base = process.env["XDG_DATA_HOME"] || join(home, ".local", "share");
  return join(base, appName);
}

function token(text: string, longest: number): string {
  return text.replace(UNSAFE, "-").slice(0, longest) || "unknown";
}

class FolderStore implements Store {
  constructor(readonly location: string) {}

  read(name: string): Record<string, unknown> | undefined {
    try {
      const value: unknown = JSON.parse(readFileSync(join(this.location, name), "utf-8"));
      return isObject(value) ? value : undefined;
    } catch {
      return undefined; // missing, unreadable or damaged: as if never written
    }
  }

  write(name: string, value: Record<string, unknown>): void {
    // Atomic: a reader sees the old file or the new one, never half of one.
    mkdirSync(this.location, { recursive: true });
    const temporary = join(this.location, `.${name}.${randomUUID()}.tmp`);
    try {
      writeFileSync(temporary, JSON.stringify(value) + "\n", "utf-8");
      renameSync(temporary, join(this.location, name));
    } finally {
      rmSync(temporary, { force: true });
    }
  }

  remove(name: string): void {
    rmSync(join(this.location, name), { force: true });
  }
}

export const platform: Platform = {
  environment(): Environment {
    return process.env;
  },
  store(appName: string, dataDir: string | undefined): Store {
    return new FolderStore(dataDir ?? userDataDir(appName));
  },
  facts(): Facts {
    const family = OS_FAMILIES.find(([prefix]) => process.platform.startsWith(prefix));
    return {
      os: family ? family[1] : "other",
      osVersion: token(release(), 64),
      arch: token(arch(), 32),
      runtimeVersion: process.versions.node,
    };
  },
  fillRandom(bytes: Uint8Array): void {
    randomFillSync(bytes);
  },
  onPageHide(): void {},
  print(line: string): void {
    process.stderr.write(line + "\n");
  },
  later(callback: () => void, milliseconds: number): () => void {
    const timer = setTimeout(callback, milliseconds);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
