import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { prepareTemplateDatabase } from './postgres';
import { REPO_ROOT } from './repo-root';

/**
 * Jest global setup of the integration and e2e suites: the Kafka and S3Proxy class paths resolved (a no-op
 * once they are) and the template database migrated, once per run. Postgres and Redis must already answer
 * (scripts/ensure-infra.sh).
 */
export default async function globalSetup(): Promise<void> {
  execFileSync('bash', [join(REPO_ROOT, 'scripts', 'fetch-servers.sh')], { stdio: 'inherit' });
  await prepareTemplateDatabase();
}
