#!/usr/bin/env bash
# The README's install command: everything `pnpm lint && pnpm typecheck && pnpm test` needs on
# a fresh machine.
#   - OS packages that are missing: redis-server (the Redis store tests; `pnpm test` starts a
#     throwaway one), chromium (the browser tests) and a C/C++ toolchain with python3 (to
#     build better-sqlite3 when no prebuilt binary fits), through apt-get as root or with
#     sudo; elsewhere it names what to install.
#   - pnpm at the version in package.json's "packageManager" (npm install -g), then
#     `pnpm install --frozen-lockfile`.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'install: %s\n' "$*"; }
fail() {
  printf 'install: %s\n' "$*" >&2
  exit 1
}

# Node: the one thing this script cannot install for you.
command -v node >/dev/null || fail "Node.js >= 20.19 is required: install it (https://nodejs.org) and run this again."
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  fail "Node.js >= 20.19 is required (found $(node --version)): upgrade it and run this again."

# OS packages.
have_chromium() {
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null ||
    command -v google-chrome >/dev/null || command -v google-chrome-stable >/dev/null
}
have_redis() {
  command -v redis-server >/dev/null || [ -x /usr/sbin/redis-server ] || [ -x /usr/local/sbin/redis-server ]
}
missing=()
have_redis || missing+=(redis-server)
have_chromium || missing+=(chromium)
if ! command -v make >/dev/null || ! command -v g++ >/dev/null; then missing+=(build-essential); fi
command -v python3 >/dev/null || missing+=(python3)
command -v script >/dev/null || missing+=(bsdutils) # `script`: the CLI's terminal tests

if [ "${#missing[@]}" -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      as_root=(sudo)
    elif command -v sudo >/dev/null && [ -t 0 ]; then
      as_root=(sudo)
    else
      as_root=(none)
    fi
  fi
  if command -v apt-get >/dev/null && [ "${as_root[*]-}" != none ]; then
    say "installing ${missing[*]} with apt-get"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
      # Ubuntu names the browser chromium-browser.
      if [[ " ${missing[*]} " == *" chromium "* ]]; then
        rest=()
        for pkg in "${missing[@]}"; do [ "$pkg" = chromium ] || rest+=("$pkg"); done
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${rest[@]}" chromium-browser >/dev/null
      else
        fail "apt-get could not install ${missing[*]}; install them yourself and run this again."
      fi
    fi
  else
    how="with your package manager (Debian/Ubuntu: sudo apt-get install ${missing[*]}; macOS: brew install redis and a Chromium or Chrome)"
    if command -v apt-get >/dev/null; then
      how="as root: apt-get install ${missing[*]} (this script needs root or password-less sudo to do it)"
    fi
    fail "missing ${missing[*]}: install them $how, then run this again."
  fi
  have_redis || fail "redis-server is still missing after the install; install it yourself."
  have_chromium || fail "chromium is still missing after the install; install Chromium or Chrome yourself."
fi

# pnpm at the pinned version.
want=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if ! command -v pnpm >/dev/null || [ "$(pnpm --version 2>/dev/null)" != "$want" ]; then
  say "installing pnpm@$want (npm install -g)"
  npm install -g --no-audit --no-fund "pnpm@$want" >/dev/null ||
    fail "npm could not install pnpm@$want globally; run: npm install -g pnpm@$want (as root or with a user prefix), then run this again."
  hash -r
fi

# Dependencies. node-gyp builds native modules against the local Node headers when they are
# there, instead of downloading them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
pnpm install --frozen-lockfile
say "done: now run  pnpm lint && pnpm typecheck && pnpm test"
