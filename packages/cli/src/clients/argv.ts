/**
 * Mosquitto's argv syntax on top of yargs' parser (yargs-parser, via `yargs/helpers`).
 *
 * yargs does the parsing: the option table is turned into yargs options (each option once,
 * short and long spellings as aliases, flags as booleans taking no value, the others as
 * strings taking `nargs` values that are eaten whatever they look like), and yargs maps argv
 * to values per option, repeated options kept in order.
 *
 * What yargs cannot express is done by a thin pre-pass (`sequenceArgv`) before it:
 * - Mosquitto applies options strictly left to right and stops at the first error (`-q 3 -p x`
 *   reports the QoS, `--help -x` prints the help), and later options override earlier ones
 *   across spellings (`-L` then `-p`). yargs' result is keyed by option, so the pre-pass
 *   records the order in which options occur; the caller applies the k-th value of each option
 *   at its k-th occurrence.
 * - Only the exact spellings exist: `-rq`, `--topic=x`, `-tfoo`, `--t`, `--no-x`, `--` and
 *   positionals are all "Unknown option". The pre-pass stops at the first such argument, so
 *   yargs never sees syntax Mosquitto would refuse.
 * - An option's arity may depend on its values (`-D cmd user-property key value` takes four,
 *   other `-D`s three): the pre-pass joins the extra values into the last one with NUL, which
 *   no C string argument can contain, so yargs can declare a fixed `nargs`.
 * - A missing value is Mosquitto's per-option error text, checked by the caller: the
 *   incomplete last option is handed over with the values it has, not given to yargs.
 */
import { Parser } from 'yargs/helpers';

type ParserOptions = NonNullable<Parameters<typeof Parser.detailed>[1]>;

export interface ArgSpec {
  /** yargs key: the long name without dashes, or the letter when there is no long form. */
  readonly key: string;
  /** The exact spellings Mosquitto accepts, e.g. `['-t', '--topic']`. */
  readonly names: readonly string[];
  /** Values the option takes; 0 for a flag. */
  readonly nargs: number;
  /** When the arity depends on the values that follow (`-D`): how many it takes at argv[i]. */
  readonly arity?: (argv: readonly string[], i: number) => number;
}

export interface Occurrence<S extends ArgSpec> {
  readonly spec: S;
  /** The raw values, in order. */
  readonly values: readonly string[];
  /** False for a last option whose values run past the end of argv. */
  readonly complete: boolean;
}

export interface Sequence<S extends ArgSpec> {
  readonly occurrences: readonly Occurrence<S>[];
  /** The first argument that is not an option of this tool, if any (argv ends there). */
  readonly unknown: string | undefined;
}

/** Joins an option's values beyond its declared nargs into its last one. */
const JOIN = '\0';

export interface ArgTable<S extends ArgSpec> {
  readonly byName: ReadonlyMap<string, S>;
  readonly yargs: ParserOptions;
}

/** One option table, as a name lookup and as yargs options. */
export function argTable<S extends ArgSpec>(specs: readonly S[]): ArgTable<S> {
  const byName = new Map<string, S>();
  const alias: Record<string, string[]> = {};
  const narg: Record<string, number> = {};
  const string: string[] = [];
  const boolean: string[] = [];
  for (const spec of specs) {
    for (const name of spec.names) byName.set(name, spec);
    const others = spec.names.map((n) => n.replace(/^--?/, '')).filter((n) => n !== spec.key);
    if (others.length > 0) alias[spec.key] = others;
    narg[spec.key] = spec.nargs;
    (spec.nargs === 0 ? boolean : string).push(spec.key);
  }
  return {
    byName,
    yargs: {
      alias,
      narg,
      string,
      boolean,
      configuration: {
        // Names are used as written: no camelCase or dotted keys, no `--no-` negation.
        'camel-case-expansion': false,
        'dot-notation': false,
        'boolean-negation': false,
        // Values stay the strings Mosquitto's atoi/strtol/atof read (cnum.ts).
        'parse-numbers': false,
        'parse-positional-numbers': false,
        // `-rq` is one (unknown) option, never `-r -q`.
        'short-option-groups': false,
        // An option's value is the next argument whatever it looks like (`-t -m`).
        'nargs-eats-options': true,
        // Repeated options (`-t a -t b`, `-D ...`) keep every value, in order.
        'duplicate-arguments-array': true,
        'flatten-duplicate-arrays': true,
        'greedy-arrays': false,
        'strip-aliased': true,
        // Anything unexpected lands in `_`, which must stay empty (checked below).
        'unknown-options-as-args': true,
      },
    },
  };
}

