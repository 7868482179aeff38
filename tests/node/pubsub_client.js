// node-redis v4 (the npm `redis` package, vendored in node_modules) against a server on argv[2]:
// channel and pattern subscriptions, PUBLISH, and the subscriber's reconnection (with its subscriptions
// restored by the library) after CLIENT KILL.  Prints "ok" and exits 0, or prints why and exits 1.
'use strict';
const { createClient } = require('redis');

const port = Number(process.argv[2]);
const url = `redis://127.0.0.1:${port}`;
const received = [];
let waiters = [];

function fail(why) {
  console.log(`FAIL ${why}`);
  process.exit(1);
}

function note(kind, channel, message) {
  received.push(`${kind} ${channel} ${message}`);
  waiters = waiters.filter((w) => !w());
}

function until(pred, what, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(received)}`)), ms);
    const check = () => {
      if (pred()) {
        clearTimeout(timer);
        resolve();
        return true;
      }
      return false;
    };
    if (!check()) waiters.push(check);
  });
}

async function poll(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main() {
  const pub = createClient({ url });
  const sub = createClient({ url, socket: { reconnectStrategy: () => 50 } });
  pub.on('error', (e) => fail(`publisher error ${e}`));
  let reconnects = 0;
  sub.on('error', () => {});            // the kill below is expected
  sub.on('reconnecting', () => { reconnects++; });
  await pub.connect();
  await sub.connect();

  const firstId = await sub.clientId();
  await sub.subscribe(['news', 'sport'], (message, channel) => note('message', channel, message));
  await sub.pSubscribe('user:*', (message, channel) => note('pmessage', channel, message));

  if (await pub.publish('news', 'hello') !== 1) fail('PUBLISH news did not reach one subscriber');
  if (await pub.publish('user:42', 'pattern') !== 1) fail('PUBLISH user:42 did not reach the pattern');
  if (await pub.publish('nobody', 'x') !== 0) fail('PUBLISH nobody reached someone');
  await until(() => received.length === 2, 'two messages');
  if (received[0] !== 'message news hello' || received[1] !== 'pmessage user:42 pattern')
    fail(`unexpected messages ${JSON.stringify(received)}`);

  const numsub = await pub.pubSubNumSub(['news', 'sport', 'none']);
  if (numsub.news !== 1 || numsub.sport !== 1 || numsub.none !== 0) fail(`PUBSUB NUMSUB ${JSON.stringify(numsub)}`);
  if (await pub.pubSubNumPat() !== 1) fail('PUBSUB NUMPAT');

  // the server drops the subscriber; the library reconnects and subscribes again
  const killed = await pub.sendCommand(['CLIENT', 'KILL', 'ID', String(firstId)]);
  if (killed !== 1) fail(`CLIENT KILL ID answered ${killed}`);
  await poll(async () => {
    const n = await pub.pubSubNumSub(['news']);
    return reconnects > 0 && n.news === 1 && (await pub.pubSubNumPat()) === 1;
  }, 'the subscriber to come back');
  if (await pub.publish('sport', 'again') !== 1) fail('PUBLISH after the reconnection');
  if (await pub.publish('user:7', 'again') !== 1) fail('PUBLISH to the pattern after the reconnection');
  await until(() => received.length === 4, 'messages after the reconnection');
  if (received[2] !== 'message sport again' || received[3] !== 'pmessage user:7 again')
    fail(`unexpected messages ${JSON.stringify(received)}`);

  await sub.unsubscribe('news');
  if (await pub.publish('news', 'gone') !== 0) fail('PUBLISH after UNSUBSCRIBE reached someone');
  await sub.pUnsubscribe('user:*');
  await sub.unsubscribe('sport');
  if (await sub.ping() !== 'PONG') fail('PING after leaving subscriber mode');
  await sub.quit();
  await pub.quit();
  console.log('ok');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
