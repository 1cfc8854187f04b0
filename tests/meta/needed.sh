#!/bin/sh
# Usage: needed.sh READELF BINARY EXPECTED...
# Fails, naming them, unless BINARY's DT_NEEDED entries are exactly EXPECTED (in any order).
set -eu
readelf=$1 binary=$2
shift 2
needed=$("$readelf" -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
expected=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
if [ "$needed" != "$expected" ]; then
    echo "$binary needs: ${needed}expected: $expected"
    exit 1
fi
