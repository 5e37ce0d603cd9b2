// SPDX-License-Identifier: LGPL-2.1-or-later
// test-http2-node's HTTP/2 server and client (node's http2 module, cleartext, prior knowledge).
//   node http2-node.js server PORT LOG        on SERVER_ADDR; one JSON line per stream in LOG, written
//                                             when its response is handed to node
//   node http2-node.js client PORT WAVES N    from CLIENT_ADDR, one session; WAVES times, N streams at
//                                             once (GET, 404, POST with a body, 2 KiB GET, 64 KiB GET
//                                             in turn),
//                                             the next wave when all have ended; one JSON line per stream
// node answers many streams of one session in one writev() of many iovecs (61 for 20 streams):
// the case the kernel's iovec walk (HT_IOV_CAP) must cover whole.
'use strict';
const http2 = require('http2');
const net = require('net');
const fs = require('fs');
const [mode, portArg] = process.argv.slice(2);
const port = +portArg;
// Loopback addresses of their own, so that a kernel address filter keeps other traffic out.
const SERVER_ADDR = '127.0.0.15';
const CLIENT_ADDR = '127.0.0.16';
const POST_BYTES = 3000;
const BIG_BYTES = 2048;
const HUGE_BYTES = 65536;   // read by the client in reads of many frames

if (mode === 'server') {
  const log = fs.openSync(process.argv[4], 'a');
  const big = Buffer.alloc(BIG_BYTES, 98);
  const huge = Buffer.alloc(HUGE_BYTES, 104);
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const method = headers[':method'];
    const path = headers[':path'];
    let n = 0;
    stream.on('data', (d) => { n += d.length; });
    stream.on('end', () => {
      let status = 200;
      let body = Buffer.from('ok\n');
      if (path.startsWith('/big')) body = big;
      else if (path.startsWith('/huge')) body = huge;
      else if (path.startsWith('/missing')) { status = 404; body = Buffer.from('not found\n'); }
      else if (method === 'POST') body = Buffer.from(`got ${n}\n`);
      stream.respond({ ':status': status, 'content-length': body.length });
      stream.end(body);
      fs.writeSync(log, JSON.stringify({ id: stream.id, method, path, status, resp: body.length, req: n,
                                         port: stream.session.socket.remotePort }) + '\n');
    });
  });
  server.listen(port, SERVER_ADDR);
} else {
  const waves = +process.argv[4];
  const n = +process.argv[5];
  const plan = [['GET', '/ok'], ['GET', '/missing'], ['POST', '/post', 'x'.repeat(POST_BYTES)], ['GET', '/big'], ['GET', '/huge']];
  const session = http2.connect(`http://${SERVER_ADDR}:${port}`, {
    createConnection: () => net.connect({ host: SERVER_ADDR, port, localAddress: CLIENT_ADDR }),
  });
  session.on('error', (e) => { console.error(e); process.exit(1); });
  const one = (w, i) => new Promise((resolve, reject) => {
    const [method, path, body] = plan[i % plan.length];
    const target = `${path}?w=${w}&i=${i}`;
    const req = session.request({ ':method': method, ':path': target }, { endStream: !body });
    let status = 0;
    let got = 0;
    req.on('response', (h) => { status = h[':status']; });
    req.on('data', (d) => { got += d.length; });
    req.on('end', () => {
      console.log(JSON.stringify({ id: req.id, method, path: target, status, resp: got,
                                   port: session.socket.localPort }));
      resolve();
    });
    req.on('error', reject);
    if (body) req.end(body);
  });
  (async () => {
    for (let w = 0; w < waves; w++)
      await Promise.all([...Array(n).keys()].map((i) => one(w, i)));
    session.close();
  })().catch((e) => { console.error(e); process.exit(1); });
}
