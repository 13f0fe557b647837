import { createServer, type IncomingMessage, type ServerResponse } from 'http';
import { readFile } from 'fs/promises';
import path from 'path';

const PORT = Number(process.env.MD_SERVER_PORT || 3001);
const DOCS_ROOT = path.resolve(__dirname, '../../../docs');

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Access-Control-Allow-Origin': '*' });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://localhost:${PORT}`);
  if (url.pathname === '/health') {
    send(res, 200, JSON.stringify({ status: 'ok', server: 'md-server' }), 'application/json');
    return;
  }
  if (url.pathname === '/api/markdown-file') {
    const requested = path.resolve(DOCS_ROOT, url.searchParams.get('path') ?? '');
    if (!requested.startsWith(DOCS_ROOT + path.sep)) {
      send(res, 400, 'path must stay inside docs/');
      return;
    }
    try {
      send(res, 200, await readFile(requested, 'utf8'), 'text/markdown; charset=utf-8');
    } catch {
      send(res, 404, 'not found');
    }
    return;
  }
  send(res, 404, 'not found');
}

createServer((req, res) => {
  handle(req, res).catch((error: unknown) => send(res, 500, String(error)));
}).listen(PORT, () => {
  console.log(`md-server listening on http://localhost:${PORT}`);
});
