#!/bin/sh
# Writes $GREETINGS_PACKAGE.Greetings with one constant per NAME=TEXT line of $1, into $2.
set -eu
out="$2/$GREETINGS_PACKAGE"
mkdir -p "$out"
{
  echo "package $GREETINGS_PACKAGE;"
  echo "public final class Greetings {"
  echo "    private Greetings() {}"
  while IFS='=' read -r name text; do
    echo "    public static final String $name = \"$text\";"
  done < "$1"
  echo "}"
} > "$out/Greetings.java"
echo "generated $out/Greetings.java as $(id -un)"
