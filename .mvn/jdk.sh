# Finds a JDK 21+ and exports JAVA_HOME. Sourced (POSIX sh) by ./portway, ./mvnw and .ci/run,
# so every entry point builds and runs with the same JDK.
#
# Order: $JAVA_HOME, the `java` on PATH, then the system JVM directories; the newest wins among
# the system ones. Returns 1 with a message on stderr when none is 21 or newer.

PORTWAY_MIN_JAVA=21

# Prints the feature version (17, 21, 25...) of the JDK at $1, or nothing when it is not a JDK.
portway_jdk_version() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
  else
    "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
  fi
}

portway_use_jdk() {
  _pw_best=
  _pw_best_version=0
  _pw_path_java=$(command -v java 2>/dev/null || true)
  _pw_path_home=
  if [ -n "$_pw_path_java" ]; then
    _pw_path_home=$(dirname "$(dirname "$(readlink -f "$_pw_path_java")")")
  fi
  for _pw_candidate in "${JAVA_HOME:-}" "$_pw_path_home"; do
    [ -n "$_pw_candidate" ] || continue
    _pw_version=$(portway_jdk_version "$_pw_candidate")
    if [ -n "$_pw_version" ] && [ "$_pw_version" -ge "$PORTWAY_MIN_JAVA" ]; then
      JAVA_HOME=$_pw_candidate
      export JAVA_HOME
      return 0
    fi
  done
  # `set -f` (used by mvnw) disables globbing; turn it on for the scan only.
  case $- in *f*) _pw_noglob=1; set +f ;; *) _pw_noglob= ;; esac
  for _pw_candidate in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [ -d "$_pw_candidate" ] || continue
    _pw_version=$(portway_jdk_version "$_pw_candidate")
    if [ -n "$_pw_version" ] && [ "$_pw_version" -gt "$_pw_best_version" ]; then
      _pw_best=$_pw_candidate
      _pw_best_version=$_pw_version
    fi
  done
  [ -z "$_pw_noglob" ] || set -f
  if [ "$_pw_best_version" -ge "$PORTWAY_MIN_JAVA" ]; then
    JAVA_HOME=$_pw_best
    export JAVA_HOME
    return 0
  fi
  echo "portway: no JDK $PORTWAY_MIN_JAVA or newer found (looked at JAVA_HOME, the java on PATH and /usr/lib/jvm)." >&2
  echo "portway: install one (for example: apt-get install openjdk-21-jdk-headless) or point JAVA_HOME at it." >&2
  return 1
}
