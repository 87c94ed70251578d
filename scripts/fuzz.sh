#!/bin/sh
# fuzz.sh: run every Go fuzz target (func FuzzXxx(f *testing.F)) of the
# module, each for $FUZZTIME. Targets are looked up on every run, so a new
# Fuzz function in any package is picked up as it is.
#
#   scripts/fuzz.sh                          # every target, 60s each
#   FUZZTIME=3s scripts/fuzz.sh              # the short pass of make test
#   scripts/fuzz.sh ./outbox/spool ./ledger  # only these packages
#
# Environment: GO (default go); FUZZTIME (default 60s: a duration, or a
# count of runs such as 10000x, as go test -fuzztime takes); FUZZJOBS, how
# many targets run at once (default: one per CPU, each with one fuzz worker,
# so that the CPUs stay busy through each target's build and start-up).
# A target that fails leaves its input in <package>/testdata/fuzz/<Target>/
# (go test writes it there: keep it as a regression seed); every target
# still runs, its output is shown when it ends, and the script exits 1.
set -eu

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
FUZZJOBS=${FUZZJOBS:-$cpus}
[ "$FUZZJOBS" -ge 1 ] || FUZZJOBS=1
workers=$((cpus / FUZZJOBS))
[ "$workers" -ge 1 ] || workers=1
[ $# -gt 0 ] || set -- ./...

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tmp=$dir/list

# Packages with a test file that declares a Fuzz function: go list names
# each package's test files (under the current build constraints), grep
# looks into them. Nothing is compiled for the packages without one.
"$GO" list -f '{{$p := .ImportPath}}{{$d := .Dir}}{{range .TestGoFiles}}{{$p}}{{"\t"}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .XTestGoFiles}}{{$p}}{{"\t"}}{{$d}}/{{.}}{{"\n"}}{{end}}' "$@" >"$tmp"
tab=$(printf '\t')
pkgs=
while IFS=$tab read -r pkg file; do
	if grep -q '^func Fuzz' "$file"; then
		case " $pkgs " in
		*" $pkg "*) ;;
		*) pkgs="$pkgs $pkg" ;;
		esac
	fi
done <"$tmp"
if [ -z "$pkgs" ]; then
	echo "fuzz: no fuzz targets"
	exit 0
fi

# go test -list names the targets exactly: one line per target, then
# "ok <package> <time>".
# shellcheck disable=SC2086 # $pkgs is a list of import paths
"$GO" test -list '^Fuzz' $pkgs >"$tmp"
targets=$(awk '/^Fuzz/ { names = names " " $1; next }
	/^ok/ { if (names != "") print $2 names; names = "" }' "$tmp")

# A pool of FUZZJOBS background runs, each logging to $dir/<n>.log;
# running holds "pid:n:label" of each, oldest first.
running=
nrun=0
count=0
failed=

# finish waits for the oldest run and shows its output.
finish() {
	# shellcheck disable=SC2086 # split the list
	set -- $running
	job=$1
	shift
	running="$*"
	nrun=$((nrun - 1))
	pid=${job%%:*}
	n=${job#*:}
	label=${n#*:}
	n=${n%%:*}
	if wait "$pid"; then :; else failed="$failed $label"; fi
	cat "$dir/$n.log"
}

start=$(date +%s)
while read -r pkg names; do
	[ -n "$pkg" ] || continue
	for name in $names; do
		[ "$nrun" -lt "$FUZZJOBS" ] || finish
		count=$((count + 1))
		{
			echo "fuzz: $pkg $name ($FUZZTIME)"
			"$GO" test -run='^$' -fuzz="^$name\$" -fuzztime="$FUZZTIME" -parallel="$workers" "$pkg"
		} >"$dir/$count.log" 2>&1 </dev/null &
		running="$running $!:$count:$pkg.$name"
		nrun=$((nrun + 1))
	done
done <<EOF
$targets
EOF
while [ "$nrun" -gt 0 ]; do
	finish
done

echo "fuzz: $count targets, $FUZZTIME each, $FUZZJOBS at a time, in $(($(date +%s) - start))s"
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed" >&2
	exit 1
fi
