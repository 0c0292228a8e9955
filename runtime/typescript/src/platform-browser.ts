/** The browser (and Electron renderer) platform: `localStorage`, no environment, page-hide hooks. */

import { isObject } from "./checks.js";
import type { Environment } from "./consent.js";
import type { Facts, Platform, Store } from "./platform.js";

const PREFIXES: ReadonlyArray<[RegExp, string]> = [
  [/Windows/, "windows"],
  [/Mac OS X|Macintosh/, "macos"],
  [/FreeBSD/, "freebsd"],
  [/Linux|X11/, "linux"],
];

class LocalStore implements Store {
  readonly location: string;

  constructor(private readonly prefix: string) {
    this.location = `localStorage (${prefix}*)`;
  }

  read(name: string): Record<string, unknown> | undefined {
    try {
      const text = globalThis.localStorage?.getItem(this.prefix + name);
      const value: unknown = text == null ? undefined : JSON.parse(text);
      return isObject(value) ? value : undefined;
    } catch {
      return undefined; // storage disabled or damaged: as if never written
    }
  }

  write(name: string, value: Record<string, unknown>): void {
    globalThis.localStorage.setItem(this.prefix + name, JSON.stringify(value));
  }

  remove(name: string): void {
    globalThis.localStorage?.removeItem(this.prefix + name);
  }
}

export const platform: Platform = {
  environment(): Environment {
    return {};
  },
  store(appName: string): Store {
    return new LocalStore(`${appName}/telemetry/`);
  },
  facts(): Facts {
    const agent = globalThis.navigator?.userAgent ?? "";
    const family = PREFIXES.find(([pattern]) => pattern.test(agent));
    return { os: family ? family[1] : "other", osVersion: "unknown", arch: "unknown", runtimeVersion: "0.0.0" };
  },
  fillRandom(bytes: Uint8Array): void {
    // getRandomValues works outside secure contexts too, unlike randomUUID; it fills 64 KiB at most.
    globalThis.crypto.getRandomValues(bytes);
  },
  onPageHide(send: () => void): void {
    // `visibilitychange` to hidden is the last event a mobile browser reliably fires; `pagehide` covers the rest.
    globalThis.addEventListener?.("pagehide", send);
    globalThis.document?.addEventListener?.("visibilitychange", () => {
      if (globalThis.document.visibilityState === "hidden") send();
    });
  },
  print(line: string): void {
    globalThis.console.info(line);
  },
  later(callback: () => void, milliseconds: number): () => void {
    const timer = setTimeout(callback, milliseconds);
    return () => clearTimeout(timer);
  },
};
