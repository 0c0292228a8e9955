/**
 * What differs between Node and a browser (or Electron's renderer), behind one interface: the
 * package's `#platform` import picks `platform-node.js` under Node and `platform-browser.js`
 * elsewhere, so a browser bundle never sees `node:` modules.
 */

import type { Environment } from "./consent.js";

/** Where the saved decision and the instance id are kept: small JSON objects under a name. */
export interface Store {
  /** Where it is, for `status()`: a folder on Node, `localStorage` in a browser. */
  readonly location: string;
  read(name: string): Record<string, unknown> | undefined;
  write(name: string, value: Record<string, unknown>): void;
  remove(name: string): void;
}

/** What the context can say about the machine, from the running process only. */
export interface Facts {
  os: string; // linux, macos, windows, freebsd or other
  osVersion: string;
  arch: string;
  runtimeVersion: string; // Node's version; 0.0.0 in a browser
}

export interface Platform {
  /** The process environment on Node; nothing in a browser. */
  environment(): Environment;
  /** The store for the app `appName`, in `dataDir` when given (Node) or the platform's place. */
  store(appName: string, dataDir: string | undefined): Store;
  facts(): Facts;
  /** Fill `bytes` from the platform's cryptographic random source. */
  fillRandom(bytes: Uint8Array): void;
  /** Call `send` when the page is hidden or unloaded (browsers); never on Node. */
  onPageHide(send: () => void): void;
  /** Print a line of debug output or a warning. */
  print(line: string): void;
  /** A timer that does not keep a Node process alive. */
  later(callback: () => void, milliseconds: number): () => void;
}
