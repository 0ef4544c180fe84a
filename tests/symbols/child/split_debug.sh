#!/bin/sh
# split_debug.sh MODE INPUT OUTPUT DEBUG: strips INPUT (built with -g) into OUTPUT the ways
# distributions ship binaries, keeping the symbols elsewhere:
#   debuglink  DEBUG = objcopy --only-keep-debug; OUTPUT names it by .gnu_debuglink (+ CRC)
#   buildid    DEBUG as above; OUTPUT has only its build-id note to find it by
#   minidebug  OUTPUT carries .gnu_debugdata: the xz of DEBUG with its DWARF stripped (the
#              .symtab stays), as Fedora's MiniDebugInfo does; DEBUG is that uncompressed file
set -eu
mode=$1 input=$2 output=$3 debug=$4
mkdir -p "$(dirname "$output")" "$(dirname "$debug")"
objcopy --only-keep-debug "$input" "$debug"
objcopy --strip-all "$input" "$output"
case $mode in
debuglink)
    objcopy --add-gnu-debuglink="$debug" "$output" ;;
buildid) ;;
minidebug)
    objcopy --strip-debug "$debug"
    rm -f "$debug.xz"
    xz --keep --check=crc32 "$debug"
    objcopy --add-section .gnu_debugdata="$debug.xz" "$output"
    rm -f "$debug.xz" ;;
*)
    echo "split_debug.sh: unknown mode $mode" >&2
    exit 2 ;;
esac
