#!/bin/bash
# The bash completion (tools/completion/volt-run) completes every command and every option that
# `--help` lists, container names from the data root given on the line, and stays quiet where a
# word is the user's own (exec's command, an option's value that is no path).
# Usage: test.sh VOLT_RUN_BINARY COMPLETION_SCRIPT
set -u
bin=${1:?usage: test.sh VOLT_RUN_BINARY COMPLETION_SCRIPT}
script=${2:?usage: test.sh VOLT_RUN_BINARY COMPLETION_SCRIPT}
PATH="$(dirname "$bin"):$PATH"
# shellcheck source=/dev/null
source "$script"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/config/web1" "$root/config/db2" "$root/images/bookworm" "$root/images/.bookworm.partial"
failed=0

completions() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _volt_run
    printf '%s\n' "${COMPREPLY[@]}"
}
expect() {
    local want=$1
    shift
    if ! completions "$@" | grep -qxF -- "$want"; then
        echo "FAIL: '$*' does not complete to '$want' (got: $(completions "$@" | tr '\n' ' '))"
        failed=1
    fi
}
refuse() {
    local unwanted=$1
    shift
    if completions "$@" | grep -qxF -- "$unwanted"; then
        echo "FAIL: '$*' completes to '$unwanted'"
        failed=1
    fi
}

verbs=$(volt-run --help | sed -n '/^[A-Za-z]*[Ss][Uu][Bb][Cc][Oo][Mm][Mm][Aa][Nn][Dd][Ss]:/,/^$/{s/^  \([a-z][a-z-]*\)[ ,].*/\1/p}')
[[ -n $verbs ]] || { echo "FAIL: no commands in volt-run --help"; exit 1; }
for v in $verbs; do
    expect "$v" volt-run "${v:0:2}"
    for opt in $(volt-run "$v" --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' ' '); do
        [[ $opt == -* && $opt != -h && $opt != --help ]] || continue
        expect "$opt" volt-run "$v" "${opt:0:3}"
    done
done
# A verb's subcommands (image import|list|rm) and their options.
for v in $verbs; do
    for s in $(volt-run "$v" --help | sed -n '/^[A-Za-z]*[Ss][Uu][Bb][Cc][Oo][Mm][Mm][Aa][Nn][Dd][Ss]:/,/^$/{s/^  \([a-z][a-z-]*\)[ ,].*/\1/p}'); do
        expect "$s" volt-run "$v" "${s:0:1}"
        for opt in $(volt-run "$v" "$s" --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' ' '); do
            [[ $opt == -* && $opt != -h && $opt != --help ]] || continue
            expect "$opt" volt-run "$v" "$s" "${opt:0:3}"
        done
    done
done
expect --root volt-run --ro
# Container names, from the --root on the line; only for the container's own word.
expect web1 volt-run --root "$root" exec w
expect db2 volt-run --root "$root" stop d
expect web1 volt-run --root "$root" inspect --json ''
VOLT_ROOT=$root expect web1 volt-run delete ''
refuse web1 volt-run --root "$root" exec web1 ''
refuse web1 volt-run --root "$root" exec web1 -- ''
refuse web1 volt-run --root "$root" create ''
# An option's value: a path for --image, nothing invented for --memory.
expect "$root/config" volt-run create x --image "$root/co"
refuse web1 volt-run --root "$root" create x --memory ''
# A global option's value is not taken for the command.
expect --json volt-run --root "$root" list --j
# Image names for image rm, never volt-run's own entries; files for import's source.
expect bookworm volt-run --root "$root" image rm b
refuse .bookworm.partial volt-run --root "$root" image rm ''
refuse web1 volt-run --root "$root" image rm ''
expect "$root/images" volt-run image import "$root/im"
expect --json volt-run --root "$root" image list --j
((failed == 0)) && echo "completion: every command, option and container name completes"
exit $failed
