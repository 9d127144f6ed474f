/**
 * Dependency rules (STYLE.md "Rules a tool checks"), run by `npm test` through `npm run depcruise`.
 *
 *   functions -> use-cases -> ports <- adapters      domain imports nothing outside itself
 *   only the wiring (shared/wiring, on top of shared/runtime) picks concrete adapters
 *
 * The rules describe the TARGET architecture. Where today's tree still breaks one, the edge is
 * listed in KNOWN_VIOLATIONS below, one entry per importing file, so that the check passes now and
 * fails on any NEW wrong import. Remove entries as the code is fixed: test/unit/architecture.test.ts
 * fails on an entry that no longer matches a real violation, so the list can only shrink.
 *
 * This file is CommonJS (.cjs) because package.json says "type": "module".
 */

/** Vendor adapter folders: none of them may import another (they may share shared/adapters/http). */
const VENDORS = ['netease', 'dingtalk', 'wecom', 'ekp', 'cas'];

/**
 * Edges that break a rule but are tolerated for now: empty since the ports refactor landed.
 * Each entry would name the rule, the importing file and the imported path (regular expressions
 * over repository-relative paths). Keep it empty: fix the import instead of listing it.
 */
const KNOWN_VIOLATIONS = [];

/**
 * Builds a forbidden rule and, for each known violation of it, narrows it so that exact edge is
 * tolerated. dependency-cruiser has no per-edge exception list, so a rule with known violations is
 * split: one copy for files without known violations, one per listed file with the listed target
 * excluded from `to`.
 */
function ruleWithKnown(def, knownViolations) {
  const known = knownViolations.filter((v) => v.rule === def.name);
  if (known.length === 0) return [def];
  const fromNot = [].concat(def.from.pathNot ?? []).concat(known.map((k) => k.from));
  const base = { ...def, from: { ...def.from, pathNot: fromNot } };
  const narrowed = known.map((k) => ({
    ...def,
    from: { ...def.from, path: k.from },
    to: { ...def.to, pathNot: [].concat(def.to.pathNot ?? []).concat(k.to) },
  }));
  return [base, ...narrowed];
}

/**
 * The whole configuration, tolerating the given known violations. Exported (as `build`) so that
 * test/unit/architecture.test.ts can check the rules without the allow-list and on planted fixtures.
 * @returns {import('dependency-cruiser').IConfiguration}
 */
