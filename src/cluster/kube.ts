// The one network boundary of src/cluster/: every request to the API server goes through the
// KubeApi interface, so discovery, snapshot, watch and cleanup logic can be tested on plain data
// with a fake. The real implementation loads credentials with @kubernetes/client-node and talks
// plain HTTPS with a keep-alive agent: the generated client cannot ask for
// PartialObjectMetadataList and parses every object into classes, which is what the hot listing
// path must avoid.
import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/** kubeflake's version, as package.json says (a unit test keeps the two equal). */
export const KUBEFLAKE_VERSION = '0.1.0';
/** Sent on every request: the API server's audit record tells kubeflake's own requests apart by it. */
export const USER_AGENT = `kubeflake/${KUBEFLAKE_VERSION}`;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequest {
  body?: unknown;
  /** Accept header; JSON when absent. */
  accept?: string;
  /** Content-Type for the body; JSON when absent. */
  contentType?: string;
  signal?: AbortSignal;
  /** Gives up on a request the server does not answer in time. */
  timeoutMs?: number;
}

export interface WatchRequest {
  accept?: string;
  signal: AbortSignal;
  /** Called with each decoded watch event, in order. */
  onEvent(event: unknown): void;
}

/** What src/cluster needs from an API server. */
export interface KubeApi {
  /** The API server's address, recorded in snapshots. */
  readonly server: string;
  /** Sends one request and returns the decoded JSON body. Throws KubeApiError or ApiUnreachableError. */
  request<T = unknown>(method: HttpMethod, path: string, req?: KubeRequest): Promise<T>;
  /** Streams a watch until the server ends it or the signal aborts (then resolves). */
  watch(path: string, req: WatchRequest): Promise<void>;
  /** Releases sockets. */
  close(): void;
}

/** The API server answered with an error status. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly path: string;
  constructor(status: number, reason: string, path: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.path = path;
  }
}

/** The API server could not be reached at all (refused, reset, timed out). */
export class ApiUnreachableError extends Error {
  readonly server: string;
  readonly code: string;
  constructor(server: string, code: string, detail: string) {
    super(`the API server ${server} is unreachable (${code}): ${detail}`);
    this.name = 'ApiUnreachableError';
    this.server = server;
    this.code = code;
  }
}

