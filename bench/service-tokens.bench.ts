/**
 * Service token cost per internal call, same process: what the gateway pays to sign a call's token and a
 * service to verify it, cached (the hot path: one principal calls again within the minute a token is reused)
 * and not (a principal's first call of the minute), beside an HMAC-SHA256 of the same bytes (what a shared
 * secret would cost). CPU time per operation (user + system), steadier than rates on a shared machine. Run:
 * `npm run bench:tokens`. Prints a markdown table.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { ServicePrincipal } from '@lib/contracts';
import { generateServiceKeys, ServiceTokens } from '@lib/internal-http';
import { report } from './lib/report';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3_000);

function measure(name: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < 200; i++) fn(i); // warm-up
  let n = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < DURATION_MS) {
    for (let j = 0; j < 100; j++) fn(n++);
  }
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / n;
  const perCpuSecond = 1e6 / cpuUs;
  process.stdout.write(
    `| ${name} | ${cpuUs.toFixed(2)} | ${Math.round(perCpuSecond).toLocaleString('en-US')} |\n`,
  );
  report({ scenario: name, unit: 'ops per CPU second', rate: perCpuSecond });
}

const principal = (userId: string): ServicePrincipal => ({
  orgId: '0190c1c4-1111-7222-8333-444455556666',
  orgKey: 'acme',
  userId,
  role: 'admin',
  actor: { type: 'user', id: userId },
  workflowId: null,
});

function main(): void {
  const keys = generateServiceKeys();
  const tokensOf = (app: 'gateway' | 'object-metadata') =>
    ServiceTokens.fromEnv(app, {
      SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys[app],
      SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
    });
  const gateway = tokensOf('gateway');
  const service = tokensOf('object-metadata');
  const user = principal(randomUUID());
  const token = gateway.sign('object-metadata', user);
  const fresh = Array.from({ length: 20_000 }, () => principal(randomUUID()));
  // Signed by another instance, so that the measured gateway has never signed them.
  const other = tokensOf('gateway');
  const unseen = fresh.map((p) => other.sign('object-metadata', p));
  const secret = randomBytes(32);

  process.stdout.write('| operation | CPU µs each | per CPU second |\n|---|---|---|\n');
  measure('sign, the principal signed within the minute (cached)', () =>
    gateway.sign('object-metadata', { ...user }),
  );
  measure('verify, a token seen before (cached)', () => service.verify(token));
  measure('sign, a new principal (Ed25519)', (i) =>
    gateway.sign('object-metadata', fresh[i % fresh.length]),
  );
  // Each token verified once: past the first lap of the list, they come from the cache.
  let i = 0;
  measure('verify, a token not seen before (Ed25519)', () =>
    service.verify(unseen[i++ % unseen.length]),
  );
  measure('HMAC-SHA256 of a token (reference)', () =>
    createHmac('sha256', secret).update(token).digest(),
  );
}

main();
