#!/usr/bin/env node
// A well-behaved HTTP server on 127.0.0.1: on SIGTERM or SIGINT it stops
// accepting, lets requests in flight finish, then exits 0. SIGHUP "reloads"
// (and survives). Passes every `tini-ts check` scenario.
import http from 'node:http';
import fs from 'node:fs';

const server = http.createServer((req, res) => {
  setTimeout(() => res.end('ok\n'), 50); // a request takes a while
});
server.listen(0, '127.0.0.1', () => {
  if (process.env.READY_FILE) fs.writeFileSync(process.env.READY_FILE, String(server.address().port));
});

let stopping = false;
function drain(sig) {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0)); // waits for connections in flight
  server.closeIdleConnections();
  setTimeout(() => process.exit(1), 5000).unref();
  void sig;
}
process.on('SIGTERM', drain);
process.on('SIGINT', drain);
process.on('SIGHUP', () => {}); // reload: nothing to reload here
