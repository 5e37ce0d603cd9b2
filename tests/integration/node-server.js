// SPDX-License-Identifier: LGPL-2.1-or-later
// A small node http server for the integration tests: node reads requests
// with read() and answers with writev()/write(); /chunked streams a chunked
// body; /slow sends its body 0.6 s after its head. Every finished response appends one JSON line to the access log
// (argv[3]) with the server's own view: pid, method, url, status, version,
// body bytes written and its own duration.
'use strict';
const http = require('http');
const fs = require('fs');

const port = Number(process.argv[2]);
const logPath = process.argv[3];

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  let reqBody = 0;
  let resBody = 0;
  const write = (chunk) => { resBody += Buffer.byteLength(chunk); res.write(chunk); };
  const end = (chunk) => { if (chunk !== undefined) resBody += Buffer.byteLength(chunk); res.end(chunk); };
  res.on('finish', () => {
    const usec = Number((process.hrtime.bigint() - t0) / 1000n);
    fs.appendFileSync(logPath, JSON.stringify({
      pid: process.pid, method: req.method, uri: req.url, status: res.statusCode,
      version: req.httpVersion, req_body_bytes: reqBody, body_bytes: resBody,
      usec: usec, remote_port: req.socket.remotePort,
    }) + '\n');
  });
  req.on('data', (d) => { reqBody += d.length; });
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (path === '/chunked') {
      // No Content-Length: node uses Transfer-Encoding: chunked.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      let i = 0;
      const tick = () => {
        if (i < 5) { write(`chunk ${i} `.repeat(100) + '\n'); i++; setImmediate(tick); }
        else end();
      };
      tick();
    } else if (path === '/slow') {
      // The head at once, the body 0.6 s later: a duration that a wrong
      // HTTP_DURATION_USEC (0, doubled) cannot hide in the tests' slack.
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5 });
      setTimeout(() => end('slow\n'), 600);
    } else if (path === '/json') {
      const body = JSON.stringify({ hello: 'world', n: 42 });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      end(body);
    } else if (path === '/echo' && req.method === 'POST') {
      const body = `received ${reqBody} bytes\n`;
      res.writeHead(201, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      end(body);
    } else if (path === '/error') {
      res.writeHead(503, { 'Content-Length': 0 });
      end();
    } else {
      const body = 'not found\n';
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      end(body);
    }
  });
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0); });
