import 'reflect-metadata';
import type { Role } from '@lib/auth';
import { InvalidEnvironmentError } from '@lib/config';
import { DEFAULT_MIGRATION_TIMEOUTS, migrateAll, migrationStatus } from '@lib/database';
import { OrgQuotaParams } from '@lib/contracts';
import { DomainException } from '@lib/errors';
import { generateServiceKeys, SERVICE_NAMES } from '@lib/internal-http';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { Command, InvalidArgumentError } from 'commander';
import { runBucketCors } from './bucket-cors';
import { CliError, databaseFromEnv, millisecondsFromEnv } from './cli-env';
import { ensureDemo } from './demo';
import { withIdentity } from './identity-context';
import { runKafkaTopics } from './kafka-topics';
import { migrationSources } from './migration-sources';
import { withQuotas } from './quotas';
import { runRebuildUsage } from './rebuild-usage';
import { runSweepOrphans, SweepRefusedError } from './sweep-orphans';
import {
  ApiKeyResponseDto,
  CREDENTIAL_CACHE_TTL_MS,
  CreateApiKeyDto,
  CreateOrgDto,
  CreatePrivateKeyDto,
  CreateUserDto,
  CreatedApiKeyResponseDto,
  OrgDetailsResponseDto,
  OrgResponseDto,
  TokenResponseDto,
  UserResponseDto,
} from './gateway';

// Admin CLI: `npm run cli -- <command>`. Results go to stdout as JSON; messages and errors to stderr.

function out(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Checks CLI input with the admin endpoints' DTOs, so both reject the same things the same way. */
function validated<T extends object>(dto: new () => T, input: Record<string, unknown>): T {
  const instance = plainToInstance(dto, input);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new CliError(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; '));
  }
  return instance;
}

function warnNoBroadcast(what: string): void {
  note(
    `warning: REDIS_URL is not set, so running gateways were not told; they may accept ${what} ` +
      `for up to ${CREDENTIAL_CACHE_TTL_MS / 1000} s more (their credential cache TTL)`,
  );
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('must be a whole number, 0 or more');
  }
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer (seconds)');
  }
  return n;
}

/** A quota limit as given: a whole number, or `unlimited` (null). */
function quotaLimit(value: string, option: string): number | null {
  if (value === 'unlimited') return null;
  if (!/^\d+$/.test(value)) throw new CliError(`${option} must be a whole number or 'unlimited'`);
  return Number(value);
}

function capabilityList(value: string): string[] {
  return value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
}

const program = new Command('cli')
  .description(
    'Admin CLI of the storage & flows platform (reads DATABASE_URL, JWT_SECRET, REDIS_URL)',
  )
  .showHelpAfterError()
  .configureOutput({ writeOut: (s) => process.stderr.write(s) });

program
  .command('migrate')
  .description(
    "run every service schema's pending migrations (MIGRATION_STATEMENT_TIMEOUT_MS, default none; " +
      'MIGRATION_LOCK_TIMEOUT_MS, default 10000), or with --status list what each schema lacks',
  )
  .option('--status', 'apply nothing: print each schema’s applied count and pending migrations')
  .action(async (options: { status?: boolean }) => {
    const database = databaseFromEnv('to migrate');
    const sources = migrationSources.map((source) => ({ ...source, ...database }));
    if (options.status) {
      const status = await migrationStatus(sources);
      const pending = status.reduce((n, s) => n + s.pending.length, 0);
      note(pending ? `${pending} migration(s) pending` : 'every schema is current');
      out(status);
      return;
    }
    const applied = await migrateAll(sources, {
      statementTimeoutMs: millisecondsFromEnv(
        'MIGRATION_STATEMENT_TIMEOUT_MS',
        DEFAULT_MIGRATION_TIMEOUTS.statementTimeoutMs,
      ),
      lockTimeoutMs: millisecondsFromEnv(
        'MIGRATION_LOCK_TIMEOUT_MS',
        DEFAULT_MIGRATION_TIMEOUTS.lockTimeoutMs,
      ),
    });
    note(applied.length ? `applied ${applied.length} migration(s)` : 'nothing to migrate');
    out({ applied });
  });

