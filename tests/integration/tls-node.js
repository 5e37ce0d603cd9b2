// SPDX-License-Identifier: LGPL-2.1-or-later
// test-tls-node's HTTPS server and client (node's https, OpenSSL linked into node).
//   node tls-node.js server PORT KEY CERT LOG   on SERVER_ADDR; one JSON line per request in LOG
//   node tls-node.js client PORT CONNS ROUNDS   from CLIENT_ADDR, CONNS keep-alive connections at once, each
//                                               making the plan ROUNDS times; prints one
//                                               JSON line per request (method, path, status, port)
'use strict';
const https = require('https');
const fs = require('fs');
const [mode, portArg] = process.argv.slice(2);
const port = +portArg;
// Loopback addresses of their own, so that a kernel address filter keeps other traffic out.
const SERVER_ADDR = '127.0.0.7';
const CLIENT_ADDR = '127.0.0.8';

if (mode === 'server') {
  const [key, cert, logPath] = process.argv.slice(4);
  const log = fs.openSync(logPath, 'a');
  const big = Buffer.alloc(65536, 97);
  https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    let n = 0;
    req.on('data', (d) => { n += d.length; });
    req.on('end', () => {
      let status = 200;
      let body = Buffer.from('ok\n');
      if (req.url.startsWith('/big')) body = big;
      else if (req.url.startsWith('/missing')) { status = 404; body = Buffer.from('not found\n'); }
      const head = req.method === 'HEAD';
      res.writeHead(status, { 'Content-Length': body.length });
      res.end(head ? undefined : body);
      fs.writeSync(log, JSON.stringify({ method: req.method, path: req.url, status, resp: head ? 0 : body.length,
                                         req: n, port: req.socket.remotePort }) + '\n');
    });
  }).listen(port, SERVER_ADDR);
} else {
  const conns = +process.argv[4];
  const rounds = +process.argv[5];
  const plan = [['GET', '/ok'], ['GET', '/missing'], ['POST', '/post', 'x'.repeat(3000)], ['GET', '/big'], ['HEAD', '/ok']];
  const one = (agent, c, r, [method, path, body]) => new Promise((resolve, reject) => {
    const q = https.request({ host: SERVER_ADDR, localAddress: CLIENT_ADDR, port, method, path: `${path}?c=${c}&r=${r}`, agent,
                              rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => {
        console.log(JSON.stringify({ method, path: `${path}?c=${c}&r=${r}`, status: res.statusCode,
                                     port: q.socket.localPort }));
        resolve();
      });
    });
    q.on('error', reject);
    if (body) q.write(body);
    q.end();
  });
  const conn = async (c) => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    for (let r = 0; r < rounds; r++)
      for (const p of plan) await one(agent, c, r, p);
    agent.destroy();
  };
  Promise.all([...Array(conns).keys()].map(conn)).catch((e) => { console.error(e); process.exit(1); });
}
