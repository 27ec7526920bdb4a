// The program is not found in the sandbox's PATH, and the build's error says so.
def log = new File(basedir, 'build.log').text
assert log =~ /stockade: no-such-tool: command not found: no-such-tool \(PATH=[^)]*\/usr\/bin[^)]*\)/
return true