program
  .command('kafka-topics')
  .description(
    "create the platform's missing Kafka topics; existing ones are left as they are (reads KAFKA_BROKERS, " +
      'KAFKA_SSL*, KAFKA_SASL*, KAFKA_TOPIC_PARTITIONS, KAFKA_TOPIC_REPLICATION_FACTOR, ' +
      'KAFKA_TOPIC_MIN_INSYNC_REPLICAS)',
  )
  .action(async () => {
    const topics = await runKafkaTopics();
    for (const t of topics) note(`${t.topic}: ${t.outcome} (${t.partitions} partitions)`);
    out(topics);
  });

program
  .command('bucket-cors')
  .description(
    'give the bucket the CORS rule that lets pages of CORS_ALLOWED_ORIGINS PUT to upload URLs and GET ' +
      'download URLs (PutBucketCors; set empty: DeleteBucketCors); reads S3_* and CORS_ALLOWED_ORIGINS',
  )
  .action(async () => {
    const result = await runBucketCors();
    note(
      result.outcome === 'set'
        ? `bucket ${result.bucket}: CORS for ${result.origins.join(', ')}`
        : `bucket ${result.bucket}: CORS rules removed`,
    );
    out(result);
  });

const org = program.command('org').description('organizations');
org
  .command('create')
  .description('create an org')
  .requiredOption('--key <key>', 'stable slug, e.g. acme')
  .requiredOption('--name <name>', 'display name')
  .option('--capabilities <list>', 'comma-separated, default "objects"', capabilityList)
  .action(async (opts: { key: string; name: string; capabilities?: string[] }) => {
    const input = validated(CreateOrgDto, opts);
    out(
      await withIdentity(async ({ identity }) =>
        OrgResponseDto.from(await identity.createOrg(input)),
      ),
    );
  });
org
  .command('list')
  .description('list orgs')
  .action(async () => {
    out(
      await withIdentity(async ({ identity }) =>
        (await identity.listOrgs()).map((o) => OrgResponseDto.from(o)),
      ),
    );
  });
org
  .command('show <org>')
  .description('an org (key or id) with its users and keys')
  .action(async (orgRef: string) => {
    out(
      await withIdentity(async ({ identity }) => {
        const found = await identity.findOrg(orgRef);
        return OrgDetailsResponseDto.fromDetails(await identity.getOrgDetails(found.id));
      }),
    );
  });

const quota = program.command('quota').description("orgs' storage quotas (bytes and files)");
quota
  .command('show <org>')
  .description("an org's (key or id) storage quota and what counts against it now")
  .action(async (orgRef: string) => {
    const found = await withIdentity(({ identity }) => identity.findOrg(orgRef));
    out({ orgId: found.id, ...(await withQuotas((quotas) => quotas.view(found.id))) });
  });
quota
  .command('set')
  .description(
    "set an org's storage quota: writes past it are refused (403 QUOTA_EXCEEDED); what is stored stays",
  )
  .requiredOption('--org <org>', 'org key or id')
  .requiredOption('--max-bytes <n>', "most bytes, or 'unlimited'")
  .requiredOption('--max-files <n>', "most files, or 'unlimited'")
  .action(async (opts: { org: string; maxBytes: string; maxFiles: string }) => {
    const limits = validated(OrgQuotaParams, {
      maxBytes: quotaLimit(opts.maxBytes, '--max-bytes'),
      maxFiles: quotaLimit(opts.maxFiles, '--max-files'),
    });
    const found = await withIdentity(({ identity }) => identity.findOrg(opts.org));
    out({ orgId: found.id, ...(await withQuotas((quotas) => quotas.setLimits(found.id, limits))) });
  });

