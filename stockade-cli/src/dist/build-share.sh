#!/bin/sh
# Writes the distribution's share/ in DIR: the man pages (share/man/man1/stockade.1,
# stockade-run.1, ..., one a command) and the bash completion
# (share/bash-completion/completions/stockade), both from the CLI jar's complete command
# line (src/tools/java/dev/stockade/cli/ShareFiles.java, compiled and run here against the
# jar and picocli-codegen), the pages through AsciiDoc and asciidoctor's manpage backend.
# Run by mvn package (pom.xml, execution dist-share) after dist-layout made DIR.
#
# Usage: build-share.sh DIR CLI_JAR CODEGEN_JAR JAVA_HOME RELEASE SHARE_FILES_SOURCE WORK
set -eu

dir=$1 cli_jar=$2 codegen_jar=$3 java_home=$4 release=$5 source=$6 work=$7

if ! command -v asciidoctor >/dev/null 2>&1; then
    echo "build-share: asciidoctor not found; it makes the man pages" \
        "(scripts/install-build-deps installs it)" >&2
    exit 1
fi

rm -rf "$work" "$dir/share"
mkdir -p "$work/classes" "$dir/share/man/man1"
# -proc:none: picocli-codegen carries an annotation processor, for other builds.
"$java_home/bin/javac" --release "$release" -proc:none -Xlint:all -Werror \
    -d "$work/classes" -cp "$cli_jar:$codegen_jar" "$source"
completion=$dir/share/bash-completion/completions/stockade
"$java_home/bin/java" -cp "$work/classes:$cli_jar:$codegen_jar" dev.stockade.cli.ShareFiles \
    "$work/adoc" "$completion"
asciidoctor --failure-level WARN -b manpage -D "$dir/share/man/man1" "$work"/adoc/*.adoc
chmod 644 "$completion" "$dir"/share/man/man1/*.1
