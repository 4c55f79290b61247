# Sourced by scripts/quickstart.sh and .ci/run: puts a Bun on PATH, installing the pinned version
# from the npm registry when none is there (the only registry these machines reach).
BUN_VERSION="1.4.5"

_pawwork_bun_works() { command -v bun >/dev/null 2>&1 && bun --version >/dev/null 2>&1; }

# npm 11 may hold back the package's postinstall; the binary normally arrives without it, and when
# it did not, the package's own installer puts it in place.
_pawwork_bun_finish() {
  local pkg="$1"
  if [ -f "$pkg/install.js" ] && ! "$pkg/bin/bun.exe" --version >/dev/null 2>&1; then
    (cd "$pkg" && node install.js) >&2 || return 1
  fi
}

if ! _pawwork_bun_works; then
  echo "Bun not found: installing bun@${BUN_VERSION} from npm" >&2
  if npm install -g "bun@${BUN_VERSION}" >&2; then
    _pawwork_bun_finish "$(npm root -g)/bun" || true
    if ! _pawwork_bun_works; then
      export PATH="$(npm prefix -g)/bin:${PATH}"
      echo "Installed Bun in $(npm prefix -g)/bin, which is not on your PATH: add it to run \`bun run test\`." >&2
    fi
  else
    # No write access to the global prefix: install under the user's home instead.
    prefix="${HOME}/.local/share/pawwork-bun"
    npm install --prefix "$prefix" "bun@${BUN_VERSION}" >&2 || return 1
    _pawwork_bun_finish "$prefix/node_modules/bun" || return 1
    mkdir -p "${HOME}/.local/bin"
    ln -sf "$prefix/node_modules/bun/bin/bun.exe" "${HOME}/.local/bin/bun"
    export PATH="${HOME}/.local/bin:${PATH}"
    echo "Installed Bun in ${HOME}/.local/bin: add it to your PATH to run \`bun run test\`." >&2
  fi
  _pawwork_bun_works || { echo "Bun is still not usable after installing it from npm" >&2; return 1; }
fi