const user = program.command('user').description('users');
user
  .command('create')
  .description('add a user to an org')
  .requiredOption('--org <org>', 'org key or id')
  .requiredOption('--email <email>', 'unique within the org')
  .requiredOption('--role <role>', 'admin or member')
  .action(async (opts: { org: string; email: string; role: Role }) => {
    const input = validated(CreateUserDto, { email: opts.email, role: opts.role });
    out(
      await withIdentity(async ({ identity }) => {
        const found = await identity.findOrg(opts.org);
        return UserResponseDto.from(await identity.createUser(found.id, input));
      }),
    );
  });

user
  .command('delete')
  .description('delete a user and their API keys (their JWTs stop working at once)')
  .requiredOption('--org <org>', 'org key or id')
  .requiredOption('--user <user>', 'user id or email')
  .action(async (opts: { org: string; user: string }) => {
    out(
      await withIdentity(async ({ identity, broadcasts }) => {
        const found = await identity.findOrg(opts.org);
        const target = await identity.findUser(found.id, opts.user);
        await identity.deleteUser(found.id, target.id);
        if (!broadcasts) warnNoBroadcast('their credentials');
        return { deleted: UserResponseDto.from(target) };
      }),
    );
  });

const apiKey = program.command('api-key').description('bearer API keys');
apiKey
  .command('create')
  .description('create a bearer API key (the secret is printed once)')
  .requiredOption('--org <org>', 'org key or id')
  .requiredOption('--name <name>', 'what the key is for')
  .option('--user <user>', 'user id or email the key acts as (default: org-wide)')
  .action(async (opts: { org: string; name: string; user?: string }) => {
    validated(CreatePrivateKeyDto, { name: opts.name });
    out(
      await withIdentity(async ({ identity }) => {
        const found = await identity.findOrg(opts.org);
        const user = opts.user ? await identity.findUser(found.id, opts.user) : null;
        const input = validated(CreateApiKeyDto, { name: opts.name, userId: user?.id });
        return CreatedApiKeyResponseDto.fromCreated(await identity.createApiKey(found.id, input));
      }),
    );
  });
apiKey
  .command('revoke <id>')
  .description('revoke an API key or org private key, on every gateway at once')
  .action(async (id: string) => {
    out(
      await withIdentity(async ({ identity, broadcasts }) => {
        const revoked = await identity.revokeApiKey(id);
        if (!broadcasts) warnNoBroadcast('this key');
        return ApiKeyResponseDto.from(revoked);
      }),
    );
  });

program
  .command('private-key')
  .description('org private keys (the api-key header of /api/private)')
  .command('create')
  .description('create an org private key (the secret is printed once)')
  .requiredOption('--org <org>', 'org key or id')
  .requiredOption('--name <name>', 'what the key is for')
  .action(async (opts: { org: string; name: string }) => {
    const input = validated(CreatePrivateKeyDto, { name: opts.name });
    out(
      await withIdentity(async ({ identity }) => {
        const found = await identity.findOrg(opts.org);
        return CreatedApiKeyResponseDto.fromCreated(
          await identity.createPrivateKey(found.id, input),
        );
      }),
    );
  });

program
  .command('jwt')
  .description('JWTs')
  .command('issue')
  .description('issue an HS256 JWT for a user (needs JWT_SECRET, the same as the gateway)')
  .requiredOption('--org <org>', 'org key or id')
  .requiredOption('--user <user>', 'user id or email')
  .option('--expires-in <seconds>', 'lifetime in seconds', positiveInt, 3600)
  .action(async (opts: { org: string; user: string; expiresIn: number }) => {
    out(
      await withIdentity(
        async ({ identity }) => {
          const found = await identity.findOrg(opts.org);
          const user = await identity.findUser(found.id, opts.user);
          return TokenResponseDto.from(
            await identity.issueJwt({
              orgId: found.id,
              userId: user.id,
              expiresInSeconds: opts.expiresIn,
            }),
          );
        },
        { needsJwtSecret: true },
      ),
    );
  });

