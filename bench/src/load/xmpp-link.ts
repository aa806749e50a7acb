/**
 * A minimal XMPP client over a plain TCP socket, just enough to drive ejabberd the way a chat
 * app does: in-band registration (XEP-0077), SASL PLAIN without TLS, resource binding, stream
 * management (XEP-0198, wait for <enabled/>), initial presence, 1:1 <message type='chat'>.
 *
 * Why not @xmpp/client: its stanza parsing and middleware cost several times more CPU per
 * message than this scanner; on a 2-core machine shared with the server the driver would be
 * the bottleneck. The scanner relies on what ejabberd sends (well-formed, one level of stanza
 * nesting, no '>' inside attribute values); it is a benchmark driver, not a general parser.
 */
import { connect, type Socket } from 'node:net';
import { withTimeout } from '../common/pigeon-link.js';

export const XMPP_DOMAIN = 'localhost';
const NS_SM = 'urn:xmpp:sm:3';
const STREAM_OPEN = `<?xml version='1.0'?><stream:stream to='${XMPP_DOMAIN}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

interface Element {
  readonly name: string;
  readonly xml: string;
}

export class XmppLink {
  private buffer = '';
  private waiters: { match: (e: Element) => boolean; resolve: (e: Element) => void }[] = [];
  /** Stanzas received since <enabled/> (the XEP-0198 'h' we report). */
  private handled = 0;
  private smEnabled = false;
  /** Stanzas we sent since enabling (compared to the server's 'h' in flush). */
  private sentStanzas = 0;
  private closed = false;
  onDeliver: (body: string) => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  static async open(host: string, port: number, localAddress: string): Promise<XmppLink> {
    const socket = connect({ host, port, localAddress });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      }),
      'xmpp connect',
    );
    return new XmppLink(socket);
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  get open(): boolean {
    return !this.closed;
  }

  /** XEP-0077 in-band registration on a fresh, unauthenticated stream. */
  async register(user: string, password: string): Promise<void> {
    this.write(STREAM_OPEN);
    await this.expect((e) => e.name === 'stream:features', 'features');
    this.write(`<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>${user}</username><password>${password}</password></query></iq>`);
    const reply = await this.expect((e) => e.name === 'iq' && e.xml.includes("id='reg'"), 'register');
    if (!reply.xml.includes("type='result'")) throw new Error(`xmpp register refused: ${reply.xml.slice(0, 200)}`);
  }

  /** PLAIN login, bind, stream management enabled, initial presence (which releases offline mail). */
  async login(user: string, password: string, resource: string): Promise<void> {
    this.write(STREAM_OPEN);
    await this.expect((e) => e.name === 'stream:features', 'features');
    const token = Buffer.from(`\0${user}\0${password}`).toString('base64');
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${token}</auth>`);
    const auth = await this.expect((e) => e.name === 'success' || e.name === 'failure', 'auth');
    if (auth.name !== 'success') throw new Error(`xmpp auth failed: ${auth.xml.slice(0, 200)}`);
    this.write(STREAM_OPEN);
    await this.expect((e) => e.name === 'stream:features', 'features after auth');
    this.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    const bind = await this.expect((e) => e.name === 'iq' && e.xml.includes("id='bind'"), 'bind');
    if (!bind.xml.includes("type='result'")) throw new Error(`xmpp bind failed: ${bind.xml.slice(0, 200)}`);
    this.write(`<enable xmlns='${NS_SM}'/>`);
    const enabled = await this.expect((e) => e.name === 'enabled' || e.name === 'failed', 'sm enable');
    if (enabled.name !== 'enabled') throw new Error(`xmpp stream management refused: ${enabled.xml.slice(0, 200)}`);
    this.smEnabled = true;
    this.stanza('<presence/>');
  }

  /** A 1:1 chat message to a bare JID. */
  sendChat(to: string, id: string, body: string): void {
    this.stanza(`<message to='${to}@${XMPP_DOMAIN}' type='chat' id='${id}'><body>${body}</body></message>`);
  }

  /** Resolves when the server has handled every stanza sent so far (XEP-0198 <r/> -> <a h/>). */
  async flush(timeoutMs: number): Promise<boolean> {
    const target = this.sentStanzas;
    this.write(`<r xmlns='${NS_SM}'/>`);
    try {
      await withTimeout(
        this.expect((e) => e.name === 'a' && Number(/h='(\d+)'/.exec(e.xml)?.[1] ?? -1) >= target, 'sm ack', timeoutMs),
        'flush',
        timeoutMs,
      );
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 2000);
      timer.unref();
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end('</stream:stream>');
    });
  }

  private stanza(xml: string): void {
    if (this.smEnabled) this.sentStanzas++;
    this.write(xml);
  }

  private write(text: string): void {
    if (!this.closed) this.socket.write(text);
  }

  private expect(match: (e: Element) => boolean, what: string, ms?: number): Promise<Element> {
    return withTimeout(new Promise<Element>((resolve) => this.waiters.push({ match, resolve })), `xmpp ${what}`, ms);
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let pos = 0;
    const buf = this.buffer;
    for (;;) {
      const start = buf.indexOf('<', pos);
      if (start < 0) {
        pos = buf.length;
        break;
      }
      if (buf.startsWith('<?', start)) {
        const end = buf.indexOf('?>', start);
        if (end < 0) break;
        pos = end + 2;
        continue;
      }
      if (buf.startsWith('<stream:stream', start)) {
        const end = buf.indexOf('>', start);
        if (end < 0) break;
        pos = end + 1;
        continue;
      }
      if (buf.startsWith('</stream:stream>', start)) {
        pos = start + 16;
        continue;
      }
      const tagEnd = buf.indexOf('>', start);
      if (tagEnd < 0) break;
      const nameMatch = /^<([A-Za-z0-9:_-]+)/.exec(buf.slice(start, Math.min(tagEnd + 1, start + 64)));
      if (nameMatch === null) {
        pos = tagEnd + 1;
        continue;
      }
      const name = nameMatch[1]!;
      let end: number;
      if (buf[tagEnd - 1] === '/') end = tagEnd + 1;
      else {
        const close = buf.indexOf(`</${name}>`, tagEnd);
        if (close < 0) break;
        end = close + name.length + 3;
      }
      this.element({ name, xml: buf.slice(start, end) });
      pos = end;
    }
    this.buffer = buf.slice(pos);
  }

  private element(e: Element): void {
    switch (e.name) {
      case 'message': {
        if (this.smEnabled) this.handled++;
        const m = /<body>([^<]*)<\/body>/.exec(e.xml);
        if (m) this.onDeliver(m[1]!);
        return;
      }
      case 'presence':
      case 'iq':
        if (this.smEnabled) this.handled++;
        break;
      case 'r':
        // The recipient's ack: everything received so far is handled.
        this.write(`<a xmlns='${NS_SM}' h='${this.handled}'/>`);
        return;
    }
    const i = this.waiters.findIndex((w) => w.match(e));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(e);
    }
  }
}
