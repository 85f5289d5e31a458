#!/usr/bin/env bash
# npm start: build, migrate and seed the local D1, then serve http://localhost:8787 with
# wrangler dev (workerd, local D1 and Durable Objects: no Cloudflare account needed).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .dev.vars ] && grep -q 'change-me' .dev.vars; then
  # A copy of .dev.vars.example: the Worker would refuse to serve with its placeholders.
  echo "start: .dev.vars still holds the example's placeholders; replacing them with random secrets"
  rm .dev.vars
fi
if [ ! -f .dev.vars ]; then
  # Fresh random secrets for local use; a deploy sets its own with `wrangler secret put`.
  {
    echo "DIALPAD_WEBHOOK_SECRET=$(node -e "console.log(require('crypto').randomBytes(24).toString('hex'))")"
    echo "JWT_SECRET=$(node -e "console.log(require('crypto').randomBytes(32).toString('hex'))")"
  } > .dev.vars
  echo "start: wrote .dev.vars with new local secrets"
fi
if ! grep -q '^ALLOW_DEMO_PASSWORDS=' .dev.vars; then
  # The README's demo accounts sign in only where this is set: local development, never a deploy.
  echo 'ALLOW_DEMO_PASSWORDS="true"' >> .dev.vars
fi

bash scripts/build.sh
npx wrangler d1 migrations apply DB --local
node scripts/seed.mjs
echo
echo "  Console:   http://localhost:8787/admin/"
echo "  Simulate:  npm run call -- 09012345678 05017481234"
echo
# Both Workers in one wrangler dev: the console (first, serving the port) and the pop Worker,
# which the console hands Dialpad's deliveries to through its POP binding.
# ASSETS_VERSION: the pages' files are served under /v/<hash of public/>/ and cached by the
# browser for good (src/domain/assets.rs); after editing public/, restart to get a new version.
exec npx wrangler dev -c wrangler.toml -c wrangler.pop.toml --port "${PORT:-8787}" --ip 127.0.0.1 \
  --var "ASSETS_VERSION:$(node scripts/lib/assets-version.mjs)" "$@"