program
  .command('rebuild-usage')
  .description(
    'recompute the storage usage aggregates from the live files object-metadata lists, org by org ' +
      "(reads DATABASE_URL, OBJECT_METADATA_URL and the usage-aggregator's SERVICE_TOKEN_* keys)",
  )
  .option('--org <uuid>', 'rebuild one organization only')
  .action(async (opts: { org?: string }) => {
    if (
      opts.org !== undefined &&
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(opts.org)
    ) {
      throw new CliError('--org must be an organization id (UUID)');
    }
    const result = await runRebuildUsage(opts);
    note(`usage rebuilt from ${result.files} live file(s)`);
    out(result);
  });

program
  .command('sweep-orphans')
  .description(
    'find S3 bytes no file record points at (uploads whose record was never written, uploads past ' +
      "OBJECT_MAX_BYTES never completed), older than --older-than-minutes, under each org's prefix; " +
      'reports them, and deletes them only with --delete. Refuses when the database looks empty or the ' +
      'orphans are more than SWEEP_MAX_DELETES or SWEEP_MAX_DELETE_RATIO of the keys seen (reads ' +
      'DATABASE_URL, S3_*, OBJECT_MAX_BYTES, SWEEP_MAX_DELETES and SWEEP_MAX_DELETE_RATIO)',
  )
  .option('--older-than-minutes <n>', 'grace for uploads in progress', nonNegativeInt, 120)
  .option('--dry-run', 'report the orphans, delete nothing (the default)', false)
  .option('--delete', 'delete the orphans', false)
  .action(async (opts: { olderThanMinutes: number; dryRun: boolean; delete: boolean }) => {
    if (opts.dryRun && opts.delete) throw new CliError('--dry-run and --delete exclude each other');
    try {
      const result = await runSweepOrphans(opts);
      note(
        `${result.orphans} orphan(s) of ${result.platformKeys} platform key(s) under ` +
          `${result.orgs} org(s), ${result.deleted} deleted` +
          (opts.delete ? '' : ' (dry run: --delete deletes them)'),
      );
      out(result);
    } catch (e) {
      if (e instanceof SweepRefusedError) out(e.report);
      throw e;
    }
  });

program
  .command('service-keys')
  .description(
    'make a new Ed25519 key pair per app for service tokens, as env lines: <APP>_SERVICE_TOKEN_PRIVATE_KEY ' +
      "(each app's SERVICE_TOKEN_PRIVATE_KEY) and the SERVICE_TOKEN_PUBLIC_KEYS every app reads",
  )
  .action(() => {
    const { privateKeys, publicKeys } = generateServiceKeys();
    for (const app of SERVICE_NAMES) {
      const name = `${app.toUpperCase().replace(/-/g, '_')}_SERVICE_TOKEN_PRIVATE_KEY`;
      process.stdout.write(`${name}=${privateKeys[app]}\n`);
    }
    process.stdout.write(`SERVICE_TOKEN_PUBLIC_KEYS=${publicKeys}\n`);
  });

program
  .command('demo')
  .description(
    'ensure org "demo" with admin@demo.local, then print a fresh bearer key, org private key and JWT ' +
      '(one JSON line on stdout)',
  )
  .option('--expires-in <seconds>', 'JWT lifetime in seconds', positiveInt, 86_400)
  .action(async (opts: { expiresIn: number }) => {
    const demo = await withIdentity(({ identity }) => ensureDemo(identity, opts.expiresIn), {
      needsJwtSecret: true,
    });
    // One line, last on stdout, so scripts can parse it even behind `npm run`'s banner.
    process.stdout.write(`${JSON.stringify(demo)}\n`);
  });

program.parseAsync(process.argv).then(
  () => process.exit(0),
  (e: unknown) => {
    if (
      e instanceof CliError ||
      e instanceof DomainException ||
      e instanceof InvalidEnvironmentError
    ) {
      note(`error: ${e.message}`);
    } else {
      note(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    process.exit(1);
  },
);
