#!/usr/bin/env bash
# Compiles milan_jpeg.c into <classes dir>/linux-x86-64/libmilanjpeg.so, where JNA finds it on the classpath (and
# extracts it from the jar); run by the trainer's Maven build (pom.xml, exec-maven-plugin, compile phase).
# Needs gcc and libjpeg62-turbo-dev (e2e/ensure-prereqs.sh installs both); at run time only libjpeg62-turbo.
#   src/main/c/build.sh <classes dir>
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)/milan_jpeg.c"
out="$1/linux-x86-64/libmilanjpeg.so"
[[ -f $out && $out -nt $src ]] && exit 0  # up to date
command -v gcc >/dev/null || { echo "build.sh: gcc is missing (apt-get install gcc, or e2e/ensure-prereqs.sh)" >&2; exit 1; }
[[ -f /usr/include/jpeglib.h ]] \
  || { echo "build.sh: libjpeg headers are missing (apt-get install libjpeg62-turbo-dev, or e2e/ensure-prereqs.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# -Wl,--no-undefined: an unresolved symbol fails here, not when the trainer loads the library.
gcc -O2 -fPIC -shared -std=c11 -Wall -Wextra -Werror -Wl,--no-undefined -o "$out.tmp" "$src" -ljpeg
mv "$out.tmp" "$out"
