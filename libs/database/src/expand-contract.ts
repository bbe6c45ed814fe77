/**
 * The expand/contract rule of migrations, checked on the SQL each migration's `up` sends: during a
 * rolling upgrade the previous release runs on the migrated schema, so a migration only adds (expand).
 * Removing or changing what that release reads or writes is a later migration of its own (contract),
 * marked with a static `contract` naming the release since which nothing reads it.
 */

/** The marker of a contract step: a static `contract` on the migration class. */
export interface ContractMarker {
  /**
   * The release (as the changelog names it) since which no code reads or writes what this step drops or
   * changes. Every replica of the releases before it must be gone before this migration runs.
   */
  unreadSince: string;
}

export interface MigrationRuleViolation {
  migration: string;
  statement: string;
  problem: string;
  /**
   * `expand`: the previous release may break on the migrated schema (a contract step may do it);
   * `runner`: the migration cannot run as written, whatever it is marked.
   */
  rule: 'expand' | 'runner';
}

type MigrationClass = new () => {
  name?: string;
  transaction?: boolean;
  up(queryRunner: never): Promise<unknown>;
};

/** The SQL of each `query` call of the migration's `up`, recorded without a database. */
export async function recordMigrationSql(migration: MigrationClass): Promise<string[]> {
  const calls: string[] = [];
  // Hand-written SQL only: a row of any shape answers every query, and any other QueryRunner API throws.
  const anyRow = new Proxy({}, { get: () => 'recorded' });
  const driver = { schema: 'recorded', escape: (name: string) => `"${name}"` };
  const runner = new Proxy(
    {
      query: (sql: string) => {
        calls.push(sql);
        return Promise.resolve([anyRow]);
      },
      connection: { driver },
    },
    {
      get(target, key) {
        if (key in target) return target[key as keyof typeof target];
        if (key === 'then' || typeof key === 'symbol') return undefined;
        throw new Error(`uses QueryRunner.${String(key)}: write migrations as SQL (query)`);
      },
    },
  );
  await new migration().up(runner as never);
  return calls;
}

/**
 * Splits one query text into its statements, without comments and with whitespace collapsed; semicolons
 * inside quotes, quoted identifiers and dollar-quoted bodies do not split.
 */
export function sqlStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const dollar = /^\$[A-Za-z_]*\$/.exec(rest);
    if (rest.startsWith('--')) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (rest.startsWith('/*')) {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
      current += ' ';
    } else if (text[i] === "'" || text[i] === '"') {
      const end = text.indexOf(text[i], i + 1);
      const stop = end === -1 ? text.length : end + 1;
      current += text.slice(i, stop);
      i = stop;
    } else if (dollar) {
      const end = text.indexOf(dollar[0], i + dollar[0].length);
      const stop = end === -1 ? text.length : end + dollar[0].length;
      current += text.slice(i, stop);
      i = stop;
    } else if (text[i] === ';') {
      statements.push(current);
      current = '';
      i++;
    } else {
      current += text[i];
      i++;
    }
  }
  statements.push(current);
  return statements.map((s) => s.replace(/\s+/g, ' ').trim()).filter((s) => s !== '');
}

/** An identifier as Postgres resolves it, without its schema: `"flow".Runs` → `runs`. */
function objectName(identifier: string): string {
  const last = identifier.split('.').pop() ?? identifier;
  return last.startsWith('"') ? last.slice(1, -1) : last.toLowerCase();
}

/** Splits on commas outside parentheses and quotes (the actions of one ALTER TABLE). */
function topLevelParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current.trim());
  return parts;
}

const IDENT = `(?:"[^"]+"|[\\w$]+)(?:\\.(?:"[^"]+"|[\\w$]+))?`;
const DROPPABLE = 'TABLE|VIEW|MATERIALIZED VIEW|SCHEMA|TYPE|FUNCTION|SEQUENCE|TRIGGER';
const CREATED = new RegExp(
  `^CREATE (?:OR REPLACE )?(?:UNLOGGED |TEMP |TEMPORARY )?(?:${DROPPABLE}) (?:IF NOT EXISTS )?(${IDENT})`,
  'i',
);
const DROPPED = new RegExp(
  `^DROP (${DROPPABLE}) (?:IF EXISTS )?(.+?)(?: ON .*)?(?: CASCADE| RESTRICT)?$`,
  'i',
);
const INDEX = new RegExp(
  `^CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:${IDENT} )?ON (?:ONLY )?(${IDENT})`,
  'i',
);
const ALTER_TABLE = new RegExp(`^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?(${IDENT}) (.*)$`, 'i');
const ALTER_OTHER_RENAME = /^ALTER (?!TABLE )[\w ]+? \S+ RENAME\b/i;
const ADD_COLUMN = new RegExp(
  `^ADD (?!CONSTRAINT\\b|PRIMARY\\b|UNIQUE\\b|CHECK\\b|FOREIGN\\b|EXCLUDE\\b)(?:COLUMN )?(?:IF NOT EXISTS )?(${IDENT}) (.*)$`,
  'i',
);
const ALTER_COLUMN = new RegExp(`^ALTER (?:COLUMN )?(${IDENT}) (.*)$`, 'i');

