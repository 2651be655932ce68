#!/bin/bash
# List the allocation sites of a built accelshare.ko, for the fault_injection
# VM case (tests/vm/cases/fault_injection.c).
#   fault-sites.sh MODULE.ko > fault_injection.sites
#
# A site is a call (or tail jump) from the module to a kernel function that
# can fail for want of memory: the slab and page allocators, kvmalloc and
# vmalloc, the xarray calls that may allocate a node, misc_register,
# vm_insert_pages and the like.  One line per site:
#
#   FUNCTION+0xRET CALLEE SECTION [ALIAS,...]
#
# FUNCTION+0xRET is how the kernel's stack trace names the call: the return
# address as an offset into the containing function (the function that
# survived inlining).  ALIAS lists other function symbols at the same address
# (init_module is ash_init), as a stack trace may print either.  "jmp" sites
# (tail calls) get a trailing "tail": no frame of the module is on the stack
# when they fail.
set -euo pipefail
mod=${1:?usage: fault-sites.sh MODULE.ko}
[ -r "$mod" ] || { echo "fault-sites.sh: $mod not readable" >&2; exit 1; }
command -v objdump >/dev/null || { echo "fault-sites.sh: objdump missing (binutils)" >&2; exit 1; }

# Kernel functions that allocate and can fail with -ENOMEM.
alloc='^(__kmalloc|__kmalloc_node|kmalloc_trace|kmalloc_node_trace|kmalloc_large|kmalloc_large_node|__kmalloc_node_track_caller|kmem_cache_alloc|kmem_cache_alloc_node|kmem_cache_alloc_lru|kmem_cache_alloc_bulk|kvmalloc_node|kvrealloc|krealloc|kmemdup|kmemdup_nul|kstrdup|kstrndup|kasprintf|kvasprintf|vmalloc|vzalloc|vmalloc_node|vzalloc_node|vmalloc_user|__vmalloc|__vmalloc_node|__vmalloc_node_range|__alloc_pages|__alloc_pages_node|alloc_pages|alloc_pages_node|__folio_alloc|folio_alloc|__get_free_pages|get_zeroed_page|alloc_pages_exact|__xa_alloc|__xa_alloc_cyclic|__xa_insert|__xa_store|xa_store|__xa_cmpxchg|xa_store_range|xas_nomem|idr_alloc|idr_alloc_cyclic|ida_alloc_range|misc_register|device_create|device_create_with_groups|cdev_add|alloc_chrdev_region|vm_insert_pages|vm_insert_page|vm_map_pages|vm_map_pages_zero|anon_inode_getfd|anon_inode_getfile|get_unused_fd_flags|sysfs_create_group|sysfs_create_groups|kobject_create_and_add|debugfs_create_dir|debugfs_create_file|register_chrdev_region|__register_chrdev)$'

objdump -t "$mod" | awk '$3 == "F" { print $1, $4, $NF }' > "${TMPDIR:-/tmp}/fault-sites.$$.syms"
trap 'rm -f "${TMPDIR:-/tmp}/fault-sites.$$.syms"' EXIT

echo "# allocation sites of $(basename "$mod"): FUNCTION+0xRET CALLEE SECTION [ALIASES] [tail]"
objdump -dr "$mod" | LC_ALL=C awk -v alloc="$alloc" -v symfile="${TMPDIR:-/tmp}/fault-sites.$$.syms" '
function hex(s,    i, c, v) {
	v = 0
	s = tolower(s)
	sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1))
		if (!c)
			break
		v = v * 16 + c - 1
	}
	return v
}
BEGIN {
	# value section name -> aliases of each function
	while ((getline line < symfile) > 0) {
		split(line, f, " ")
		key = f[1] " " f[2]
		names[key] = (key in names) ? names[key] " " f[3] : f[3]
		sym_key[f[2] " " f[3]] = key
	}
}
/^Disassembly of section / { sect = $4; sub(/:$/, "", sect); next }
/^[0-9a-f]+ <[^>]+>:$/ {
	func = $2; gsub(/[<>:]/, "", func)
	fstart = hex($1)
	next
}
/^[ \t]+[0-9a-f]+:\t/ && !/R_X86_64/ {
	# an instruction: remember its mnemonic by address
	split($0, p, "\t")
	addr = p[1]; gsub(/[ :]/, "", addr)
	insn[hex(addr)] = p[3]
	next
}
/R_X86_64_(PLT32|PC32)/ {
	target = $3; sub(/[-+]0x[0-9a-f]+$/, "", target)
	if (target !~ alloc)
		next
	roff = hex(substr($1, 1, length($1) - 1))
	# the reloc is the rel32 of a call/jmp opcode byte just before it
	kind = insn[roff - 1]
	ret = roff + 4 - fstart
	aliases = ""
	k = sym_key[sect " " func]
	if (k != "") {
		n = split(names[k], a, " ")
		for (i = 1; i <= n; i++)
			if (a[i] != func)
				aliases = aliases (aliases == "" ? "" : ",") a[i]
	}
	printf "%s+0x%x %s %s%s%s\n", func, ret, target, sect,
	       aliases == "" ? "" : " " aliases, kind ~ /^jmp/ ? " tail" : ""
}'