function build(knownViolations) {
  /** An error-level rule: `from` may not import `to` (see the dependency-cruiser rule format). */
  const forbid = (name, comment, from, to) => ruleWithKnown({ name, comment, severity: 'error', from, to }, knownViolations);
  return {
    forbidden: [
      // ---- layers -------------------------------------------------------------------------------
      ...forbid('deployed-not-to-dev-trees', 'Deployed code (functions/, shared/) never imports the local stack, tests, benchmarks, the CLI or the CDK app.', { path: '^(functions|shared)/' }, { path: '^(local|test|bench|cli|infra|bin)/' }),
      ...forbid('shared-not-to-functions', 'shared/ is imported by functions, never the other way round.', { path: '^shared/' }, { path: '^functions/' }),
      ...forbid('domain-is-pure', 'shared/domain imports nothing outside shared/domain: no packages, no node built-ins, no other layer.', { path: '^shared/domain/' }, { pathNot: '^shared/domain/' }),
      ...forbid('ports-only-inward', 'Ports are owned by the core: they may import only the domain, contracts, errors, the tenant config types and other ports.', { path: '^shared/ports/' }, { pathNot: '^shared/(ports|domain|contracts|errors|config)/', dependencyTypesNot: ['core'] }),
      ...forbid('use-cases-only-inward', 'Use cases import ports, domain, contracts, errors, config, lib, logging and crypto (pure functions, no I/O) and other use cases; never adapters, the wiring, functions, dev trees or the process metrics (counts go through the ports/metrics.ts port).', { path: '^shared/use-cases/' }, { path: '^(shared|functions|local|test|bench|cli|infra|bin)/', pathNot: '^shared/(use-cases|ports|domain|contracts|errors|config|lib|logging|crypto)/' }),
      ...forbid('adapters-not-to-use-cases', 'Adapters implement ports; they never call use cases, the wiring or functions.', { path: '^shared/adapters/' }, { path: '^(shared/(use-cases|runtime|wiring)|functions)/' }),
      ...forbid('vendor-adapters-independent', 'A vendor adapter never imports another vendor adapter (shared HTTP helpers live in shared/adapters/http).', { path: `^shared/adapters/(${VENDORS.join('|')})/` }, { path: `^shared/adapters/(${VENDORS.join('|')})/`, pathNot: '^shared/adapters/$1/' }),
      ...forbid('core-libs-not-outward', 'errors, lib, logging, observability, config, contracts and crypto are leaves: they never reach up into use cases, adapters, the wiring or functions.', { path: '^shared/(errors|lib|logging|observability|config|contracts|crypto)/' }, { path: '^(shared/(use-cases|adapters|runtime|wiring|ports)|functions)/' }),
      ...forbid('functions-not-to-adapters', 'Handlers pick a wiring and call one use case; only the wiring (shared/runtime, shared/wiring) builds concrete adapters.', { path: '^functions/' }, { path: '^shared/adapters/' }),
      // shared/http, lambda and console-ui are the functions' edge helpers (middy chains, SQS batch,
      // HTML pages): they get their adapters from the wiring, never import one. shared/runtime is the
      // bottom of the wiring and today builds the process-wide clients every function shares (DynamoDB
      // document client, SQS job queue, Secrets Manager or local file secret store): those four files
      // and nothing else; vendor clients, stores and HTTP helpers are built in shared/wiring.
      ...forbid('edge-helpers-not-to-adapters', 'shared/http, shared/lambda and shared/console-ui never import adapters; the wiring hands them what they need.', { path: '^shared/(http|lambda|console-ui)/' }, { path: '^shared/adapters/' }),
      ...forbid('runtime-only-process-clients', 'shared/runtime imports only the process-wide client adapters (DynamoDB client, SQS job queue, secret stores); every other adapter is built in shared/wiring.', { path: '^shared/runtime/' }, { path: '^shared/adapters/', pathNot: '^shared/adapters/(aws/(dynamodb-client|secrets-manager\\.secret-store|sqs\\.job-queue)|local/file\\.secret-store)\\.ts$' }),
      ...forbid('handler-not-to-other-handler', 'A function never imports another function.', { path: '^functions/([^/]+/[^/]+)/' }, { path: '^functions/', pathNot: '^functions/$1/' }),
      ...forbid('local-not-to-tests', 'The local stack (npm start) never imports the tests.', { path: '^local/' }, { path: '^test/' }),

      // ---- graph hygiene ------------------------------------------------------------------------
      ...forbid('no-circular', 'No import cycles, type-only imports included (tsPreCompilationDeps is true).', {}, { circular: true }),
      {
        name: 'no-orphans',
        comment: 'A module nothing imports and that imports nothing is dead code.',
        severity: 'error',
        from: {
          orphan: true,
          pathNot: [
            // type declarations are picked up by tsc through tsconfig "include", never imported
            '\\.d\\.ts$',
            // tool configuration files are loaded by their tool (vitest, dependency-cruiser)
            '(^|/)[^/]+\\.config\\.(ts|js|cjs|mjs)$',
            '(^|/)\\.dependency-cruiser\\.cjs$',
            // test files are entry points found by vitest's include glob
            '\\.test\\.ts$',
            // benchmark suites are loaded by name with a dynamic import in bench/run.ts
            '^bench/suites/[^/]+\\.ts$',
          ],
        },
        to: {},
      },
      ...forbid('not-to-unresolvable', 'Every import resolves to a file or an installed package.', {}, { couldNotResolve: true }),
      ...forbid('no-non-package-json', 'Every package imported is declared in package.json (not merely present in node_modules).', {}, { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] }),
      // Type-only imports (e.g. @types/aws-lambda) are erased by esbuild, so they are allowed.
      ...forbid('not-to-dev-dep', 'Shipped code (functions/, shared/) may not import devDependencies at run time.', { path: '^(functions|shared)/' }, { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] }),
      ...forbid('no-deprecated-core', 'Deprecated node built-ins (punycode, domain, sys ...) are not used.', {}, { dependencyTypes: ['core'], path: '^(punycode|domain|constants|sys|_linklist|_stream_wrap)$' }),
    ],
    options: {
      doNotFollow: { path: 'node_modules' },
      exclude: { path: '(^|/)(cdk\\.out|\\.data)/' },
      // Type-only imports count: a cycle or a wrong layer through `import type` is still a wrong dependency.
      tsPreCompilationDeps: true,
      tsConfig: { fileName: 'tsconfig.json' },
      enhancedResolveOptions: {
        exportsFields: ['exports'],
        conditionNames: ['import', 'require', 'node', 'default', 'types'],
        mainFields: ['module', 'main', 'types', 'typings'],
      },
    },
  };
}

module.exports = build(KNOWN_VIOLATIONS);
// Not part of dependency-cruiser's schema (it rejects unknown keys), so not enumerable: read by the tests.
Object.defineProperty(module.exports, 'KNOWN_VIOLATIONS', { value: KNOWN_VIOLATIONS, enumerable: false });
Object.defineProperty(module.exports, 'build', { value: build, enumerable: false });
