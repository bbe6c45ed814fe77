import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dataSourceOptions, pgConnectionConfig, type PostgresConnection } from '@lib/database';
import { REPO_ROOT } from '@lib/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Runs a Postgres binary as the `postgres` user (Postgres refuses to run as root). */
const asPostgres = (binary: string, args: string[]) =>
  run('runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args]);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A CA, a server certificate it signs for 127.0.0.1 (and localhost), and another CA that signed nothing
 * here, made with openssl in `dir`.
 */
async function makePki(dir: string): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    await openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=platform test ${ca}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  }
  await openssl(
    'req',
    '-new',
    ...ec,
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  await writeFile(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' +
      'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
}

/**
 * A throw-away Postgres cluster that accepts only TLS connections (`hostssl`, no `host` line), with the
 * certificate of `makePki`, listening on 127.0.0.1 and on 127.0.0.2 (an address the certificate does not name).
 */
async function startTlsPostgres(dir: string, port: number): Promise<void> {
  const data = join(dir, 'data');
  await run('chown', ['-R', 'postgres:postgres', dir]);
  await chmod(join(dir, 'server.key'), 0o600);
  await asPostgres('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '--no-sync',
    '--no-instructions',
  ]);
  await writeFile(
    join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1,127.0.0.2'`,
      `unix_socket_directories = '${dir}'`,
      'ssl = on',
      `ssl_cert_file = '${join(dir, 'server.crt')}'`,
      `ssl_key_file = '${join(dir, 'server.key')}'`,
      'fsync = off',
      'max_connections = 20',
      'shared_buffers = 16MB',
      '',
    ].join('\n'),
    { flag: 'a' },
  );
  await writeFile(
    join(data, 'pg_hba.conf'),
    'hostssl all all 127.0.0.1/32 trust\nhostssl all all 127.0.0.2/32 trust\n',
  );
  await asPostgres('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'postgres.log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
}

/** Opens a DataSource and answers whether its session is encrypted (then closes it). */
async function sessionUsesTls(connection: PostgresConnection): Promise<boolean> {
  const dataSource = new DataSource(
    dataSourceOptions({ ...connection, schema: 'public', entities: [], poolSize: 1 }),
  );
  await dataSource.initialize();
  try {
    const [row] = await dataSource.query<{ ssl: boolean }[]>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return row.ssl;
  } finally {
    await dataSource.destroy();
  }
}

describe('Postgres over TLS with a private CA (DATABASE_CA_FILE)', () => {
  let dir: string;
  let port: number;
  let url: string;
  let caFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platform-pg-tls-'));
    port = await freePort();
    await makePki(dir);
    await startTlsPostgres(dir, port);
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    caFile = join(dir, 'ca.crt');
  }, 120_000);

  afterAll(async () => {
    await asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined, // never started
    );
    await rm(dir, { recursive: true, force: true });
  });

  it('migrates every schema with the admin CLI', async () => {
    const cli = (env: Record<string, string>) =>
      run(process.execPath, ['-r', '@swc-node/register', 'tools/cli/main.ts', 'migrate'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, ...env },
      });
    const { stdout } = await cli({ DATABASE_URL: url, DATABASE_CA_FILE: caFile });
    const { applied } = JSON.parse(stdout) as { applied: string[] };
    expect(applied.length).toBeGreaterThan(0);

    await expect(cli({ DATABASE_URL: url })).rejects.toMatchObject({
      stderr: expect.stringContaining('no pg_hba.conf entry for host "127.0.0.1"') as unknown,
    });
  }, 60_000);

  it('opens DataSource sessions over TLS, the LISTEN of a pooled client included', async () => {
    expect(await sessionUsesTls({ url, caFile })).toBe(true);

    // The outbox relay LISTENs on a client taken from its DataSource's pool: same options.
    const dataSource = new DataSource(
      dataSourceOptions({ url, caFile, schema: 'public', entities: [], poolSize: 2 }),
    );
    await dataSource.initialize();
    try {
      const pool = (dataSource.driver as unknown as { master: import('pg').Pool }).master;
      const client = await pool.connect();
      try {
        await client.query('LISTEN tls_check');
        const notified = new Promise((resolve) => client.once('notification', resolve));
        await dataSource.query(`NOTIFY tls_check, 'over TLS'`);
        expect(await notified).toMatchObject({ channel: 'tls_check', payload: 'over TLS' });
        const { rows } = await client.query<{ ssl: boolean }>(
          'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
        );
        expect(rows[0].ssl).toBe(true);
      } finally {
        client.release();
      }
    } finally {
      await dataSource.destroy();
    }
  });

  it('takes sslmode=verify-full in the URL: with the CA file, or against the public CAs', async () => {
    expect(await sessionUsesTls({ url: `${url}?sslmode=verify-full`, caFile })).toBe(true);
    // The test CA is none of Node's public CAs.
    await expect(sessionUsesTls({ url: `${url}?sslmode=verify-full` })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('refuses a connection without TLS, a certificate of another CA, and another host name', async () => {
    await expect(sessionUsesTls({ url })).rejects.toThrow(
      `no pg_hba.conf entry for host "127.0.0.1", user "postgres", database "postgres", no encryption`,
    );
    await expect(sessionUsesTls({ url, caFile: join(dir, 'other-ca.crt') })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    // 127.0.0.2 reaches the same server, but its certificate names 127.0.0.1 (and localhost) only.
    await expect(
      sessionUsesTls({ url: `postgres://postgres@127.0.0.2:${port}/postgres`, caFile }),
    ).rejects.toThrow(
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1",
    );
  });

  it('gives a pg Client the same options (the CLI sweep-orphans connects so)', async () => {
    const client = new Client(pgConnectionConfig({ url, caFile }));
    await client.connect();
    try {
      const { rows } = await client.query<{ ssl: boolean }>(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(rows[0].ssl).toBe(true);
    } finally {
      await client.end();
    }
  });
});
