#!/usr/bin/env node
// Starts every API server of the monorepo. SERVERS is the port registry: API servers use 3000-3099.
// A new server goes into this array and into the table in CLAUDE.md.
const { spawn } = require('child_process');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

const SERVERS = [
  { name: 'md-server', script: 'scripts/cli-pipeline/viewers/md-server.ts', port: 3001, health: '/health' },
  { name: 'notes-proxy', script: 'scripts/cli-pipeline/proxies/notes-proxy-server.ts', port: 3020, health: '/health' },
];

function envName(name) {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_') + '_PORT';
}

function start(server) {
  const script = path.join(ROOT, server.script);
  const [command, args] = script.endsWith('.ts') ? ['npx', ['tsx', script]] : ['node', [script]];
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, [envName(server.name)]: String(server.port) },
  });
  child.on('exit', (code) => console.log(`${server.name} (port ${server.port}) exited with ${code}`));
  return child;
}

const only = process.argv.slice(2);
const children = SERVERS.filter((s) => only.length === 0 || only.includes(s.name)).map(start);
process.on('SIGINT', () => children.forEach((c) => c.kill('SIGINT')));
