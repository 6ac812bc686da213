// Benchmark Worker: the client library's verifyAssertion run n times in a row inside workerd,
// against an assertion the gateway signed and the gateway's key set, fetched once and then kept
// by the client as a service's Worker would keep it. The bench times each batch (bench/offline-verify.ts).
import { createGatewayClient, type GatewayClient } from '../../client/src/index.ts';

interface BatchRequest {
  gatewayUrl: string;
  serviceId: string;
  assertion: string;
  n: number;
}

/** One client per gateway, kept by the isolate: its key set is fetched by the first verify only. */
const clients = new Map<string, GatewayClient>();
let keySetFetches = 0;

function clientFor(gatewayUrl: string, serviceId: string): GatewayClient {
  const id = `${gatewayUrl} ${serviceId}`;
  let client = clients.get(id);
  if (client === undefined) {
    client = createGatewayClient({
      gatewayUrl,
      serviceId,
      // Never sent: verifyAssertion without a session makes no call but the key set's.
      key: 'gwk_bench_unused',
      fetch: (input, init) => {
        keySetFetches += 1;
        return fetch(input, init);
      },
    });
    clients.set(id, client);
  }
  return client;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const { gatewayUrl, serviceId, assertion, n } = (await request.json()) as BatchRequest;
    const client = clientFor(gatewayUrl, serviceId);
    let verified = 0;
    let refusal: string | null = null;
    // performance.now() inside workerd moves only between I/O (a Spectre mitigation), so this
    // interval is reported for what it shows; the bench times the whole batch from outside too.
    const started = performance.now();
    for (let index = 0; index < n; index += 1) {
      const verdict = await client.verifyAssertion(assertion);
      if (verdict.valid) verified += 1;
      else refusal = verdict.code;
    }
    const insideMs = performance.now() - started;
    return Response.json({ n, verified, refusal, insideMs, keySetFetches });
  },
};
