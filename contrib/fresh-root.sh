# Sourced by contrib/fresh-test and contrib/deb-test: a fresh minimal Debian 12 root in $root
# (debootstrap --variant=minbase bookworm, made anew unless FRESH_KEEP=1), with what the fresh machine
# has beyond minbase (/etc/hosts; a resolver for apt), and /proc /sys /dev /dev/pts mounted until the script
# exits. Sets $extra_ca to the environment that lends a re-signing package proxy's CA to npm in the root.
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }

mounted=""
fresh_root_cleanup() {
	for m in $mounted; do umount -l "$root$m" 2>/dev/null || true; done
}
trap fresh_root_cleanup EXIT

if [ "${FRESH_KEEP:-0}" != 1 ] && [ -d "$root" ]; then
	rm -rf "$root"
fi
if [ ! -x "$root/bin/sh" ]; then
	echo "debootstrap --variant=minbase bookworm $root"
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
		{ tail -n 20 "$root.debootstrap.log"; exit 1; }
fi
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
extra_ca=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
	cp "$NODE_EXTRA_CA_CERTS" "$root/etc/uigw-extra-ca.crt"
	extra_ca="NODE_EXTRA_CA_CERTS=/etc/uigw-extra-ca.crt"
fi

for m in /proc /sys /dev /dev/pts; do
	mkdir -p "$root$m"
	case $m in
	/proc) mount -t proc proc "$root$m" ;;
	/sys) mount -t sysfs sysfs "$root$m" ;;
	*) mount --bind "$m" "$root$m" ;;
	esac
	mounted="$m $mounted"
done

# run a command in the root with a clean environment
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive $extra_ca "$@"
}