/**
 * What in one migration's SQL breaks the expand rule: dropping or renaming an existing table, column or
 * other object, changing a column's type, making an existing column NOT NULL without giving it a default
 * in the same migration, adding a NOT NULL column without a default, and building an index on an existing
 * table without `CONCURRENTLY`. "Existing" is anything this migration did not create itself. Also refused:
 * `CONCURRENTLY` in a migration that runs in a transaction (`transaction = false` missing) or sent together
 * with other statements (one query runs as one transaction).
 */
export function expandRuleViolations(
  migration: string,
  calls: readonly string[],
  options: { transaction?: boolean } = {},
): MigrationRuleViolation[] {
  const violations: MigrationRuleViolation[] = [];
  const created = new Set<string>();
  const defaulted = new Set<string>();
  const flag = (statement: string, problem: string, rule: 'expand' | 'runner' = 'expand') =>
    violations.push({ migration, statement, problem, rule });

  const perCall = calls.map((call) => sqlStatements(call));
  for (const statement of perCall.flat()) {
    const alter = ALTER_TABLE.exec(statement);
    if (!alter) continue;
    for (const action of topLevelParts(alter[2])) {
      const column = ALTER_COLUMN.exec(action);
      if (column && /^SET DEFAULT\b/i.test(column[2])) {
        defaulted.add(`${objectName(alter[1])}.${objectName(column[1])}`);
      }
    }
  }

  for (const statements of perCall) {
    for (const statement of statements) {
      const create = CREATED.exec(statement);
      if (create) {
        created.add(objectName(create[1]));
        continue;
      }

      const drop = DROPPED.exec(statement);
      if (drop) {
        const existing = drop[2]
          .split(',')
          .map((n) => objectName(n.trim().replace(/\(.*$/, '')))
          .filter((n) => !created.has(n));
        if (existing.length > 0) {
          flag(statement, `drops ${drop[1].toLowerCase()} ${existing.join(', ')}`);
        }
        continue;
      }

      const index = INDEX.exec(statement);
      if (index) {
        const concurrently = index[1] !== undefined;
        if (!concurrently && !created.has(objectName(index[2]))) {
          flag(
            statement,
            `builds an index on existing table ${objectName(index[2])} without CONCURRENTLY`,
          );
        }
        if (concurrently && options.transaction !== false) {
          flag(
            statement,
            'builds an index CONCURRENTLY in a transaction: set transaction = false',
            'runner',
          );
        }
        if (concurrently && statements.length > 1) {
          flag(
            statement,
            'builds an index CONCURRENTLY in a query of several statements',
            'runner',
          );
        }
        continue;
      }

      if (ALTER_OTHER_RENAME.test(statement)) {
        flag(statement, 'renames an existing object');
        continue;
      }

      const alter = ALTER_TABLE.exec(statement);
      if (!alter) continue;
      const table = objectName(alter[1]);
      if (created.has(table)) continue;
      for (const action of topLevelParts(alter[2])) {
        if (/^RENAME\b/i.test(action)) {
          flag(statement, `renames table ${table} or one of its columns`);
        } else if (/^DROP (?!CONSTRAINT\b)/i.test(action)) {
          flag(statement, `drops a column of existing table ${table}`);
        }
        const add = ADD_COLUMN.exec(action);
        if (add && /\bNOT NULL\b/i.test(add[2]) && !/\bDEFAULT\b/i.test(add[2])) {
          flag(
            statement,
            `adds NOT NULL column ${objectName(add[1])} to ${table} without a default`,
          );
        }
        const column = ALTER_COLUMN.exec(action);
        if (!column) continue;
        const name = `${table}.${objectName(column[1])}`;
        if (/^(SET DATA )?TYPE\b/i.test(column[2])) {
          flag(statement, `changes the type of existing column ${name}`);
        } else if (/^SET NOT NULL\b/i.test(column[2]) && !defaulted.has(name)) {
          flag(statement, `makes existing column ${name} NOT NULL without a default`);
        }
      }
    }
  }
  return violations;
}

/** The contract marker of a migration class, if it has one. */
export function contractMarker(migration: object): ContractMarker | undefined {
  return (migration as { contract?: ContractMarker }).contract;
}

/**
 * Checks migration classes against the expand rule (see `expandRuleViolations`). A contract step (static
 * `contract` naming a release) may break it, and so may one named in `grandfathered` (applied everywhere
 * before the rule existed); neither may break what the runner needs.
 */
export async function expandContractViolations(
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migrations
  migrations: readonly Function[],
  grandfathered: ReadonlySet<string> = new Set(),
): Promise<MigrationRuleViolation[]> {
  const violations: MigrationRuleViolation[] = [];
  for (const migration of migrations as readonly MigrationClass[]) {
    const instance = new migration();
    const name = instance.name ?? migration.name;
    const marker = contractMarker(migration);
    if (
      marker !== undefined &&
      !(typeof marker.unreadSince === 'string' && marker.unreadSince.trim())
    ) {
      violations.push({
        migration: name,
        statement: '',
        problem: 'is marked as a contract step without the release since which nothing reads it',
        rule: 'runner',
      });
    }
    let calls: string[];
    try {
      calls = await recordMigrationSql(migration);
    } catch (e) {
      violations.push({
        migration: name,
        statement: '',
        problem: (e as Error).message,
        rule: 'runner',
      });
      continue;
    }
    const exempt = marker !== undefined || grandfathered.has(name);
    violations.push(
      ...expandRuleViolations(name, calls, { transaction: instance.transaction }).filter(
        (v) => v.rule === 'runner' || !exempt,
      ),
    );
  }
  return violations;
}