export function isUnreachable(err: unknown): err is ApiUnreachableError {
  return err instanceof ApiUnreachableError;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export interface KubeConnectOptions {
  /** Context to use instead of the kubeconfig's current one. */
  context?: string;
  /** Sockets kept open for ordinary requests (watches get their own). */
  maxSockets?: number;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Opens a connection to the cluster a kubeconfig file points to. */
export async function connectKube(kubeconfigPath: string, opts: KubeConnectOptions = {}): Promise<KubeApi> {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${kubeconfigPath}: ${(err as Error).message}; pass a valid kubeconfig file`, { cause: err });
  }
  if (opts.context) kc.setCurrentContext(opts.context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new Error(`kubeconfig ${kubeconfigPath} has no current cluster; set current-context or pass a context`);
  }
  return new HttpsKubeApi(kc, cluster.server, cluster.skipTLSVerify, opts.maxSockets ?? 16);
}

class HttpsKubeApi implements KubeApi {
  readonly server: string;
  readonly #kc: KubeConfig;
  readonly #base: URL;
  readonly #skipTLSVerify: boolean;
  readonly #maxSockets: number;
  #tls: Promise<{ agent: http.Agent; watchAgent: http.Agent }> | undefined;
  #headers: { value: Promise<Record<string, string>>; at: number } | undefined;

  constructor(kc: KubeConfig, server: string, skipTLSVerify: boolean, maxSockets: number) {
    this.#kc = kc;
    this.server = server;
    this.#base = new URL(server);
    this.#skipTLSVerify = skipTLSVerify;
    this.#maxSockets = maxSockets;
  }

  // TLS material is read once; client-node reads the files on every call.
  #agents(): Promise<{ agent: http.Agent; watchAgent: http.Agent }> {
    this.#tls ??= (async () => {
      const o: https.RequestOptions = {};
      await this.#kc.applyToHTTPSOptions(o);
      const secure = this.#base.protocol === 'https:';
      const tls = { ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase, rejectUnauthorized: !this.#skipTLSVerify };
      const mk = (maxSockets: number) =>
        secure
          ? new https.Agent({ ...tls, keepAlive: true, maxSockets })
          : new http.Agent({ keepAlive: true, maxSockets });
      return { agent: mk(this.#maxSockets), watchAgent: mk(Infinity) };
    })();
    return this.#tls;
  }

  // Bearer tokens from exec plugins expire: refresh the header now and then.
  #authHeaders(): Promise<Record<string, string>> {
    const now = Date.now();
    if (!this.#headers || now - this.#headers.at > 60_000) {
      const value = (async () => {
        const o: https.RequestOptions = {};
        await this.#kc.applyToHTTPSOptions(o);
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) h[k] = String(v);
        if (o.auth) h['Authorization'] = `Basic ${Buffer.from(o.auth).toString('base64')}`;
        h['User-Agent'] = USER_AGENT;
        return h;
      })();
      this.#headers = { value, at: now };
    }
    return this.#headers.value;
  }

  async #open(
    method: HttpMethod,
    path: string,
    agent: http.Agent,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<http.IncomingMessage> {
    const url = new URL(path, this.#base);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, agent, headers, signal }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.#wrap(err, method, path)));
      if (timeoutMs) {
        req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      }
      req.end(body);
    });
  }

  #wrap(err: NodeJS.ErrnoException, method: string, path: string): Error {
    if (err.name === 'AbortError') return err;
    const code = err.code ?? '';
    if (UNREACHABLE_CODES.has(code) || /socket hang up/.test(err.message)) {
      return new ApiUnreachableError(this.server, code || 'ECONNRESET', `${method} ${path}: ${err.message}`);
    }
    return new Error(`${method} ${path} on ${this.server} failed: ${err.message}`);
  }

  async request<T = unknown>(method: HttpMethod, path: string, req: KubeRequest = {}): Promise<T> {
    const { agent } = await this.#agents();
    const headers: Record<string, string> = { ...(await this.#authHeaders()), Accept: req.accept ?? 'application/json' };
    let body: Buffer | undefined;
    if (req.body !== undefined) {
      body = Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const res = await this.#open(method, path, agent, headers, body, req.signal, req.timeoutMs);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.#wrap(err as NodeJS.ErrnoException, method, path);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiError(status, text, method, path, this.server);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async watch(path: string, req: WatchRequest): Promise<void> {
    const { watchAgent } = await this.#agents();
    const headers = { ...(await this.#authHeaders()), Accept: req.accept ?? 'application/json' };
    let res: http.IncomingMessage;
    try {
      res = await this.#open('GET', path, watchAgent, headers, undefined, req.signal, undefined);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      throw err;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw apiError(status, Buffer.concat(chunks).toString('utf8'), 'GET', path, this.server);
    }
    let pending = '';
    try {
      for await (const chunk of res) {
        pending += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) req.onEvent(JSON.parse(line));
        }
      }
    } catch (err) {
      if (req.signal.aborted || (err as Error).name === 'AbortError') return;
      throw this.#wrap(err as NodeJS.ErrnoException, 'GET', path);
    }
  }

  close(): void {
    void this.#tls?.then(({ agent, watchAgent }) => {
      agent.destroy();
      watchAgent.destroy();
    });
  }
}

function apiError(status: number, text: string, method: string, path: string, server: string): KubeApiError {
  let reason = '';
  let message = text.slice(0, 300);
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    reason = s.reason ?? '';
    message = s.message ?? message;
  } catch {
    // not a Status object: keep the raw text
  }
  return new KubeApiError(status, reason, path, `${method} ${path} on ${server}: ${status} ${reason} ${message}`.replace(/\s+/g, ' ').trim());
}

/** Runs tasks with at most `limit` in flight; stops starting new ones once `shouldStop` says so. */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !shouldStop()) {
      const i = next++;
      await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
