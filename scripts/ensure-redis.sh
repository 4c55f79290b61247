# Sourced by .ci/run: the relay's tests need a real redis-server (Debian's package). Installs it
# with apt-get when missing, as root or through sudo; anything else stops CI with what to do.
if ! command -v redis-server >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "redis-server is missing and this system has no apt-get: install Redis 7 (redis-server on PATH) and run again." >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
  else
    echo "redis-server is missing and installing it needs root: run 'apt-get install -y redis-server' as root (or give this user passwordless sudo), then run again." >&2
    exit 1
  fi
  echo "Installing redis-server (the relay's tests run a private instance of it)..." >&2
  # Through env, not as a prefix: sudo's env_reset would drop a DEBIAN_FRONTEND set before it.
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  command -v redis-server >/dev/null 2>&1 || { echo "apt-get did not install redis-server." >&2; exit 1; }
fi
redis-server --version
