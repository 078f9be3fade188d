#!/usr/bin/env bash
# The /ui page of `vitrine serve` and the `vitrine evaluate` report are tested in a real headless Chromium
# (Debian's package, driven by playwright-core). Install it when it is missing and we may (root with apt-get);
# otherwise say so: the browser tests then fail under CI=true and are skipped elsewhere.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium for the browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core) >/tmp/ensure-chromium.log 2>&1 \
    || { echo "ensure-chromium: apt-get failed, see /tmp/ensure-chromium.log" >&2; exit 0; }
else
  echo "ensure-chromium: chromium is missing and cannot be installed here (not root or no apt-get)" >&2
fi
exit 0
