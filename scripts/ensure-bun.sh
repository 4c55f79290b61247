# Sourced by scripts/quickstart.sh and .ci/run: puts a Bun on PATH, installing the pinned version
# from the npm registry when none is there (the only registry these machines reach).
BUN_VERSION="1.4.5"
if ! command -v bun >/dev/null 2>&1; then
  echo "Bun not found: installing bun@${BUN_VERSION} from npm" >&2
  # --allow-scripts: npm 11 gates install scripts; older npm ignores the flag.
  if ! npm install -g --allow-scripts=bun "bun@${BUN_VERSION}" >&2; then
    # No write access to the global prefix: install under the user's home instead.
    prefix="${HOME}/.local/share/pawwork-bun"
    npm install --prefix "$prefix" --allow-scripts=bun "bun@${BUN_VERSION}" >&2 || return 1
    mkdir -p "${HOME}/.local/bin"
    ln -sf "$prefix/node_modules/bun/bin/bun.exe" "${HOME}/.local/bin/bun"
    export PATH="${HOME}/.local/bin:${PATH}"
    echo "Installed Bun in ${HOME}/.local/bin: add it to your PATH to run \`bun run test\`." >&2
  fi
  command -v bun >/dev/null 2>&1 || export PATH="$(npm prefix -g)/bin:${PATH}"
  command -v bun >/dev/null 2>&1 || { echo "Bun is still not on PATH after installing it" >&2; return 1; }
fi
