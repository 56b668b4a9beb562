#!/usr/bin/env bash
# `deploy.sh check`: wrangler's dry run of the production deploy (no network, no account) and
#   the bundle's compressed size against the free plan's Worker limit (3 MiB gzip).
# `deploy.sh`: the real deploy of [env.production] in wrangler.toml (README "Deploy to Cloudflare").
# Both expect ./scripts/build.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=$((3 * 1024 * 1024)) # Cloudflare Workers free plan: 3 MiB after compression

say() { printf '[deploy] %s\n' "$*"; }

# The tests' storage hooks let anyone damage any token: never in a deployment.
production_vars=$(sed -n '/^\[env.production.vars\]/,/^\[/p' wrangler.toml)
if printf '%s\n' "$production_vars" | grep -Eq '^[[:space:]]*TEST_STORAGE_HOOKS[[:space:]]*=[[:space:]]*"(1|true)"'; then
  say "[env.production.vars] turns TEST_STORAGE_HOOKS on: the tests' storage hooks never go to production"
  exit 1
fi

if [ "${1:-}" = check ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  node_modules/.bin/wrangler deploy --dry-run --env production --outdir "$out" >"$out.log" 2>&1 || {
    cat "$out.log"; rm -f "$out.log"; exit 1
  }
  rm -f "$out.log"
  # What Cloudflare counts: the modules uploaded (script and wasm), compressed. Source maps and
  # the README wrangler writes beside them are not uploaded as modules.
  modules=$(find "$out" -type f ! -name '*.map' ! -name 'README.md' | sort)
  [ -n "$modules" ] || { say "dry run wrote no modules"; exit 1; }
  raw=$(cat $modules | wc -c)
  gz=$(cat $modules | gzip -9 | wc -c)
  say "bundle: $raw bytes, $gz bytes gzip ($(( gz * 100 / LIMIT ))% of the free plan's $LIMIT)"
  if [ "$gz" -gt "$LIMIT" ]; then
    say "the bundle is over Cloudflare's free-plan limit"; exit 1
  fi
  exit 0
fi

if grep -q 'PASTE-KV-NAMESPACE-ID' wrangler.toml; then
  say "wrangler.toml's [env.production] still has no KV namespace id."
  say "Run: node_modules/.bin/wrangler kv namespace create LEDGER --env production"
  say "and put the id it prints in [[env.production.kv_namespaces]]."
  exit 1
fi
node_modules/.bin/wrangler deploy --env production