/** The pre-pass: option occurrences in argv order, up to the first unknown argument. */
export function sequenceArgv<S extends ArgSpec>(table: ArgTable<S>, argv: readonly string[]): { seq: Sequence<S>; forYargs: string[] } {
  const occurrences: Occurrence<S>[] = [];
  const forYargs: string[] = [];
  let unknown: string | undefined;
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    const spec = table.byName.get(arg);
    if (spec === undefined) {
      unknown = arg;
      break;
    }
    const want = spec.arity ? spec.arity(argv, i) : spec.nargs;
    const values = argv.slice(i + 1, i + 1 + want);
    if (values.length < want) {
      occurrences.push({ spec, values, complete: false });
      break;
    }
    occurrences.push({ spec, values, complete: true });
    forYargs.push(arg, ...values.slice(0, spec.nargs - 1));
    if (spec.nargs > 0) forYargs.push(values.slice(spec.nargs - 1).join(JOIN));
    i += 1 + want;
  }
  return { seq: { occurrences, unknown }, forYargs };
}

/**
 * Parses argv with yargs and returns the occurrences in order, each with the values yargs
 * parsed for it.
 */
export function parseArgv<S extends ArgSpec>(table: ArgTable<S>, argv: readonly string[]): Sequence<S> {
  const { seq, forYargs } = sequenceArgv(table, argv);
  const parsed = Parser.detailed(forYargs, table.yargs);
  const result = parsed.argv as Record<string, unknown>;
  if (parsed.error || parsed.argv._.length > 0) {
    throw new Error(`argv: yargs disagrees with the option table: ${String(parsed.error ?? parsed.argv._.join(' '))}`);
  }
  // Each option's values in argv order; taken from the front at each occurrence.
  const queues = new Map<string, string[]>();
  const occurrences = seq.occurrences.map((occ): Occurrence<S> => {
    const { spec } = occ;
    if (!occ.complete) return occ;
    if (spec.nargs === 0) {
      const v = result[spec.key];
      if (v !== true && !(Array.isArray(v) && v.every((x) => x === true))) throw new Error(`argv: yargs lost flag ${spec.key}`);
      return occ;
    }
    let queue = queues.get(spec.key);
    if (queue === undefined) {
      const v = result[spec.key];
      queue = Array.isArray(v) ? (v as string[]).slice() : typeof v === 'string' ? [v] : [];
      queues.set(spec.key, queue);
    }
    const taken = queue.splice(0, spec.nargs);
    if (taken.length !== spec.nargs) throw new Error(`argv: yargs lost a value of ${spec.key}`);
    // Undo the pre-pass's join by the raw lengths (a value from an options file may hold a NUL).
    let joined = taken.pop() as string;
    const values = [...taken];
    for (const raw of occ.values.slice(spec.nargs - 1)) {
      values.push(joined.slice(0, raw.length));
      joined = joined.slice(raw.length + JOIN.length);
    }
    return { spec, values, complete: true };
  });
  for (const [key, rest] of queues) {
    if (rest.length > 0) throw new Error(`argv: yargs found extra values for ${key}`);
  }
  return { occurrences, unknown: seq.unknown };
}
