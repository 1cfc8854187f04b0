#!/bin/sh
# The man pages (docs/man, one markdown page per command) document every command and every option
# that `volt-run --help` and `volt-run COMMAND --help` list, and each page converted to roff.
# Usage: test.sh VOLT_RUN_BINARY MAN_SOURCE_DIR [MAN_BUILD_DIR]
set -u
bin=${1:?usage: test.sh VOLT_RUN_BINARY MAN_SOURCE_DIR [MAN_BUILD_DIR]}
src=${2:?usage: test.sh VOLT_RUN_BINARY MAN_SOURCE_DIR [MAN_BUILD_DIR]}
built=${3:-}
failed=0
fail() { echo "FAIL: $*"; failed=1; }
options_of() { # the option names of a --help text, one per line (-h and --help left out)
  sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' '\n' | sed 's/^!//' | grep '^-' | grep -vx -- '-h\|--help'
}
subcommands_of() { # the subcommands a --help text lists
  sed -n '/^[A-Za-z]*[Ss][Uu][Bb][Cc][Oo][Mm][Mm][Aa][Nn][Dd][Ss]:/,/^$/{s/^  \([a-z][a-z-]*\)[ ,].*/\1/p}'
}
commands=$("$bin" --help | subcommands_of)
[ -n "$commands" ] || { echo "FAIL: no commands in volt-run --help"; exit 1; }
for opt in $("$bin" --help | options_of); do
  grep -qF -- "**$opt**" "$src/volt-run.md" || fail "volt-run.md lacks the global option $opt"
done
for c in $commands; do
  grep -qF -- "**$c**" "$src/volt-run.md" || fail "volt-run.md lacks the command $c"
  page="$src/volt-run-$c.md"
  [ -f "$page" ] || { fail "no man page volt-run-$c.md for the command $c"; continue; }
  for opt in $("$bin" "$c" --help | options_of); do
    grep -qF -- "**$opt**" "$page" || fail "volt-run-$c.md lacks $c's option $opt"
  done
  # A command with subcommands of its own (image import|list|rm): each, and its options, on the
  # command's page.
  for s in $("$bin" "$c" --help | subcommands_of); do
    grep -qF -- "**$s**" "$page" || fail "volt-run-$c.md lacks the subcommand $c $s"
    for opt in $("$bin" "$c" "$s" --help | options_of); do
      grep -qF -- "**$opt**" "$page" || fail "volt-run-$c.md lacks $c $s's option $opt"
    done
  done
  if [ -n "$built" ] && [ -d "$built" ]; then
    [ -f "$built/volt-run-$c.1.gz" ] && zcat "$built/volt-run-$c.1.gz" | grep -q '^\.TH VOLT-RUN' ||
      fail "volt-run-$c.1.gz was not built from its page"
  fi
done
for page in "$src"/volt-run-*.md; do
  c=${page##*/volt-run-}
  c=${c%.md}
  echo "$commands" | grep -qx "$c" || fail "volt-run-$c.md documents no command of volt-run"
done
[ $failed = 0 ] && echo "man pages: every command and option of --help is documented"
exit $failed
