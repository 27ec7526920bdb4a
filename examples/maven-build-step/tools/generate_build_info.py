"""Writes BuildInfo.java (one constant per KEY=VALUE line of a properties file).

Run by the build in a Stockade sandbox: it also looks for what a hostile generator would go
after, and reports what it found, so the build log shows the sandbox at work.
"""
import os
import pathlib
import sys


def constants(properties):
    for line in properties.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            yield key.strip().upper().replace(".", "_"), value.strip()


def probe():
    home = pathlib.Path.home()
    settings = home / ".m2" / "settings.xml"
    print(f"generator: {settings} readable: {settings.is_file() and os.access(settings, os.R_OK)}")
    print(f"generator: entries in {home}: {len(list(home.iterdir()))}")
    try:
        pathlib.Path("pom.xml").open("a").close()
        print("generator: pom.xml writable: True")
    except OSError as e:
        print(f"generator: pom.xml writable: False ({e.strerror})")


def main(properties, out_dir):
    package = os.environ["BUILD_INFO_PACKAGE"]
    target = pathlib.Path(out_dir, *package.split("."))
    target.mkdir(parents=True, exist_ok=True)
    fields = "".join(
        f'    public static final String {key} = "{value}";\n'
        for key, value in constants(pathlib.Path(properties)))
    source = (f"package {package};\n\n"
              "/** Generated from build-info.properties by tools/generate_build_info.py. */\n"
              "public final class BuildInfo {\n"
              "    private BuildInfo() {}\n\n"
              f"{fields}}}\n")
    (target / "BuildInfo.java").write_text(source, encoding="utf-8")
    print(f"generator: wrote {target / 'BuildInfo.java'}")
    probe()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
