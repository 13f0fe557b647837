import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'http';

// notes-proxy: started by scripts/start-all-servers.js (pnpm servers) on port 3020, or NOTES_PROXY_PORT.
const NAME = 'notes-proxy';
const PORT = Number(process.env.NOTES_PROXY_PORT || 3020);

type Params = Record<string, string>;
type Handler = (req: IncomingMessage, res: ServerResponse, params: Params, body: unknown) => void | Promise<void>;

interface Route {
  method: string;
  path: string;
  handle: Handler;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) {
    return null;
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return raw.toString('utf8');
  }
}

// Routes are matched in order; `:name` segments become params.
const routes: Route[] = [
  {
    method: 'GET',
    path: '/health',
    handle: (_req, res) => sendJson(res, 200, { status: 'ok', server: NAME, port: PORT, uptime: process.uptime() }),
  },
  {
    method: 'GET',
    path: '/api/notes/:id',
    handle: (_req, res, params, body) => sendJson(res, 200, { endpoint: 'GET /api/notes/:id', params, body }),
  },
];

// The address of an absorbed server: its port variable when set, else its registered port.
function upstream(portVariable: string, registeredPort: number): string {
  return `http://localhost:${process.env[portVariable] ?? registeredPort}`;
}

// Servers this one has absorbed (consolidate-proxies): requests without a route are forwarded to them in order.
const fallbacks: string[] = [
];

function match(pattern: string, pathname: string): Params | null {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) {
    return null;
  }
  const params: Params = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(':')) {
      params[want[i].slice(1)] = decodeURIComponent(got[i]);
    } else if (want[i] !== got[i]) {
      return null;
    }
  }
  return params;
}

function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, targets: string[]): void {
  const [first, ...rest] = targets;
  if (!first) {
    sendJson(res, 404, { error: 'not found', path: req.url });
    return;
  }
  const proxied = httpRequest(new URL(req.url ?? '/', first), { method: req.method, headers: req.headers }, (up) => {
    if (up.statusCode === 404 && rest.length > 0) {
      up.resume();
      forward(req, res, body, rest);
      return;
    }
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  proxied.on('error', () => (rest.length > 0 ? forward(req, res, body, rest) : sendJson(res, 502, { error: 'bad gateway' })));
  proxied.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://localhost:${PORT}`);
  const raw = await readBody(req);
  for (const route of routes) {
    if (route.method !== req.method) {
      continue;
    }
    const params = match(route.path, url.pathname);
    if (params) {
      await route.handle(req, res, params, parseJson(raw));
      return;
    }
  }
  forward(req, res, raw, fallbacks);
}

createServer((req, res) => {
  handle(req, res).catch((error: unknown) => sendJson(res, 500, { error: String(error) }));
}).listen(PORT, () => {
  console.log(`${NAME} listening on http://localhost:${PORT}`);
});
