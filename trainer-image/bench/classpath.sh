#!/usr/bin/env bash
# Sourced by the bench scripts: compiles the trainer module (offline first) into $build_dir and sets $classpath
# and $repo. MILAN_BUILD_DIR (default trainer-image/target) is where the module is compiled.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${MILAN_BUILD_DIR:-$repo/trainer-image/target}"
classpath_file="$build_dir/bench-classpath.txt"
mvn_args=(-q -pl trainer-image compile dependency:build-classpath -Dmdep.outputFile="$classpath_file" -Dmdep.includeScope=runtime
  -Dmilan.buildDir="$build_dir")
(cd "$repo" && { ./mvnw -o "${mvn_args[@]}" || ./mvnw "${mvn_args[@]}"; }) >&2
classpath="$build_dir/classes:$(cat "$classpath_file")"
export DJL_OFFLINE=true
