#!/usr/bin/env bash
# Node.js and npm from Debian's packages, for a machine that has neither (the bundler needs them).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
