#!/bin/bash
# The accelshare demo: install what is missing, build the module (for the
# distribution kernel) and the userspace, boot a VM and show three
# organizations sharing one accelerator.  Run from anywhere; "make demo" runs
# it.  BUILD (default build/) is where everything goes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
make=${MAKE:-make}
build=${BUILD:-build}

echo "demo: checking the packages the demo needs" >&2
scripts/deps.sh demo
echo "demo: building the runtime library and tools" >&2
$make --no-print-directory BUILD="$build" userspace "$build/vm/bin/runas"
echo "demo: booting the distribution kernel (takes a few seconds)" >&2
exec tests/vm/run.sh --kernel distro --mode demo --build "$build"
