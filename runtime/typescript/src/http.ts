/**
 * Delivery over HTTP with `fetch`: batched JSON POSTs (gzipped where `CompressionStream` exists),
 * or one query-string GET per event, in the Python runtime's wire format:
 *
 * POST body: `{"sent_at": "<UTC>", "events": [<envelope>, ...]}`.
 * GET form: `?event=...&schema=...&id=...&timestamp=...&sent_at=...`, then each context field as
 * `c_<name>` and each data field under its own name; strings as they are, other values as JSON.
 *
 * Network errors, 5xx, 408 and 429 are retried with capped exponential backoff and jitter; a
 * `Retry-After` is honoured, and one past the backoff cap pauses sending until then. Any other
 * answer is final: the batch is dropped and counted. When a page hides, what is queued leaves at
 * once with `fetch(..., {keepalive: true})` (or `navigator.sendBeacon`), uncompressed, in bodies
 * within the browsers' 64 KiB keepalive quota.
 */

import { platform } from "#platform";
import type { Envelope } from "./envelope.js";
import { utcTimestamp } from "./envelope.js";
import type { Session, Sink } from "./sinks.js";

export type Method = "POST" | "GET";
export const CONTEXT_PREFIX = "c_";
const GET_FORM_KEYS = ["event", "schema", "id", "timestamp"] as const;
const KEEPALIVE_BYTES = 60 * 1024;

export interface HttpSinkOptions {
  method?: Method;
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  maxRequestBytes?: number;
  /** Events per request, and how long the first event of a batch waits for others. */
  batchSize?: number;
  batchIntervalMs?: number;
  /** Events held while the endpoint is unreachable; more are dropped and counted. */
  queueSize?: number;
}

/** Milliseconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  const text = (value ?? "").trim();
  if (text === "") return undefined;
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const moment = Date.parse(text);
  return Number.isNaN(moment) ? undefined : Math.max(0, moment - now);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The GET form of one event. */
export function queryString(event: Envelope, sentAt: string): string {
  const pairs: Array<[string, string]> = GET_FORM_KEYS.map((key) => [key, event[key]]);
  pairs.push(["sent_at", sentAt]);
  for (const [name, value] of Object.entries(event.context)) pairs.push([CONTEXT_PREFIX + name, text(value)]);
  for (const [name, value] of Object.entries(event.data)) pairs.push([name, text(value)]);
  return pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join("&");
}

async function gzipped(body: string): Promise<ArrayBuffer | undefined> {
  if (typeof CompressionStream === "undefined") return undefined;
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => platform.later(resolve, milliseconds));
}

type Outcome = "sent" | "retry" | "refused";

/** One POST body and the number of events it carries. */
interface BatchBody {
  body: string;
  events: number;
}

export class HttpSink implements Sink {
  readonly background = true;
  readonly endpoint: string;
  readonly method: Method;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRequestBytes: number;
  private readonly batchSize: number;
  private readonly batchIntervalMs: number;
  private readonly queueSize: number;
  private queue: Envelope[] = [];
  private session: Session | undefined;
  private sending: Promise<void> | undefined;
  private cancelTimer: (() => void) | undefined;
  private notBefore = 0; // a Retry-After past the backoff cap pauses sending until then
  private generation = 0; // bumped by stop(): a send under way from an earlier start gives up

