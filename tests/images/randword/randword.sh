#!/bin/sh
# Prints WORD_COUNT words (default 5), one per line, always the same ones in the same order,
# so tests know the exact output.
count="${WORD_COUNT:-5}"
set -- alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike \
       november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu
i=0
while [ "$i" -lt "$count" ]; do
  n=$(( i % 26 + 1 ))
  eval "echo \${$n}"
  i=$(( i + 1 ))
done
