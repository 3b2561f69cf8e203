# Sourced by contrib/fresh-test and contrib/deb-test: fresh minimal Debian 12 roots.
#   fresh_base DIR        debootstrap --variant=minbase bookworm into DIR (made anew unless FRESH_KEEP=1 and it
#                         exists); nothing mounted
#   fresh_root DIR        fresh_base, with what the fresh machine has beyond minbase: /etc/hosts, and a
#                         resolver for apt; then /proc /sys /dev /dev/pts mounted until the script exits
#   fresh_copy BASE DIR   DIR as a copy of the root BASE (made by fresh_base), set up and mounted the same way
#   in_root DIR CMD...    CMD in DIR with a clean environment
# A re-signing package proxy's CA (NODE_EXTRA_CA_CERTS) is lent to npm in the roots.
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }

fresh_mounted=""
fresh_root_cleanup() {
	for m in $fresh_mounted; do umount -l "$m" 2>/dev/null || true; done
}
trap fresh_root_cleanup EXIT

fresh_mount() {
	# the root a mount point of its own: the tests' `unshare -m --propagation private` (disk_full, chaos,
	# http_dns_stall) change the propagation of /, which fails on a plain folder
	mount --bind "$1" "$1"
	fresh_mounted="$1 $fresh_mounted"
	for m in /proc /sys /dev /dev/pts; do
		mkdir -p "$1$m"
		case $m in
		/proc) mount -t proc proc "$1$m" ;;
		/sys) mount -t sysfs sysfs "$1$m" ;;
		*) mount --bind "$m" "$1$m" ;;
		esac
		fresh_mounted="$1$m $fresh_mounted"
	done
}

fresh_setup() {
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$1/etc/hosts"
	cp /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null || true
	if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
		cp "$NODE_EXTRA_CA_CERTS" "$1/etc/uigw-extra-ca.crt"
	fi
}

# a folder is removed only after whatever an interrupted run left mounted in it is unmounted (a bind mount of
# /dev under it would otherwise lose the machine's device nodes)
fresh_remove() {
	awk -v d="$1/" -v r="$1" 'index($2, d) == 1 || $2 == r {print $2}' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m"
	done
	rm -rf "$1"
}

fresh_base() {
	if [ "${FRESH_KEEP:-0}" != 1 ] && [ -d "$1" ]; then
		fresh_remove "$1"
	fi
	if [ ! -x "$1/bin/sh" ]; then
		echo "debootstrap --variant=minbase bookworm $1"
		debootstrap --variant=minbase bookworm "$1" "$mirror" >"$1.debootstrap.log" 2>&1 ||
			{ tail -n 20 "$1.debootstrap.log"; exit 1; }
	fi
}

fresh_root() {
	fresh_base "$1"
	fresh_setup "$1"
	fresh_mount "$1"
}

fresh_copy() {
	fresh_remove "$2"
	cp -a "$1" "$2"
	fresh_setup "$2"
	fresh_mount "$2"
}

in_root() {
	_r=$1
	shift
	_ca=""
	[ ! -f "$_r/etc/uigw-extra-ca.crt" ] || _ca="NODE_EXTRA_CA_CERTS=/etc/uigw-extra-ca.crt"
	chroot "$_r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive $_ca "$@"
}