  constructor(endpoint: string, options: HttpSinkOptions = {}) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(endpoint)?.[1]?.toLowerCase();
    if (scheme !== "http" && scheme !== "https") {
      throw new TypeError(`endpoint must be an http or https URL, not ${JSON.stringify(endpoint)}`);
    }
    const method = options.method ?? "POST";
    if (method !== "POST" && method !== "GET") throw new TypeError(`method must be POST or GET, not ${method}`);
    this.endpoint = endpoint;
    this.method = method;
    this.headers = { ...options.headers };
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
    this.batchSize = Math.max(1, options.batchSize ?? 100);
    this.batchIntervalMs = options.batchIntervalMs ?? 1000;
    this.queueSize = options.queueSize ?? 10_000;
    platform.onPageHide(() => this.sendOnPageHide());
  }

  start(session: Session): void {
    this.session = session;
  }

  stop(forget: boolean): void {
    this.generation++;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (forget) this.queue = [];
    this.session = undefined;
  }

  write(events: readonly Envelope[]): void {
    const room = this.queueSize - this.queue.length;
    if (events.length > room) this.count("queue full", events.length - Math.max(0, room));
    // One push per event: a spread of a large write would pass more arguments than a call takes.
    for (const event of events.slice(0, Math.max(0, room))) this.queue.push(event);
    if (this.queue.length >= this.batchSize) this.kick();
    else this.cancelTimer ??= platform.later(() => this.kick(), this.batchIntervalMs);
  }

  async flush(timeoutMs: number): Promise<boolean> {
    // A timer that keeps Node running: an app awaiting flush() before it exits gets its events out.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = (async () => {
      while (this.queue.length > 0 || this.sending !== undefined) {
        this.kick();
        await this.sending;
      }
      return true;
    })();
    try {
      return await Promise.race([done, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private count(reason: string, events: number): void {
    this.session?.countDropped(reason, events);
  }

  /** Start sending what is queued, unless a send is under way (it takes the rest when done). */
  private kick(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.sending !== undefined || this.queue.length === 0 || this.session === undefined) return;
    const generation = this.generation;
    this.sending = this.drain(generation).finally(() => {
      this.sending = undefined;
      if (this.queue.length > 0 && generation === this.generation) this.write([]);
    });
  }

  private async drain(generation: number): Promise<void> {
    while (this.queue.length > 0 && generation === this.generation) {
      const batch = this.queue.splice(0, this.method === "GET" ? 1 : this.batchSize);
      await this.deliver(batch, generation);
    }
  }

  /** The bodies of `batch`, each within `limit` bytes; events too large alone are dropped and counted. */
  private bodies(batch: readonly Envelope[], limit: number): BatchBody[] {
    const sentAt = utcTimestamp(Date.now());
    const encoder = new TextEncoder();
    const bodies: BatchBody[] = [];
    let part: string[] = [];
    let size = 0;
    const head = `{"sent_at":${JSON.stringify(sentAt)},"events":[`;
    const close = () => {
      if (part.length > 0) bodies.push({ body: head + part.join(",") + "]}", events: part.length });
      part = [];
      size = 0;
    };
    for (const event of batch) {
      const json = JSON.stringify(event);
      const bytes = encoder.encode(json).length + 1;
      if (bytes + head.length + 2 > limit) {
        this.count("too large", 1);
        continue;
      }
      if (size + bytes + head.length + 2 > limit) close();
      part.push(json);
      size += bytes;
    }
    close();
    return bodies;
  }

  private async deliver(batch: readonly Envelope[], generation: number): Promise<void> {
    if (this.method === "GET") {
      for (const event of batch) {
        await this.attempt(() => this.request(this.getUrl(event)), 1, generation);
      }
      return;
    }
    for (const { body, events } of this.bodies(batch, this.maxRequestBytes)) {
      await this.attempt(() => this.post(body), events, generation);
    }
  }

  private getUrl(event: Envelope): string {
    return `${this.endpoint}?${queryString(event, utcTimestamp(Date.now()))}`;
  }

  private async post(body: string): Promise<Response> {
    const compressed = await gzipped(body);
    const headers: Record<string, string> = { ...this.headers, "Content-Type": "application/json" };
    if (compressed !== undefined) headers["Content-Encoding"] = "gzip";
    return this.request(this.endpoint, { method: "POST", headers, body: compressed ?? body });
  }

  private async request(url: string, init: RequestInit = {}): Promise<Response> {
    const controller = new AbortController();
    const cancel = platform.later(() => controller.abort(), this.timeoutMs);
    try {
      const response = await fetch(url, {
        method: "GET",
        headers: this.headers,
        ...init,
        redirect: "manual", // an endpoint that moved must be configured again
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      return response;
    } finally {
      cancel();
    }
  }

  private async attempt(send: () => Promise<Response>, events: number, generation: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) await sleep(wait);
      if (generation !== this.generation) return;
      let outcome: Outcome;
      let reason: string;
      let asked: number | undefined;
      try {
        const response = await send();
        const status = response.status;
        outcome = status < 300 ? "sent" : status >= 500 || status === 408 || status === 429 ? "retry" : "refused";
        reason = `http ${status}`;
        asked = retryAfterMs(response.headers.get("retry-after"), Date.now());
      } catch {
        outcome = "retry";
        reason = "network error";
      }
      if (outcome === "sent") return;
      if (outcome === "refused" || attempt >= this.maxAttempts) {
        this.count(reason, events);
        return;
      }
      const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      if (asked !== undefined && asked > this.maxBackoffMs) this.notBefore = Date.now() + asked;
      else await sleep(Math.max(backoff, asked ?? 0));
    }
  }

  /** The page is going away: hand what is queued to the browser, which sends it after the page is gone. */
  private sendOnPageHide(): void {
    if (this.session === undefined || this.queue.length === 0) return;
    const batch = this.queue.splice(0);
    const headers = { ...this.headers, "Content-Type": "application/json" };
    const requests: Array<[string, RequestInit, number]> =
      this.method === "GET"
        ? batch.map((event) => [this.getUrl(event), { method: "GET", headers: this.headers }, 1])
        : this.bodies(batch, KEEPALIVE_BYTES).map(({ body, events }) => [this.endpoint, { method: "POST", headers, body }, events]);
    const keepalive = typeof Request !== "undefined" && "keepalive" in Request.prototype;
    for (const [url, init, events] of requests) {
      if (keepalive) {
        fetch(url, { ...init, keepalive: true }).catch(() => this.count("network error", events));
        continue;
      }
      const body = typeof init.body === "string" ? new Blob([init.body], { type: "application/json" }) : undefined;
      if (!globalThis.navigator?.sendBeacon?.(url, body)) this.count("page hidden", events);
    }
  }
}
