import { createHmac } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

// Slack, as far as Cairn meets it, for tests: requests signed as Slack signs
// them (with the test's signing secret), and an HTTP server that stands in
// for Slack's response URLs and incoming webhooks and keeps what Cairn posts.

/** The headers Slack sends with body, signed with secret at the time given. */
export function slackHeaders(
  secret: string,
  body: string,
  at = new Date(),
): Record<string, string> {
  const stamp = String(Math.floor(at.getTime() / 1000));
  const signature = createHmac('sha256', secret)
    .update(`v0:${stamp}:${body}`)
    .digest('hex');
  return {
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': stamp,
    'X-Slack-Signature': `v0=${signature}`,
  };
}

/** A Block Kit message Cairn posted, with the path it was posted to. */
export type SlackMessage = { path: string; body: any };

export type SlackStandIn = {
  /** The server's URL, without a trailing slash. */
  url: string;
  /** The next message posted to a path starting with prefix (30 s). */
  next(prefix: string): Promise<SlackMessage>;
  /** Every message posted so far. */
  posted: SlackMessage[];
  stop(): Promise<void>;
};

export async function startSlackStandIn(): Promise<SlackStandIn> {
  const posted: SlackMessage[] = [];
  const taken = new Set<SlackMessage>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', chunk => (body += chunk));
    req.on('end', () => {
      try {
        posted.push({ path: req.url ?? '', body: JSON.parse(body) });
        res.writeHead(200).end('ok');
      } catch {
        res.writeHead(400).end('not JSON');
      }
    });
  });
  await new Promise<void>(resolve =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posted,
    async next(prefix) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const found = posted.find(
          m => !taken.has(m) && m.path.startsWith(prefix),
        );
        if (found) {
          taken.add(found);
          return found;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `nothing was posted to ${prefix} in 30 s; posted: ${JSON.stringify(posted)}`,
          );
        }
        await new Promise(r => setTimeout(r, 100));
      }
    },
    stop: () => new Promise(resolve => server.close(() => resolve())),
  };
}

/** Every text of a Block Kit message's blocks, joined by newlines. */
export function blockText(message: any): string {
  return (message.blocks ?? [])
    .map((b: any) => b.text?.text)
    .filter(Boolean)
    .join('\n');
}

/** A message's buttons, as [action_id, value]. */
export function buttons(message: any): Array<[string, string]> {
  return (message.blocks ?? []).flatMap((b: any) =>
    (b.elements ?? []).map((e: any) => [e.action_id, e.value ?? '']),
  );
}
