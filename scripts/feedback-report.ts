/**
 * `npm run feedback-report`: the governance report of clinician feedback
 * (https://cds-hooks.hl7.org/2.0/#feedback; cds-hooks/feedback/report.ts) from the store
 * `npm run serve` writes: PostgreSQL when DATABASE_URL is set, else PGlite in FEEDBACK_DATA_DIR
 * (default .data/feedback), both read by cds-hooks/env.ts. The report goes to stdout.
 *
 *   --format table|json|csv   default table
 *   --since YYYY-MM-DD        feedback the service received from that day on (UTC)
 *   --service ID              one service's feedback
 *
 * Exit status: 0 report written; 2 bad flag or configuration; 1 the store could not be read.
 *
 * PGlite is a single process's database and has no lock: the report reads a copy of the directory,
 * so it never writes into one a running service may be using (a copy taken while it writes may fail
 * to open: then stop the service, or ask the running service at GET /admin/feedback-report).
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ReportConfig, readReportConfig } from '../cds-hooks/env.ts';
import { dataDirPath, type FeedbackStore, openFeedbackStore } from '../cds-hooks/feedback/index.ts';
import {
  formatReport,
  type ReportFilter,
  ReportQuery,
  reportFromStore,
} from '../cds-hooks/feedback/report.ts';

const USAGE =
  'usage: npm run feedback-report -- [--format table|json|csv] [--since YYYY-MM-DD] [--service ID]';

class UsageError extends Error {}

/** The flags, checked by the same schema as the admin route's query. */
function readFlags(argv: string[]): { format: 'table' | 'json' | 'csv'; filter: ReportFilter } | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        format: { type: 'string' },
        since: { type: 'string' },
        service: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const flag = /'(-[^' ]*)/.exec((e as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown flag ${flag ?? ''}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(`${flag ?? 'a flag'} needs a value`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new UsageError(`unexpected argument ${/'([^']*)'/.exec((e as Error).message)?.[1] ?? ''}`);
    throw new UsageError('cannot read the flags');
  }
  if (values.help) return 'help';
  const given = Object.fromEntries(
    (['format', 'since', 'service'] as const).flatMap((k) =>
      values[k] === undefined ? [] : [[k, values[k]]],
    ),
  );
  const parsed = ReportQuery.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const message = issue?.message ?? 'is invalid';
    // The schema's messages start with the name: `since must be a date…` → `--since must be a date…`.
    const said = message.startsWith(`${key} `) ? `--${message}` : `--${key}: ${message}`;
    throw new UsageError(`${said} (got "${String(given[key] ?? '')}")`);
  }
  const { format = 'table', since, service } = parsed.data;
  return { format, filter: { ...(since ? { since } : {}), ...(service ? { serviceId: service } : {}) } };
}

/** The store to read, and what to clean up after. */
async function openForReading(config: ReportConfig): Promise<{ store: FeedbackStore; done: () => void }> {
  if (config.databaseUrl) {
    process.stderr.write('feedback-report: reading PostgreSQL (DATABASE_URL)\n');
    return {
      store: await openFeedbackStore({ databaseUrl: config.databaseUrl, poolMax: 1 }),
      done: () => {},
    };
  }
  const dir = config.feedbackDataDir;
  const path = dataDirPath(dir);
  if (!path) return { store: await openFeedbackStore({ dataDir: dir }), done: () => {} };
  if (!existsSync(path))
    throw new Error(`no feedback store at ${path} (set FEEDBACK_DATA_DIR, or DATABASE_URL for PostgreSQL)`);
  process.stderr.write(`feedback-report: reading PGlite at ${path} (from a copy)\n`);
  const copyRoot = mkdtempSync(join(tmpdir(), 'feedback-report-'));
  const done = () => rmSync(copyRoot, { recursive: true, force: true });
  try {
    cpSync(path, join(copyRoot, 'db'), { recursive: true });
    return { store: await openFeedbackStore({ dataDir: join(copyRoot, 'db') }), done };
  } catch (e) {
    done();
    throw e;
  }
}

async function main(): Promise<number> {
  let flags: ReturnType<typeof readFlags>;
  let config: ReportConfig;
  try {
    flags = readFlags(process.argv.slice(2));
    config = readReportConfig();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(e instanceof UsageError ? `feedback-report: ${message}. ${USAGE}` : message);
    return 2;
  }
  if (flags === 'help') {
    console.log(USAGE);
    return 0;
  }
  let opened: Awaited<ReturnType<typeof openForReading>> | undefined;
  try {
    opened = await openForReading(config);
    const report = await reportFromStore(opened.store, flags.filter, new Date().toISOString());
    process.stdout.write(formatReport(report, flags.format));
    return 0;
  } catch (e) {
    // FeedbackStoreError messages name the operation and code only, never a password or a record.
    console.error(`feedback-report: cannot read the feedback store: ${e instanceof Error ? e.message : e}`);
    return 1;
  } finally {
    await opened?.store.close().catch(() => undefined);
    opened?.done();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
