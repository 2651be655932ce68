#!/bin/bash
# SPDX-License-Identifier: MIT
# The manual pages in man/ (roff).
#   man.sh check          every page renders without a warning (man
#                         --warnings) and names the version of
#                         include/accelshare.h, every function libaccelshare exports
#                         (runtime/libaccelshare.map) is named by a section 3
#                         page, every installed program has a page
#   man.sh install DIR    install them under DIR (DIR/man1, man3, ...) with
#                         a ".so" page for every other name a section 3 page
#                         lists in its NAME line, as liburing does
#   man.sh uninstall DIR  remove them again
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The names a page's NAME section lists: "a, b, c \- what".
names() {
	sed -n '/^\.SH NAME/{n;p;q}' "$1" | sed 's/ \\-.*//; s/,/ /g'
}

case ${1:-} in
check)
	bad=0
	v() { sed -n "s/^#define ACCELSHARE_VERSION_$1[[:space:]]*\([0-9]*\)$/\1/p" include/accelshare.h; }
	version="$(v MAJOR).$(v MINOR).$(v PATCH)"
	for p in man/*.[1-8]; do
		grep -q "^\.TH .* \"accelshare $version\"" "$p" ||
			{ echo "man: $p: .TH does not say \"accelshare $version\"" >&2; bad=1; }
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "man: $p: $out" >&2; bad=1; }
	done
	documented=$(for p in man/*.3; do names "$p"; done | tr ' ' '\n' | sort -u)
	for f in $(sed -n 's/^[[:space:]]*\(ash_[a-z0-9_]*\);/\1/p' runtime/libaccelshare.map); do
		grep -qx "$f" <<<"$documented" ||
			{ echo "man: $f is exported but no section 3 page names it" >&2; bad=1; }
	done
	for t in ashctl.8 accelshare-engine.8 accelshare-accountd.8 ash-model.1 ash-run.1 accelshare.4 accelshare.conf.5; do
		[ -f "man/$t" ] || { echo "man: man/$t is missing" >&2; bad=1; }
	done
	exit $bad
	;;
install|uninstall)
	dir=${2:?usage: man.sh install|uninstall DIR}
	for p in man/*.[1-8]; do
		base=$(basename "$p")
		sec=${base##*.}
		if [ "$1" = install ]; then
			install -D -m 0644 "$p" "$dir/man$sec/$base"
		else
			rm -f "$dir/man$sec/$base"
		fi
		[ "$sec" = 3 ] || continue
		for n in $(names "$p"); do
			[ "$n.3" = "$base" ] && continue
			if [ "$1" = install ]; then
				echo ".so man3/$base" > "$dir/man3/$n.3"
			else
				rm -f "$dir/man3/$n.3"
			fi
		done
	done
	;;
*)
	sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
