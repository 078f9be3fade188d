#!/usr/bin/env bash
# The SDK conformance test (test/conformance/sdk.test.ts) loads every YAML `vitrine generate` writes with the
# official Azure ML SDK: Debian's python3-azure (azure-ai-ml 1.4.0). Install it when it is missing and we may (root
# with apt-get), as ensure-chromium.sh does for the browser tests; otherwise say so: the test then fails under
# CI=true and is skipped elsewhere.
set -u
if [ -f /usr/lib/python3/dist-packages/azure/ai/ml/__init__.py ] && /usr/bin/python3 -c 'import yaml, marshmallow' >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-azure-sdk: installing Debian's python3-azure (azure-ai-ml) for the SDK conformance test" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-azure python3-yaml) >/tmp/ensure-azure-sdk.log 2>&1 \
    || { echo "ensure-azure-sdk: apt-get failed, see /tmp/ensure-azure-sdk.log" >&2; exit 0; }
else
  echo "ensure-azure-sdk: python3-azure is missing and cannot be installed here (not root or no apt-get)" >&2
fi
exit 0
