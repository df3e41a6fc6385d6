#!/usr/bin/env bash
# Compiles milan_jpeg.c (JPEG region decoder) and milan_resample.c (Pillow-exact resampler) into
# <classes dir>/linux-x86-64/libmilanjpeg.so, where JNA finds it on the classpath (and
# extracts it from the jar); run by the trainer's Maven build (pom.xml, exec-maven-plugin, compile phase).
# Needs gcc and libjpeg62-turbo-dev (e2e/ensure-prereqs.sh installs both); at run time only libjpeg62-turbo.
#   src/main/c/build.sh <classes dir>
source "$(dirname "${BASH_SOURCE[0]}")/../../../../e2e/lib/strict.sh"
here="$(cd "$(dirname "$0")" && pwd)"
srcs=("$here/milan_jpeg.c" "$here/milan_resample.c")
out="$1/linux-x86-64/libmilanjpeg.so"
up_to_date() {  # the library is newer than every source and this script
  [[ -f $out ]] || return 1
  for f in "${srcs[@]}" "$here/build.sh"; do [[ $out -nt $f ]] || return 1; done
}
up_to_date && exit 0
command -v gcc >/dev/null || { echo "build.sh: gcc is missing (run e2e/ensure-prereqs.sh)" >&2; exit 1; }
[[ -f /usr/include/jpeglib.h ]] \
  || { echo "build.sh: libjpeg headers are missing (run e2e/ensure-prereqs.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# -Wl,--no-undefined: an unresolved symbol fails here, not when the trainer loads the library. -fwrapv: int
# overflow wraps as in Java (the resampler must equal PilResample's Java arithmetic). No -mavx2: the resampler's
# AVX2 functions are chosen at run time, so the library runs on any x86-64.
gcc -O2 -fPIC -shared -std=c11 -fwrapv -Wall -Wextra -Werror -Wl,--no-undefined -o "$out.tmp" "${srcs[@]}" -ljpeg
mv "$out.tmp" "$out"
