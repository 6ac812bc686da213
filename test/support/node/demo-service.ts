import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A downstream service as its author would write it, for the browser test: a "Sign in" link to
 * the gateway, and a callback that exchanges the login code for a session, server to server.
 */
export interface DemoService {
  url: string;
  redirectUri: string;
  close(): Promise<void>;
}

export async function startDemoService(options: {
  gatewayUrl: string;
  serviceId: string;
  key: () => string;
}): Promise<DemoService> {
  let port = 0;
  const redirectUri = () => `http://localhost:${port}/callback`;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const page = (status: number, body: string) =>
      response
        .writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><title>Demo</title>${body}`);
    if (url.pathname === '/') {
      const login = `${options.gatewayUrl}/login?service=${options.serviceId}&redirect_uri=${encodeURIComponent(redirectUri())}&state=demo`;
      return page(200, `<h1>Demo service</h1><a href="${login}">Sign in</a>`);
    }
    if (url.pathname === '/callback') {
      void fetch(`${options.gatewayUrl}/v1/sessions/exchange`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${options.key()}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: url.searchParams.get('code'), redirect_uri: redirectUri() }),
      })
        .then(async (answer) => {
          const body = (await answer.json()) as {
            user?: { login: string };
            session?: { token: string };
            error?: { code: string };
          };
          if (!answer.ok || !body.user || !body.session)
            return page(502, `<h1>Sign-in failed</h1><p>${body.error?.code}</p>`);
          return page(
            200,
            `<h1>Welcome</h1><p id="who">Signed in as ${body.user.login}</p><p id="session">${body.session.token.slice(0, 4)}</p>`,
          );
        })
        .catch(() => page(502, '<h1>Gateway unreachable</h1>'));
      return;
    }
    page(404, 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    redirectUri: redirectUri(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
